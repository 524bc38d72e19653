"""Timeline events: who did what, when, what it was and what it became."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import insert as sql_insert

from .. import money
from ..extensions import db
from ..models import Event, Invoice, utcnow


def record(
    type: str,
    *,
    actor: str,
    invoice: Invoice | None = None,
    customer_id: int | None = None,
    subscription_id: int | None = None,
    organization_id: int | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Add an event to the current transaction and return it."""
    if invoice is not None:
        organization_id = invoice.organization_id
        customer_id = customer_id or invoice.customer_id
        subscription_id = subscription_id or invoice.subscription_id
    event = Event(
        type=type,
        actor=actor,
        invoice_id=invoice.id if invoice is not None else None,
        customer_id=customer_id,
        subscription_id=subscription_id,
        data=data or {},
    )
    if organization_id is not None:
        event.organization_id = organization_id
    db.session.add(event)
    return event


_INSERT = sql_insert(Event.__table__)


def insert(
    conn: Connection,
    type: str,
    *,
    actor: str,
    invoice: Any,
    data: dict[str, Any],
) -> None:
    """Write an invoice's event at once, with one INSERT on ``conn``.

    For hot paths that read the invoice as a row rather than an object
    (the webhook's payment): ``invoice`` needs ``id``, ``organization_id``,
    ``customer_id`` and ``subscription_id``.
    """
    conn.execute(
        _INSERT,
        {
            "type": type,
            "actor": actor,
            "at": utcnow(),
            "organization_id": invoice.organization_id,
            "invoice_id": invoice.id,
            "customer_id": invoice.customer_id,
            "subscription_id": invoice.subscription_id,
            "data": data,
        },
    )


def paid_event_data(
    amount: int, paid_at: datetime, method: str, data: dict[str, Any] | None
) -> dict[str, Any]:
    """Return the data of a ``payment.received`` event, whichever path paid."""
    return {
        "amount": money.to_api(amount),
        "method": method,
        "paid_at": paid_at.isoformat(),
        **(data or {}),
    }
