"""Negotiation: move a due date, split an invoice into an agreement, cancel,
resend the payment link.

Each action locks the invoice row (``SELECT ... FOR UPDATE`` on
PostgreSQL) and relies on the invoice's version column besides, so two
staff acting on the same invoice at once get one success and one
:class:`Conflict`; an invoice can also be split only once (unique
``agreements.original_invoice_id``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from .. import clock, fees, jobs, money, plugins, validation
from ..extensions import db
from ..hookspecs import InvoiceNotice, Message
from ..models import Agreement, Invoice, InvoiceStatus
from . import Conflict, NotFound, ValidationFailed
from .invoices import figures, new_invoice, payment_url, terms
from .timeline import record

log = logging.getLogger(__name__)

MAX_PARTS = 24
WAIVE_CHOICES = tuple(w.value for w in fees.Waive)


# --- reading and checking ----------------------------------------------------


def today_for(invoice: Invoice) -> date:
    return clock.today(invoice.organization.timezone)


def lock_invoice(invoice: Invoice | str) -> Invoice:
    """Reload the invoice with a row lock, fresh from the database."""
    public_id = invoice if isinstance(invoice, str) else invoice.public_id
    found = db.session.execute(
        select(Invoice)
        .where(Invoice.public_id == public_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("Cobrança não encontrada."))
    return found


def check_open(invoice: Invoice, expected_version: int | None = None) -> None:
    """Refuse paid and canceled invoices and edits made on a stale copy."""
    if invoice.status == InvoiceStatus.PAID:
        raise Conflict(
            _("Esta cobrança já foi paga e não pode mais ser alterada."),
            code="invoice_final",
        )
    if invoice.status == InvoiceStatus.CANCELED:
        raise Conflict(
            _("Esta cobrança está cancelada e não pode mais ser alterada."),
            code="invoice_final",
        )
    if expected_version is not None and expected_version != invoice.version:
        raise Conflict(
            _(
                "A cobrança foi alterada por outra pessoa enquanto você editava. "
                "Confira os novos valores e tente de novo."
            ),
            code="stale",
        )


def _commit() -> None:
    """Commit, turning a concurrent edit into a clear conflict."""
    try:
        db.session.commit()
    except (StaleDataError, IntegrityError) as exc:
        db.session.rollback()
        log.info("Negotiation: concurrent edit refused (%s)", type(exc).__name__)
        raise Conflict(
            _(
                "A cobrança foi alterada por outra pessoa ao mesmo tempo. "
                "Recarregue e confira."
            ),
            code="conflict",
        ) from exc


def parse_waive(value: object) -> fees.Waive:
    """Parse a waive choice (``none`` when missing); raises ``validation.Invalid``."""
    if value is None or value == "":
        return fees.Waive.NONE
    if isinstance(value, str) and value in WAIVE_CHOICES:
        return fees.Waive(value)
    raise validation.Invalid(_("Escolha o que isentar: none, fine, interest ou all."))


def parse_part_amount(value: object) -> int:
    """Parse a part's amount; ``"533.334"`` is three decimals, not thousands."""
    text = format(value, "f") if isinstance(value, Decimal) else value
    if isinstance(text, str) and re.fullmatch(r"\s*(R\$)?\s*\d+\.\d{3,}\s*", text):
        raise money.MoneyError(_("Use no máximo duas casas decimais."))
    return money.parse_amount(value)


def _new_date(value: object, today: date) -> date:
    if isinstance(value, date):
        day = value
    else:
        day = validation.iso_date(value)
    if day < today:
        raise validation.Invalid(_("A data deve ser hoje ou uma data futura."))
    return day


# --- reschedule ---------------------------------------------------------------


@dataclass(frozen=True)
class ReschedulePreview:
    """What moving the due date would do, before anything is saved."""

    old_due_date: date
    old_amount_due: int
    new_due_date: date
    fine: int
    interest: int
    waived_fine: int
    waived_interest: int
    fine_settled: bool
    principal: int

    @property
    def new_amount_due(self) -> int:
        return self.principal + self.fine + self.interest

    @property
    def waived(self) -> int:
        return self.waived_fine + self.waived_interest


