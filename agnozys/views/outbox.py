"""Caixa de saída: what the ``outbox`` notifier "sent", newest first."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_login import login_required

from ..services import ladder

bp = Blueprint("outbox", __name__, url_prefix="/caixa-de-saida")

CHANNELS = {"email": "E-mail", "sms": "SMS", "whatsapp": "WhatsApp"}
PAGE = 50


@bp.get("/")
@bp.get("")
@login_required
def index() -> Any:
    """List the outbox, newest first, 50 a page (keyset on id)."""
    channel = request.args.get("canal") or None
    if channel not in CHANNELS:
        channel = None
    before = request.args.get("antes", type=int)
    messages = ladder.outbox_page(before_id=before, channel=channel, limit=PAGE + 1)
    more = len(messages) > PAGE
    messages = messages[:PAGE]
    context = {
        "messages": messages,
        "channel": channel,
        "channels": CHANNELS,
        "next_before": messages[-1].id if more and messages else None,
        "has_invoice_page": "invoices.show" in current_app.view_functions,
    }
    if request.htmx:
        return render_template("outbox/_list.html", **context)
    return render_template("outbox/index.html", **context)
