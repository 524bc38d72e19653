"""Gateway charges, made by jobs after the invoice's transaction commits."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import update

from .. import jobs, plugins
from ..extensions import db
from ..hookspecs import ChargeRequest
from ..models import Invoice
from .invoices import figures, payment_url

log = logging.getLogger(__name__)

# Waits between attempts of a gateway call that failed; past the last one
# the failure is logged as an error for someone to look at.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
)


def retried(name: str) -> Callable[[Callable[[int], None]], Callable[..., None]]:
    """Re-enqueue job ``name`` with backoff when its gateway call raises."""

    def decorate(func: Callable[[int], None]) -> Callable[..., None]:
        @functools.wraps(func)
        def run(invoice_id: int, attempt: int = 0) -> None:
            try:
                func(invoice_id)
            except Exception:
                db.session.rollback()
                if attempt >= len(RETRY_DELAYS):
                    log.error(
                        "Invoice %s: %s gave up after %d attempts",
                        invoice_id,
                        name,
                        attempt + 1,
                        exc_info=True,
                    )
                    raise
                log.warning(
                    "Invoice %s: %s failed (attempt %d), retrying in %s",
                    invoice_id,
                    name,
                    attempt + 1,
                    RETRY_DELAYS[attempt],
                    exc_info=True,
                )
                jobs.enqueue_after_commit(
                    name,
                    delay=RETRY_DELAYS[attempt],
                    invoice_id=invoice_id,
                    attempt=attempt + 1,
                )
                db.session.commit()

        return run

    return decorate


def charge_request(invoice: Invoice) -> ChargeRequest:
    """Describe an invoice to the gateway plugin."""
    customer = invoice.customer
    return ChargeRequest(
        invoice_id=invoice.public_id,
        organization_id=invoice.organization_id,
        organization_name=invoice.organization.name,
        number=invoice.number,
        description=invoice.description,
        amount_due=figures(invoice).amount_due,
        due_date=invoice.due_date,
        payment_url=payment_url(invoice),
        customer_name=customer.name,
        customer_document=customer.document,
        customer_email=customer.email,
        charge_id=invoice.gateway_charge_id,
    )


@jobs.job("charge.create")
@retried("charge.create")
def create_charge(invoice_id: int) -> None:
    """Ask the gateway for a charge; a second run finds it made and stops."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.gateway_charge_id or invoice.is_final():
        return
    charge = plugins.hook().agnozys_gateway_create_charge(
        request=charge_request(invoice)
    )
    if charge is None:
        log.warning("Invoice %s: no gateway made a charge", invoice.public_id)
        return
    # A plain UPDATE: filling in the charge id must not bump the version
    # that staff edits are checked against.
    db.session.execute(
        update(Invoice)
        .where(Invoice.id == invoice_id, Invoice.gateway_charge_id.is_(None))
        .values(gateway_charge_id=charge.charge_id)
    )
    db.session.commit()
    log.info("Invoice %s: charge %s created", invoice.public_id, charge.charge_id)


@jobs.job("charge.update")
@retried("charge.update")
def update_charge(invoice_id: int) -> None:
    """Tell the gateway the invoice's new date and amount; safe to repeat."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.is_final():
        return
    if not invoice.gateway_charge_id:
        # The charge was never made (or not yet): make it with today's figures.
        create_charge(invoice_id)
        return
    charge = plugins.hook().agnozys_gateway_update_charge(
        request=charge_request(invoice)
    )
    if charge is None:
        log.warning("Invoice %s: no gateway updated its charge", invoice.public_id)
        return
    if charge.charge_id != invoice.gateway_charge_id:
        db.session.execute(
            update(Invoice)
            .where(Invoice.id == invoice_id)
            .values(gateway_charge_id=charge.charge_id)
        )
        db.session.commit()
    log.info("Invoice %s: charge %s updated", invoice.public_id, charge.charge_id)


@jobs.job("charge.cancel")
@retried("charge.cancel")
def cancel_charge(invoice_id: int) -> None:
    """Ask the gateway to stop accepting a canceled invoice's charge."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or not invoice.gateway_charge_id:
        return
    done = plugins.hook().agnozys_gateway_cancel_charge(request=charge_request(invoice))
    log.info(
        "Invoice %s: charge %s canceled (%s)",
        invoice.public_id,
        invoice.gateway_charge_id,
        "confirmed" if done else "not confirmed",
    )