def preview_reschedule(
    invoice: Invoice, new_due_date: date, waive: fees.Waive, today: date
) -> ReschedulePreview:
    """Work out the frozen charges and new total; changes nothing."""
    outcome = fees.reschedule(terms(invoice), new_due_date, waive)
    return ReschedulePreview(
        old_due_date=invoice.due_date,
        old_amount_due=figures(invoice, today).amount_due,
        new_due_date=new_due_date,
        fine=outcome.fine,
        interest=outcome.interest,
        waived_fine=outcome.waived_fine,
        waived_interest=outcome.waived_interest,
        fine_settled=outcome.fine_settled,
        principal=invoice.amount,
    )


def clean_reschedule(data: Mapping[str, Any], today: date) -> tuple[date, fees.Waive]:
    """Validate ``{due_date, waive?}``; raises :class:`ValidationFailed`."""
    fields: dict[str, str] = {}
    due_date = waive = None
    try:
        due_date = _new_date(data.get("due_date"), today)
    except validation.Invalid as exc:
        fields["due_date"] = str(exc)
    try:
        waive = parse_waive(data.get("waive"))
    except validation.Invalid as exc:
        fields["waive"] = str(exc)
    if fields or due_date is None or waive is None:
        raise ValidationFailed(_("Confira os campos destacados."), fields)
    return due_date, waive


def reschedule_invoice(
    invoice: Invoice | str,
    data: Mapping[str, Any],
    *,
    actor: str,
    expected_version: int | None = None,
) -> Invoice:
    """Move the due date, freezing the charges accrued by then less waivers."""
    invoice = lock_invoice(invoice)
    check_open(invoice, expected_version)
    today = today_for(invoice)
    new_date, waive = clean_reschedule(data, today)
    preview = preview_reschedule(invoice, new_date, waive, today)

    invoice.due_date = new_date
    invoice.frozen_fine = preview.fine
    invoice.frozen_interest = preview.interest
    invoice.fine_settled = preview.fine_settled
    db.session.flush()
    change = {
        "old_due_date": preview.old_due_date.isoformat(),
        "new_due_date": new_date.isoformat(),
        "old_amount_due": money.to_api(preview.old_amount_due),
        "new_amount_due": money.to_api(preview.new_amount_due),
        "fine": money.to_api(preview.fine),
        "interest": money.to_api(preview.interest),
        "waive": waive.value,
        "waived_fine": money.to_api(preview.waived_fine),
        "waived_interest": money.to_api(preview.waived_interest),
    }
    record("invoice.rescheduled", actor=actor, invoice=invoice, data=change)
    if preview.waived:
        record(
            "fees.waived",
            actor=actor,
            invoice=invoice,
            data={
                "waive": waive.value,
                "fine": money.to_api(preview.waived_fine),
                "interest": money.to_api(preview.waived_interest),
                "context": "reschedule",
            },
        )
    jobs.enqueue_after_commit("charge.update", invoice_id=invoice.id)
    jobs.enqueue_after_commit(
        "negotiation.notify_rescheduled", invoice_id=invoice.id, data=change
    )
    _commit()
    log.info("Invoice %s: rescheduled to %s by %s", invoice.public_id, new_date, actor)
    return invoice


# --- agreements ---------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    amount: int
    due_date: date


def outstanding(invoice: Invoice, waive: fees.Waive, today: date) -> fees.Outstanding:
    """What the customer owes today, less waivers: the agreement's total."""
    return fees.outstanding(terms(invoice), today, waive)


def plan_parts(
    total: int, count: int, first_due_date: date, interval_days: int | None = None
) -> list[Part]:
    """An even split at monthly (or ``interval_days``) intervals."""
    amounts = fees.split_evenly(total, count)
    dates = fees.installment_dates(first_due_date, count, interval_days)
    return [Part(a, d) for a, d in zip(amounts, dates, strict=True)]


