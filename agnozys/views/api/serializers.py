"""The JSON shapes of API.md, one function per resource.

Every area that answers with an invoice uses :func:`invoice_json`, so the
shape cannot drift between routes. Ids are the rows' public ids, money is
``"1234.56"``, days are ``YYYY-MM-DD`` and moments ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from ... import clock, models, money
from ...extensions import db
from ...models import Customer, Event, Invoice
from ...services import invoices as invoice_service


def iso_moment(moment: datetime | None) -> str | None:
    """Return ``2026-01-30T12:00:00Z`` (UTC, seconds), or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def customer_json(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.public_id,
        "name": customer.name,
        "email": customer.email,
        "phone": customer.phone,
        "document": customer.document,
        "external_id": customer.external_id,
    }


def _public_id_of(model_name: str, pk: int | None) -> str | None:
    """Return the public id of row ``pk`` of a model, or None.

    Models of areas still being built may not exist yet; their ids read
    as null until they do.
    """
    model = getattr(models, model_name, None)
    if pk is None or model is None:
        return None
    found = db.session.execute(
        select(model.public_id).where(model.id == pk)
    ).scalar_one_or_none()
    return str(found) if found is not None else None


def _replaced_by(invoice: Invoice) -> list[str]:
    """Return the public ids of the agreement parts that replaced the invoice."""
    if invoice.replaced_by_agreement_id is None:
        return []
    parts = db.session.execute(
        select(Invoice.public_id)
        .where(Invoice.agreement_id == invoice.replaced_by_agreement_id)
        .order_by(Invoice.due_date, Invoice.id)
    ).scalars()
    return list(parts)


def invoice_json(invoice: Invoice, today: date | None = None) -> dict[str, Any]:
    """Return the invoice as API.md shows it, with figures as of ``today``.

    ``today`` defaults to today in the organization's time zone; pass it
    when serializing many invoices of one organization.
    """
    if today is None:
        today = clock.today(invoice.organization.timezone)
    figures = invoice_service.figures(invoice, today)
    return {
        "id": invoice.public_id,
        "number": invoice.number,
        "customer_id": invoice.customer.public_id,
        "subscription_id": _public_id_of("Subscription", invoice.subscription_id),
        "description": invoice.description,
        "status": figures.status,
        "amount": money.to_api(invoice.amount),
        "fine": money.to_api(figures.fine),
        "interest": money.to_api(figures.interest),
        "amount_due": money.to_api(figures.amount_due),
        "due_date": invoice.due_date.isoformat(),
        "original_due_date": invoice.original_due_date.isoformat(),
        "payment_url": invoice_service.payment_url(invoice),
        "gateway_charge_id": invoice.gateway_charge_id,
        "agreement_id": _public_id_of("Agreement", invoice.agreement_id),
        "replaced_by": _replaced_by(invoice),
        "paid_at": iso_moment(invoice.paid_at),
    }


def event_json(event: Event) -> dict[str, Any]:
    return {
        "type": event.type,
        "at": iso_moment(event.at),
        "actor": event.actor,
        "data": event.data or {},
    }
