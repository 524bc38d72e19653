"""Payments: the single place where an invoice becomes paid.

A gateway event goes through :func:`record_payment` in one transaction:
lock the invoice, decide whether the payment settles it, insert the
payment (a unique key on ``(gateway, event_id)`` makes the same event
twice one payment) and mark the invoice paid. Payments that do not fit
are kept and flagged for staff, never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import clock, fees, jobs, money, plugins
from ..extensions import db
from ..hookspecs import InvoiceNotice, PaymentEvent, WebhookRequest
from ..models import Invoice, InvoiceStatus, Organization, public_id, utcnow
from ..models.payments import FlagReason, Payment, PaymentStatus
from . import Conflict, NotFound, ValidationFailed, on_time, timeline
from .invoices import figures, terms
from .timeline import record

log = logging.getLogger(__name__)

#: Called as ``handler(invoice)`` by the ``invoice.paid`` job, after the
#: listener hook, inside an app context with no tenant scope. Each must be
#: safe to run twice and commit its own work. Other areas append here
#: (the subscriptions area reactivates suspended subscriptions).
PAID_HANDLERS: list[Callable[[Invoice], Any]] = []

FLAG_LABELS = {
    FlagReason.INVOICE_CANCELED: _l("Cobrança cancelada"),
    FlagReason.INVOICE_PAID: _l("Cobrança já paga"),
    FlagReason.UNKNOWN_CHARGE: _l("Cobrança desconhecida"),
    FlagReason.WRONG_AMOUNT: _l("Valor diferente do devido"),
}


def flag_label(reason: FlagReason | str | None) -> str:
    """Return the Portuguese label of a flag reason."""
    if reason is None:
        return ""
    return str(FLAG_LABELS.get(FlagReason(reason), reason))


def paid_values(
    terms: fees.Terms, timezone: str, *, amount: int, paid_at: datetime, method: str
) -> dict[str, Any]:
    """Return the columns that mark an open invoice paid.

    The late charges owed on the payment day are frozen into the invoice,
    so a paid invoice always shows what was paid and why.
    """
    day = clock.local(paid_at, timezone).date()
    charges = fees.charges_on(terms, day)
    return {
        "frozen_fine": charges.fine,
        "frozen_interest": charges.interest,
        "fine_settled": True,
        "status": InvoiceStatus.PAID,
        "paid_at": paid_at,
        "paid_amount": amount,
        "payment_method": method,
    }


_INVOICES = Invoice.__table__
_LOCKED_COLUMNS = [
    _INVOICES.c[name]
    for name in (
        "id",
        "organization_id",
        "public_id",
        "customer_id",
        "subscription_id",
        "status",
        "amount",
        "fine_bp",
        "interest_bp",
        "frozen_fine",
        "frozen_interest",
        "fine_settled",
        "due_date",
        "version",
    )
]


# Built once: the hot path only binds values.
_LOCK_INVOICE = (
    select(*_LOCKED_COLUMNS, Organization.__table__.c.timezone)
    .join(
        Organization.__table__,
        Organization.__table__.c.id == _INVOICES.c.organization_id,
    )
    .where(_INVOICES.c.gateway_charge_id == bindparam("charge_id"))
    .with_for_update(of=_INVOICES)
)
_SETTLE_INVOICE = update(_INVOICES).where(
    _INVOICES.c.id == bindparam("invoice_id"),
    _INVOICES.c.version == bindparam("read_version"),
)
_INSERT_PAYMENT = {
    name: insert(Payment.__table__)
    .on_conflict_do_nothing(index_elements=["gateway", "event_id"])
    .returning(Payment.__table__.c.id)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def record_payment(event: PaymentEvent) -> tuple[Payment, bool]:
    """Record a gateway's payment event and settle its invoice; commits.

    Returns the payment and whether it is new (False when the same event
    was already recorded, in which case nothing changes).

    This is the webhook's hot path. A payment that arrives by its due date
    for the exact amount is settled by one statement on PostgreSQL
    (:mod:`.on_time`). Everything else speaks SQL through the session's
    connection instead of the unit of work: one locking read, one INSERT
    of the payment, and for a payment that settles its invoice one UPDATE
    and two INSERTs (timeline event, ``invoice.paid`` job), then COMMIT.
    """
    payment = on_time.settle(event)
    if payment is not None:
        return payment, True
    for _attempt in range(3):
        result = _record_once(event)
        if result is not None:
            return result
        # SQLite has no row locks: another payment settled the invoice
        # between our read and our write. Read it again (now paid: flagged).
        db.session.rollback()
    raise Conflict(_("A cobrança mudou durante o pagamento."), "version_conflict")


def _record_once(event: PaymentEvent) -> tuple[Payment, bool] | None:
    conn = db.session.connection()
    invoice = conn.execute(_LOCK_INVOICE, {"charge_id": event.charge_id}).one_or_none()

    reason: FlagReason | None = None
    expected: int | None = None
    if invoice is None:
        reason = FlagReason.UNKNOWN_CHARGE
    elif invoice.status == InvoiceStatus.CANCELED:
        reason = FlagReason.INVOICE_CANCELED
    elif invoice.status == InvoiceStatus.PAID:
        reason = FlagReason.INVOICE_PAID
    else:
        day = clock.local(event.paid_at, invoice.timezone).date()
        expected = invoice.amount + fees.charges_on(terms(invoice), day).total
        if event.amount != expected:
            reason = FlagReason.WRONG_AMOUNT

    values = {
        "public_id": public_id(Payment.PREFIX),
        "organization_id": invoice.organization_id if invoice else None,
        "gateway": event.gateway,
        "event_id": event.event_id,
        "charge_id": event.charge_id,
        "invoice_id": invoice.id if invoice else None,
        "amount": event.amount,
        "expected_amount": expected,
        "method": event.gateway,
        "paid_at": event.paid_at,
        "received_at": utcnow(),
        "status": PaymentStatus.FLAGGED if reason else PaymentStatus.CONFIRMED,
        "flag_reason": reason,
        "raw": event.raw,
    }
    payment_id = _insert_once(conn, values)
    if payment_id is None:
        db.session.rollback()
        existing = db.session.execute(
            select(Payment)
            .where(Payment.gateway == event.gateway, Payment.event_id == event.event_id)
            .execution_options(agnozys_unscoped=True)
        ).scalar_one()
        log.info(
            "Payment event %s/%s: duplicate, ignored", event.gateway, event.event_id
        )
        return existing, False

    # What was just inserted, without reading it back.
    payment = Payment(id=payment_id, **values)
    actor = f"gateway:{event.gateway}"
    if invoice is None:
        log.warning(
            "Payment event %s/%s: unknown charge %s, flagged",
            event.gateway,
            event.event_id,
            event.charge_id,
        )
    elif reason is not None:
        timeline.insert(
            conn,
            "payment.flagged",
            actor=actor,
            invoice=invoice,
            data={
                "payment_id": payment.public_id,
                "reason": reason.value,
                "amount": money.to_api(event.amount),
                **({"expected": money.to_api(expected)} if expected else {}),
            },
        )
        log.warning(
            "Invoice %s: payment %s flagged (%s)",
            invoice.public_id,
            payment.public_id,
            reason.value,
        )
    else:
        settled = conn.execute(
            _SETTLE_INVOICE,
            {
                **paid_values(
                    terms(invoice),
                    invoice.timezone,
                    amount=event.amount,
                    paid_at=event.paid_at,
                    method=event.gateway,
                ),
                "version": invoice.version + 1,
                "updated_at": utcnow(),
                "invoice_id": invoice.id,
                "read_version": invoice.version,
            },
        )
        if settled.rowcount != 1:
            return None
        timeline.insert(
            conn,
            "payment.received",
            actor=actor,
            invoice=invoice,
            data=timeline.paid_event_data(
                event.amount,
                event.paid_at,
                event.gateway,
                {"payment_id": payment.public_id, "event_id": event.event_id},
            ),
        )
        jobs.enqueue_after_commit("invoice.paid", invoice_id=invoice.id)
        log.info(
            "Invoice %s: paid %s by %s", invoice.public_id, event.amount, event.gateway
        )
    db.session.commit()
    return payment, True


def receive_webhook(request: WebhookRequest) -> list[tuple[Payment, bool]]:
    """Let the gateway plugin verify and read a webhook, then record it.

    Raises :class:`~agnozys.plugins.WebhookRejected` for a bad signature or
    body, and :class:`NotFound` when no active gateway answers to
    ``request.gateway``. Each event commits on its own.
    """
    events = plugins.hook().agnozys_gateway_parse_webhook(request=request)
    if events is None:
        raise NotFound(_("Gateway desconhecido."))
    return [record_payment(event) for event in events]


def _insert_once(conn: Connection, values: dict[str, Any]) -> int | None:
    """INSERT the payment unless its event is known; return its id or None."""
    row = conn.execute(_INSERT_PAYMENT[conn.dialect.name], values).first()
    return None if row is None else int(row[0])


def mark_paid(
    invoice: Invoice,
    *,
    amount: int,
    paid_at: datetime,
    method: str,
    actor: str,
    data: dict[str, Any] | None = None,
) -> None:
    """Mark a locked, open invoice paid in the current transaction (no commit).

    The ORM counterpart of the webhook's path in :func:`record_payment`,
    for callers that hold the invoice (an accepted comprovante).
    """
    if invoice.is_final():
        message = _("Esta cobrança já está paga ou cancelada.")
        raise Conflict(message, "invoice_final")
    values = paid_values(
        terms(invoice),
        invoice.organization.timezone,
        amount=amount,
        paid_at=paid_at,
        method=method,
    )
    for column, value in values.items():
        setattr(invoice, column, value)
    record(
        "payment.received",
        actor=actor,
        invoice=invoice,
        data=timeline.paid_event_data(amount, paid_at, method, data),
    )
    jobs.enqueue_after_commit("invoice.paid", invoice_id=invoice.id)
    log.info("Invoice %s: paid %s by %s", invoice.public_id, amount, method)


def notice(invoice: Invoice, **data: Any) -> InvoiceNotice:
    """Describe an invoice to listener plugins."""
    return InvoiceNotice(
        invoice_id=invoice.public_id,
        organization_id=invoice.organization_id,
        status=invoice.display_status(clock.today(invoice.organization.timezone)),
        amount_due=figures(invoice).amount_due,
        due_date=invoice.due_date,
        data=data,
    )


@jobs.job("invoice.paid")
def invoice_paid(invoice_id: int) -> None:
    """Tell listener plugins and :data:`PAID_HANDLERS` an invoice was paid."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.status != InvoiceStatus.PAID:
        return
    try:
        plugins.hook().agnozys_invoice_paid(
            notice=notice(
                invoice,
                paid_at=invoice.paid_at.isoformat() if invoice.paid_at else None,
                paid_amount=invoice.paid_amount,
                method=invoice.payment_method,
            )
        )
    except Exception:
        # A listener's failure must not keep the handlers below (such as
        # reactivating a suspended subscription) from running.
        db.session.rollback()
        log.error("Invoice %s: paid listener failed", invoice.public_id, exc_info=True)
    for handler in PAID_HANDLERS:
        try:
            handler(invoice)
        except Exception:
            db.session.rollback()
            log.error(
                "Invoice %s: paid handler %s failed",
                invoice.public_id,
                getattr(handler, "__name__", handler),
                exc_info=True,
            )