def _count(value: object, field: str, fields: dict[str, str]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        fields[field] = _("Informe um número inteiro.")
        return None
    text = str(value).strip()
    if not text.isdigit():
        fields[field] = _("Informe um número inteiro.")
        return None
    return int(text)


def clean_agreement(
    data: Mapping[str, Any], invoice: Invoice, today: date
) -> tuple[list[Part], fees.Waive, fees.Outstanding]:
    """Validate an agreement request (explicit parts or installments).

    Raises :class:`ValidationFailed` naming each bad field: ``parts``,
    ``parts[i].amount``, ``parts[i].due_date``, ``installments``,
    ``first_due_date``, ``interval_days``, ``waive``.
    """
    fields: dict[str, str] = {}
    try:
        waive = parse_waive(data.get("waive"))
    except validation.Invalid as exc:
        fields["waive"] = str(exc)
        waive = fees.Waive.NONE
    owed = outstanding(invoice, waive, today)
    parts: list[Part] = []

    raw_parts = data.get("parts")
    if raw_parts is not None:
        if not isinstance(raw_parts, list) or not raw_parts:
            fields["parts"] = _("Informe ao menos uma parcela.")
        elif len(raw_parts) > MAX_PARTS:
            fields["parts"] = _("No máximo %(max)s parcelas.", max=MAX_PARTS)
        else:
            for index, raw in enumerate(raw_parts):
                prefix = f"parts[{index}]"
                if not isinstance(raw, Mapping):
                    fields[prefix] = _("Cada parcela tem valor e vencimento.")
                    continue
                amount = day = None
                try:
                    amount = parse_part_amount(raw.get("amount"))
                except money.MoneyError as exc:
                    fields[f"{prefix}.amount"] = str(exc)
                try:
                    day = _new_date(raw.get("due_date"), today)
                except validation.Invalid as exc:
                    fields[f"{prefix}.due_date"] = str(exc)
                if amount is not None and day is not None:
                    parts.append(Part(amount, day))
    elif data.get("installments") is not None:
        count = _count(data.get("installments"), "installments", fields)
        if count is not None and not 1 <= count <= MAX_PARTS:
            fields["installments"] = _(
                "Informe de 1 a %(max)s parcelas.", max=MAX_PARTS
            )
        first = None
        try:
            first = _new_date(data.get("first_due_date"), today)
        except validation.Invalid as exc:
            fields["first_due_date"] = str(exc)
        interval = None
        if data.get("interval_days") is not None:
            interval = _count(data.get("interval_days"), "interval_days", fields)
            if interval is not None and not 1 <= interval <= 366:
                fields["interval_days"] = _("Informe de 1 a 366 dias.")
        if not fields and count and first:
            if owed.total < count:
                fields["installments"] = _("Parcelas demais para o valor em aberto.")
            else:
                parts = plan_parts(owed.total, count, first, interval)
    else:
        fields["parts"] = _("Informe as parcelas ou o número de parcelas.")

    if not fields:
        total = sum(part.amount for part in parts)
        if total != owed.total:
            fields["parts"] = _(
                "As parcelas somam %(sum)s, mas o valor em aberto é %(total)s.",
                sum=money.format_brl(total),
                total=money.format_brl(owed.total),
            )
    if fields:
        raise ValidationFailed(_("Confira os campos destacados."), fields)
    return parts, waive, owed


def part_title(number: int, count: int, description: str) -> str:
    title = _(
        "Acordo Parte %(n)s/%(count)s — %(description)s",
        n=number,
        count=count,
        description=description,
    )
    return title[:500]


def make_agreement(
    invoice: Invoice | str,
    data: Mapping[str, Any],
    *,
    actor: str,
    expected_version: int | None = None,
) -> Agreement:
    """Cancel the invoice and replace it by parts adding up to what is owed."""
    invoice = lock_invoice(invoice)
    check_open(invoice, expected_version)
    today = today_for(invoice)
    parts, waive, owed = clean_agreement(data, invoice, today)

    agreement = Agreement(
        organization_id=invoice.organization_id,
        original_invoice_id=invoice.id,
        parts_count=len(parts),
        total=owed.total,
        waive=waive.value,
        waived_fine=owed.waived_fine,
        waived_interest=owed.waived_interest,
        created_by=actor,
    )
    db.session.add(agreement)
    # The original changes first: a concurrent editor's version check (or
    # the unique original_invoice_id) stops here, before any part exists.
    invoice.status = InvoiceStatus.CANCELED
    invoice.cancel_reason = "agreement"
    invoice.frozen_fine = owed.fine
    invoice.frozen_interest = owed.interest
    invoice.fine_settled = True
    try:
        db.session.flush()
    except (StaleDataError, IntegrityError):
        _commit_failed()
    invoice.replaced_by_agreement_id = agreement.id

    created = []
    for number, part in enumerate(parts, start=1):
        created.append(
            new_invoice(
                organization=invoice.organization,
                customer=invoice.customer,
                amount=part.amount,
                due_date=part.due_date,
                description=part_title(number, len(parts), invoice.description),
                fine_bp=invoice.fine_bp,
                interest_bp=invoice.interest_bp,
                actor=actor,
                agreement_id=agreement.id,
                event_data={
                    "agreement_id": agreement.public_id,
                    "original_invoice_id": invoice.public_id,
                    "part": number,
                    "parts": len(parts),
                },
            )
        )
    record(
        "agreement.created",
        actor=actor,
        invoice=invoice,
        data={
            "agreement_id": agreement.public_id,
            "total": money.to_api(owed.total),
            "waive": waive.value,
            "parts": [
                {
                    "invoice_id": part.public_id,
                    "number": part.number,
                    "amount": money.to_api(part.amount),
                    "due_date": part.due_date.isoformat(),
                }
                for part in created
            ],
        },
    )
    if owed.waived:
        record(
            "fees.waived",
            actor=actor,
            invoice=invoice,
            data={
                "waive": waive.value,
                "fine": money.to_api(owed.waived_fine),
                "interest": money.to_api(owed.waived_interest),
                "context": "agreement",
            },
        )
    record(
        "invoice.canceled",
        actor=actor,
        invoice=invoice,
        data={"reason": "agreement", "agreement_id": agreement.public_id},
    )
    jobs.enqueue_after_commit("charge.cancel", invoice_id=invoice.id)
    jobs.enqueue_after_commit(
        "negotiation.notify_canceled", invoice_id=invoice.id, reason="agreement"
    )
    _commit()
    log.info(
        "Invoice %s: split into %s parts (%s) by %s",
        invoice.public_id,
        len(parts),
        agreement.public_id,
        actor,
    )
    return agreement


def _commit_failed() -> None:
    db.session.rollback()
    raise Conflict(
        _(
            "A cobrança foi alterada por outra pessoa ao mesmo tempo. "
            "Recarregue e confira."
        ),
        code="conflict",
    )


def agreement_parts(agreement_id: int) -> list[Invoice]:
    """The invoices of an agreement, part 1 first."""
    return list(
        db.session.execute(
            select(Invoice)
            .where(Invoice.agreement_id == agreement_id)
            .order_by(Invoice.number, Invoice.id)
        ).scalars()
    )


# --- cancel -------------------------------------------------------------------


def clean_reason(value: object, *, required: bool = False) -> str | None:
    try:
        text = validation.text(
            value, required=required, max_length=500, label=_("o motivo")
        )
    except validation.Invalid as exc:
        raise ValidationFailed(
            _("Confira os campos destacados."), {"reason": str(exc)}
        ) from exc
    return text or None


def cancel_invoice(
    invoice: Invoice | str,
    reason: object = None,
    *,
    actor: str,
    expected_version: int | None = None,
    reason_required: bool = False,
) -> Invoice:
    """Cancel an unpaid invoice, keeping why."""
    invoice = lock_invoice(invoice)
    check_open(invoice, expected_version)
    text = clean_reason(reason, required=reason_required)
    invoice.status = InvoiceStatus.CANCELED
    invoice.cancel_reason = text
    db.session.flush()
    record("invoice.canceled", actor=actor, invoice=invoice, data={"reason": text})
    jobs.enqueue_after_commit("charge.cancel", invoice_id=invoice.id)
    jobs.enqueue_after_commit(
        "negotiation.notify_canceled", invoice_id=invoice.id, reason=text
    )
    _commit()
    log.info("Invoice %s: canceled by %s", invoice.public_id, actor)
    return invoice


# --- resend -------------------------------------------------------------------


def contact_channels(invoice: Invoice) -> list[tuple[str, str]]:
    customer = invoice.customer
    channels = []
    if customer.email:
        channels.append(("email", customer.email))
    if customer.phone:
        channels.append(("sms", customer.phone))
    return channels


def resend_link(invoice: Invoice | str, *, actor: str) -> Invoice:
    """Send the payment link again on the configured notifiers."""
    invoice = lock_invoice(invoice)
    check_open(invoice)
    channels = contact_channels(invoice)
    if not channels:
        raise Conflict(
            _("O cliente não tem e-mail nem telefone para receber o link."),
            code="no_contact",
        )
    event = record(
        "link.resent",
        actor=actor,
        invoice=invoice,
        data={
            "channels": [name for name, _to in channels],
            "to": [to for _name, to in channels],
            "url": payment_url(invoice),
        },
    )
    db.session.flush()
    jobs.enqueue_after_commit(
        "negotiation.resend_link", invoice_id=invoice.id, event_id=event.id
    )
    _commit()
    return invoice


def link_message(invoice: Invoice, channel: str, to: str, key: str) -> Message:
    """The reminder a customer receives when staff resend the link."""
    numbers = figures(invoice)
    amount = money.format_brl(numbers.amount_due)
    day = money.format_day(invoice.due_date)
    subject = _(
        "%(org)s: sua cobrança de %(amount)s",
        org=invoice.organization.name,
        amount=amount,
    )
    text = _(
        "Olá, %(name)s. Segue o link para pagar %(description)s: %(amount)s "
        "com vencimento em %(day)s. %(url)s",
        name=invoice.customer.name,
        description=invoice.description,
        amount=amount,
        day=day,
        url=payment_url(invoice),
    )
    return Message(
        channel=channel,
        to=to,
        subject=subject,
        text=text,
        organization_id=invoice.organization_id,
        invoice_id=invoice.public_id,
        idempotency_key=key,
    )


@jobs.job("negotiation.resend_link")
def send_link(invoice_id: int, event_id: int) -> None:
    """Hand the payment link to the notifiers, one message per channel."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        return
    for channel, to in contact_channels(invoice):
        message = link_message(invoice, channel, to, f"resend:{event_id}:{channel}")
        results = plugins.hook().agnozys_send_message(message=message)
        log.info(
            "Invoice %s: link resent on %s (%s notifier(s))",
            invoice.public_id,
            channel,
            len(results or []),
        )


def notice(invoice: Invoice, data: dict[str, Any]) -> InvoiceNotice:
    numbers = figures(invoice)
    return InvoiceNotice(
        invoice_id=invoice.public_id,
        organization_id=invoice.organization_id,
        status=numbers.status,
        amount_due=numbers.amount_due,
        due_date=invoice.due_date,
        data=data,
    )


@jobs.job("negotiation.notify_rescheduled")
def notify_rescheduled(invoice_id: int, data: dict[str, Any]) -> None:
    """Tell listener plugins an invoice's due date moved."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is not None:
        plugins.hook().agnozys_invoice_rescheduled(notice=notice(invoice, data))


@jobs.job("negotiation.notify_canceled")
def notify_canceled(invoice_id: int, reason: str | None) -> None:
    """Tell listener plugins an invoice was canceled."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is not None:
        plugins.hook().agnozys_invoice_canceled(
            notice=notice(invoice, {"reason": reason})
        )


# --- organization rates ---------------------------------------------------------

CONSUMER_FINE_CAP_BP = 200


def update_rates(organization: Any, data: Mapping[str, Any], *, actor: str) -> bool:
    """Set the organization's fine and monthly interest; True when the fine
    is above the 2% consumer cap (allowed between businesses, so only warned).
    """
    fields: dict[str, str] = {}
    rates: dict[str, int] = {}
    for name in ("fine_percent", "interest_percent"):
        raw = data.get(name)
        if raw is None or str(raw).strip() == "":
            fields[name] = _("Informe a taxa.")
            continue
        try:
            rates[name] = money.parse_rate(raw)
        except money.MoneyError as exc:
            fields[name] = str(exc)
    if fields:
        raise ValidationFailed(_("Confira os campos destacados."), fields)
    organization.fine_bp = rates["fine_percent"]
    organization.interest_bp = rates["interest_percent"]
    db.session.commit()
    log.info(
        "Organization %s: rates set to fine %s bp, interest %s bp by %s",
        organization.id,
        organization.fine_bp,
        organization.interest_bp,
        actor,
    )
    return organization.fine_bp > CONSUMER_FINE_CAP_BP
