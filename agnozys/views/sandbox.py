"""The sandbox gateway's "Pagar (sandbox)" button on the payment link.

Pressing it makes the fake PSP behave like a real one: it signs a
``payment.confirmed`` webhook and delivers it through the very code path
``POST /webhooks/sandbox`` uses, so the demo exercises signature checks,
idempotency and the paid invoice exactly as production would.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect
from flask_babel import gettext as _
from sqlalchemy import select

from .. import money, plugins, signatures, tenancy
from ..extensions import db
from ..hookspecs import WebhookRequest
from ..models import Invoice, utcnow
from ..plugins import WebhookRejected
from ..services.charges import create_charge
from ..services.invoices import figures
from ..services.payments import receive_webhook

bp = Blueprint("sandbox", __name__)

log = logging.getLogger(__name__)


def event_body(charge_id: str, amount: int, paid_at: datetime) -> bytes:
    """Return the raw body the fake PSP sends for a confirmed payment."""
    return json.dumps(
        {
            "id": "evt_" + secrets.token_hex(12),
            "type": "payment.confirmed",
            "data": {
                "charge_id": charge_id,
                "amount": money.to_api(amount),
                "paid_at": paid_at.astimezone(UTC).isoformat(),
            },
        }
    ).encode()


def _sandbox_active() -> bool:
    return "sandbox" in plugins.selected(current_app.config)["gateway"]


@bp.post("/pay/<token>/sandbox")
def pay(token: str) -> Any:
    """Pay an invoice through the fake PSP, then show its payment link."""
    if not _sandbox_active():
        abort(404)
    with tenancy.unscoped():
        invoice = db.session.execute(
            select(Invoice).where(Invoice.payment_token == token)
        ).scalar_one_or_none()
        if invoice is None:
            abort(404)
        if invoice.is_final():
            return redirect(f"/pay/{token}", code=303)
        if not invoice.gateway_charge_id:
            # The charge job has not run yet (or failed): make it now.
            create_charge(invoice.id)
            db.session.refresh(invoice)
        amount = figures(invoice).amount_due
        charge_id = invoice.gateway_charge_id or ""

    body = event_body(charge_id, amount, utcnow())
    secret = current_app.config["AGNOZYS_SANDBOX_SECRET"]
    delivery = WebhookRequest(
        gateway="sandbox",
        headers={signatures.HEADER.lower(): signatures.sign(secret, body)},
        body=body,
        received_at=utcnow(),
    )
    try:
        # Webhooks are system work, whoever happens to be logged in.
        with tenancy.unscoped():
            receive_webhook(delivery)
    except WebhookRejected:
        db.session.rollback()
        log.error("Invoice %s: sandbox webhook rejected", token[:6], exc_info=True)
        flash(_("O pagamento de teste falhou. Tente de novo."), "error")
    return redirect(f"/pay/{token}", code=303)
