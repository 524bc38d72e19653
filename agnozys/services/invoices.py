"""Create invoices and work out what each one owes today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Row, select, update

from .. import clock, fees, jobs, money, validation
from ..extensions import db
from ..models import Customer, Invoice, InvoiceStatus, Organization
from . import NotFound, ValidationFailed, find_referenced
from .timeline import record


@dataclass(frozen=True)
class Figures:
    """An invoice as of one day: its status and what paying then costs."""

    status: str
    fine: int
    interest: int
    amount_due: int


def terms(invoice: Invoice | Row[*tuple[Any, ...]]) -> fees.Terms:
    """The late-charge terms of an invoice, or of a row with its columns."""
    return fees.Terms(
        principal=invoice.amount,
        fine_bp=invoice.fine_bp,
        interest_bp=invoice.interest_bp,
        due_date=invoice.due_date,
        frozen_fine=invoice.frozen_fine,
        frozen_interest=invoice.frozen_interest,
        fine_settled=invoice.fine_settled,
    )


def figures(invoice: Invoice, today: date | None = None) -> Figures:
    """Return the invoice's status and amounts if paid on ``today``.

    Paid and canceled invoices keep the charges frozen into them; pending
    and overdue ones add what runs until ``today``.
    """
    if today is None:
        today = clock.today(invoice.organization.timezone)
    status = invoice.display_status(today)
    if invoice.is_final():
        fine, interest = invoice.frozen_fine, invoice.frozen_interest
        if invoice.status == InvoiceStatus.PAID and invoice.paid_amount:
            extra = invoice.paid_amount - invoice.amount - fine - interest
            interest += max(extra, 0)
    else:
        charges = fees.charges_on(terms(invoice), today)
        fine, interest = charges.fine, charges.interest
    return Figures(status, fine, interest, invoice.amount + fine + interest)


def payment_url(invoice: Invoice) -> str:
    base = current_app.config["AGNOZYS_BASE_URL"].rstrip("/")
    return f"{base}/pay/{invoice.payment_token}"


def next_number(organization_id: int) -> int:
    """Take the organization's next invoice number (atomic, row-locking)."""
    result = db.session.execute(
        update(Organization)
        .where(Organization.id == organization_id)
        .values(invoice_seq=Organization.invoice_seq + 1)
        .returning(Organization.invoice_seq)
    )
    return int(result.scalar_one())


def clean_new_invoice(
    data: dict[str, Any], organization: Organization
) -> dict[str, Any]:
    """Validate the fields of a new invoice; raises :class:`ValidationFailed`."""
    fields: dict[str, str] = {}
    values: dict[str, Any] = {}

    customer = find_referenced(
        Customer,
        data,
        "customer_id",
        fields,
        missing=_("Informe o cliente."),
        unknown=_("Cliente não encontrado."),
    )
    if customer is not None:
        values["customer"] = customer

    try:
        values["amount"] = money.parse_amount(data.get("amount"))
    except money.MoneyError as exc:
        fields["amount"] = str(exc)

    try:
        values["due_date"] = validation.iso_date(data.get("due_date"))
    except validation.Invalid as exc:
        fields["due_date"] = str(exc)

    try:
        values["description"] = validation.text(
            data.get("description"),
            required=False,
            max_length=500,
            label=_("a descrição"),
        )
    except validation.Invalid as exc:
        fields["description"] = str(exc)

    for name, default in (
        ("fine_percent", organization.fine_bp),
        ("interest_percent", organization.interest_bp),
    ):
        raw = data.get(name)
        if raw is None or raw == "":
            values[name] = default
            continue
        try:
            values[name] = money.parse_rate(raw)
        except money.MoneyError as exc:
            fields[name] = str(exc)

    if fields:
        raise ValidationFailed(_("Confira os campos destacados."), fields)
    return values


def create_invoice(
    data: dict[str, Any], *, organization: Organization, actor: str
) -> Invoice:
    """Create a one-off invoice, record it and ask the gateway for a charge."""
    values = clean_new_invoice(data, organization)
    invoice = new_invoice(
        organization=organization,
        customer=values["customer"],
        amount=values["amount"],
        due_date=values["due_date"],
        description=values["description"] or _("Cobrança avulsa"),
        fine_bp=values["fine_percent"],
        interest_bp=values["interest_percent"],
        actor=actor,
    )
    db.session.commit()
    return invoice


def new_invoice(
    *,
    organization: Organization,
    customer: Customer,
    amount: int,
    due_date: date,
    description: str,
    fine_bp: int,
    interest_bp: int,
    actor: str,
    subscription_id: int | None = None,
    agreement_id: int | None = None,
    event_data: dict[str, Any] | None = None,
) -> Invoice:
    """Add an invoice to the current transaction (no commit).

    Shared by one-off invoices, agreement parts and subscription periods.
    """
    invoice = Invoice(
        organization_id=organization.id,
        number=next_number(organization.id),
        customer=customer,
        subscription_id=subscription_id,
        agreement_id=agreement_id,
        description=description,
        amount=amount,
        fine_bp=fine_bp,
        interest_bp=interest_bp,
        due_date=due_date,
        original_due_date=due_date,
        status=InvoiceStatus.PENDING,
    )
    db.session.add(invoice)
    db.session.flush()
    record(
        "invoice.created",
        actor=actor,
        invoice=invoice,
        data={
            "amount": money.to_api(amount),
            "due_date": due_date.isoformat(),
            **(event_data or {}),
        },
    )
    jobs.enqueue_after_commit("charge.create", invoice_id=invoice.id)
    return invoice


def get_invoice(public_id: str) -> Invoice:
    invoice = db.session.execute(
        select(Invoice).where(Invoice.public_id == public_id)
    ).scalar_one_or_none()
    if invoice is None:
        raise NotFound(_("Cobrança não encontrada."))
    return invoice
