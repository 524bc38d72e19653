"""Built-in gateway plugin `sandbox`: a local fake PSP for development and demos.

Charges are ids like ``sbx_...`` that live nowhere else. The payment link
shows a "Pagar (sandbox)" button; pressing it makes the sandbox act like a
real PSP: it signs a ``payment.confirmed`` webhook with
``AGNOZYS_SANDBOX_SECRET`` and hands it to ``/webhooks/sandbox``.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import current_app

from agnozys import hookimpl, money, signatures
from agnozys.hookspecs import (
    Charge,
    ChargeRequest,
    PaymentEvent,
    PaymentOption,
    PluginInfo,
    WebhookRequest,
)
from agnozys.plugins import WebhookRejected

NAME = "sandbox"


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        family="gateway",
        title="Sandbox (PSP local de testes)",
        description="Simula um PSP: botão de pagamento e webhooks assinados.",
    )


@hookimpl
def agnozys_check_config(config: dict[str, Any]) -> list[str]:
    secret = config.get("AGNOZYS_SANDBOX_SECRET") or ""
    if len(secret) < 16:
        return ["AGNOZYS_SANDBOX_SECRET precisa ter pelo menos 16 caracteres."]
    return []


@hookimpl
def agnozys_gateway_create_charge(request: ChargeRequest) -> Charge:
    return Charge(
        charge_id="sbx_" + secrets.token_hex(12), checkout_url=request.payment_url
    )


@hookimpl
def agnozys_gateway_update_charge(request: ChargeRequest) -> Charge:
    # The fake PSP reads the amount when the button is pressed, so the
    # charge itself never changes.
    return Charge(
        charge_id=request.charge_id or "sbx_" + secrets.token_hex(12),
        checkout_url=request.payment_url,
    )


@hookimpl
def agnozys_gateway_cancel_charge(request: ChargeRequest) -> bool:
    return True


@hookimpl
def agnozys_gateway_payment_options(request: ChargeRequest) -> list[PaymentOption]:
    path = urlsplit(request.payment_url).path.rstrip("/")
    return [
        PaymentOption(
            kind="button",
            title="Sandbox (PSP de testes)",
            data={
                "action": path + "/sandbox",
                "method": "post",
                "label": "Pagar (sandbox)",
                "text": "Simula um pagamento confirmado pelo PSP (webhook assinado).",
            },
        )
    ]


@hookimpl
def agnozys_gateway_parse_webhook(request: WebhookRequest) -> list[PaymentEvent] | None:
    if request.gateway != NAME:
        return None
    secret = current_app.config["AGNOZYS_SANDBOX_SECRET"]
    try:
        signatures.verify(
            secret,
            request.headers.get(signatures.HEADER.lower()),
            request.body,
            now=request.received_at.timestamp(),
        )
    except signatures.SignatureError as exc:
        raise WebhookRejected(str(exc), status=401) from exc

    # Only now, with the sender known, is the body read.
    try:
        payload = json.loads(request.body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebhookRejected("O corpo não é JSON válido.", status=400) from exc
    if not isinstance(payload, dict):
        raise WebhookRejected("O corpo deve ser um objeto JSON.", status=400)
    if payload.get("type") != "payment.confirmed":
        return []
    return [_payment_event(payload)]


def _payment_event(payload: dict[str, Any]) -> PaymentEvent:
    data = payload.get("data")
    event_id = payload.get("id")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 200:
        raise WebhookRejected("Evento sem 'id'.", status=400)
    if not isinstance(data, dict):
        raise WebhookRejected("Evento sem 'data'.", status=400)
    charge_id = data.get("charge_id")
    if not isinstance(charge_id, str) or not charge_id:
        raise WebhookRejected("Evento sem 'data.charge_id'.", status=400)
    try:
        amount = money.parse_amount(data.get("amount"))
    except money.MoneyError as exc:
        raise WebhookRejected(f"'data.amount' inválido: {exc}", status=400) from exc
    try:
        paid_at = datetime.fromisoformat(str(data.get("paid_at")))
    except ValueError as exc:
        raise WebhookRejected("'data.paid_at' não é ISO 8601.", status=400) from exc
    if paid_at.tzinfo is None:
        raise WebhookRejected("'data.paid_at' precisa de fuso horário.", status=400)
    return PaymentEvent(
        event_id=event_id,
        charge_id=charge_id,
        amount=amount,
        paid_at=paid_at.astimezone(UTC),
        gateway=NAME,
        raw=json.loads(json.dumps(payload, default=str)),
    )