# --- flagged payments ---------------------------------------------------------

RESOLUTIONS = ("refund", "credit")


def flagged_payments() -> list[Payment]:
    """Return the current organization's flagged payments, newest first."""
    return list(
        db.session.execute(
            select(Payment)
            .where(Payment.status == PaymentStatus.FLAGGED)
            .order_by(Payment.id.desc())
        ).scalars()
    )


def resolve_payment(
    public_id: str, *, resolution: str, note: str, actor: str
) -> Payment:
    """Mark a flagged payment dealt with (refunded or credited); commits."""
    if resolution not in RESOLUTIONS:
        raise ValidationFailed(
            _("Confira os campos destacados."),
            {"resolution": _("Escolha estorno ou crédito.")},
        )
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationFailed(
            _("Confira os campos destacados."), {"note": _("Longo demais.")}
        )
    payment = db.session.execute(
        select(Payment).where(Payment.public_id == public_id).with_for_update()
    ).scalar_one_or_none()
    if payment is None:
        raise NotFound(_("Pagamento não encontrado."))
    if payment.status != PaymentStatus.FLAGGED:
        raise Conflict(_("Este pagamento já foi conciliado."), "already_resolved")
    payment.status = PaymentStatus.RESOLVED
    payment.resolution = resolution
    payment.resolution_note = note or None
    payment.resolved_by = actor
    payment.resolved_at = utcnow()
    if payment.invoice is not None:
        record(
            "payment.resolved",
            actor=actor,
            invoice=payment.invoice,
            data={
                "payment_id": payment.public_id,
                "resolution": resolution,
                "note": note,
            },
        )
    db.session.commit()
    return payment
