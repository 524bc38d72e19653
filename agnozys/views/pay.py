"""The public payment link: one invoice as its customer sees it, no login."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from .. import clock, plugins, tenancy
from ..extensions import db
from ..models import Event, Invoice, InvoiceStatus
from ..services.charges import charge_request
from ..services.invoices import figures
from ..services.timeline import record

log = logging.getLogger(__name__)

bp = Blueprint("pay", __name__)

# Tokens are url-safe base64; anything else cannot be one.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
OPEN_EVENT_EVERY = timedelta(hours=1)

METHOD_LABELS = {
    "pix": _l("Pix"),
    "boleto": _l("Boleto"),
    "card": _l("Cartão"),
    "credit_card": _l("Cartão de crédito"),
    "sandbox": _l("Sandbox"),
    "proof": _l("Comprovante aceito"),
    "manual": _l("Pagamento registrado pela empresa"),
}


def _private(response: Response) -> Response:
    """Keep the token out of referrers, caches and search engines."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def not_found() -> Response:
    return _private(make_response(render_template("pay/not_found.html"), 404))


def find_invoice(token: str) -> Invoice | None:
    """Look an invoice up by its payment token, across organizations."""
    if not _TOKEN.match(token):
        return None
    with tenancy.unscoped():
        return db.session.execute(
            select(Invoice).where(Invoice.payment_token == token)
        ).scalar_one_or_none()


def note_opened(invoice: Invoice) -> None:
    """Record ``link.opened`` at most once an hour, and not for staff previews."""
    if (
        current_user.is_authenticated
        and current_user.organization_id == invoice.organization_id
    ):
        return
    recent = db.session.execute(
        select(Event.id)
        .where(
            Event.invoice_id == invoice.id,
            Event.type == "link.opened",
            Event.at > clock.now() - OPEN_EVENT_EVERY,
        )
        .limit(1)
    ).scalar_one_or_none()
    if recent is not None:
        return
    record("link.opened", actor="customer:link", invoice=invoice)
    db.session.commit()


def payment_options(invoice: Invoice) -> list[Any]:
    """Ask the gateway how this invoice can be paid; nothing if it cannot say."""
    try:
        options = plugins.hook().agnozys_gateway_payment_options(
            request=charge_request(invoice)
        )
    except Exception:
        log.warning(
            "Invoice %s: gateway failed to list payment options",
            invoice.public_id,
            exc_info=True,
        )
        return []
    return list(options or [])


@bp.get("/pay/<token>")
def show(token: str) -> Response:
    invoice = find_invoice(token)
    if invoice is None:
        return not_found()

    with tenancy.scope(invoice.organization_id):
        organization = invoice.organization
        today = clock.today(organization.timezone)
        result = figures(invoice, today)
        parts: list[Invoice] = []
        if invoice.replaced_by_agreement_id is not None:
            parts = list(
                db.session.execute(
                    select(Invoice)
                    .where(Invoice.agreement_id == invoice.replaced_by_agreement_id)
                    .order_by(Invoice.due_date, Invoice.number)
                ).scalars()
            )
        options = [] if invoice.is_final() else payment_options(invoice)
        html = render_template(
            "pay/show.html",
            invoice=invoice,
            merchant=organization,
            figures=result,
            parts=parts,
            part_figures={part.id: figures(part, today) for part in parts},
            options=options,
            today=today,
            paid=invoice.status == InvoiceStatus.PAID,
            method_label=METHOD_LABELS.get(invoice.payment_method or "")
            or invoice.payment_method,
        )
        note_opened(invoice)
    return _private(make_response(html))
