"""Built-in gateway plugin `pix`: static Pix BR Code with QR code.

The payment link shows a QR code and its "copia e cola" text for the exact
amount due that day, payable to the organization's Pix key (set under
Configurações > Integrações, or ``AGNOZYS_PIX_KEY``,
``AGNOZYS_PIX_MERCHANT_NAME`` and ``AGNOZYS_PIX_MERCHANT_CITY`` for the
whole deployment). A static Pix sends no confirmation, so the link also
offers the comprovante upload; staff accept it to mark the invoice paid.
"""

from __future__ import annotations

import logging
from typing import Any

import segno

from agnozys import brcode, hookimpl
from agnozys.hookspecs import (
    Charge,
    ChargeRequest,
    PaymentEvent,
    PaymentOption,
    PluginInfo,
    WebhookRequest,
)
from agnozys.services import pix as pix_settings

NAME = "pix"

log = logging.getLogger(__name__)


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        family="gateway",
        title="Pix estático (BR Code)",
        description="QR code e Pix copia e cola; o cliente envia o comprovante.",
    )


@hookimpl
def agnozys_check_config(config: dict[str, Any]) -> list[str]:
    names = (
        "AGNOZYS_PIX_KEY",
        "AGNOZYS_PIX_MERCHANT_NAME",
        "AGNOZYS_PIX_MERCHANT_CITY",
    )
    given = [name for name in names if config.get(name)]
    if not given:
        return []  # each organization sets its own key
    if len(given) < len(names):
        missing = ", ".join(name for name in names if name not in given)
        return [f"defina também {missing} (ou nenhuma das três)"]
    try:
        brcode.normalize_key(config["AGNOZYS_PIX_KEY"])
    except brcode.BRCodeError as exc:
        return [f"AGNOZYS_PIX_KEY inválida: {exc}"]
    if len(brcode.ascii_text(config["AGNOZYS_PIX_MERCHANT_NAME"], 200)) > 25:
        return ["AGNOZYS_PIX_MERCHANT_NAME passa de 25 caracteres"]
    if len(brcode.ascii_text(config["AGNOZYS_PIX_MERCHANT_CITY"], 200)) > 15:
        return ["AGNOZYS_PIX_MERCHANT_CITY passa de 15 caracteres"]
    return []


def txid(request: ChargeRequest) -> str:
    """Name the invoice on the payer's bank statement (letters and digits)."""
    return "".join(c for c in request.invoice_id if c.isalnum())[: brcode.TXID_MAX]


@hookimpl
def agnozys_gateway_create_charge(request: ChargeRequest) -> Charge:
    # Nothing to register anywhere: the code is built when the link opens,
    # for the amount due that day.
    return Charge(charge_id=f"pix_{txid(request)}")


@hookimpl
def agnozys_gateway_update_charge(request: ChargeRequest) -> Charge:
    return Charge(charge_id=request.charge_id or f"pix_{txid(request)}")


@hookimpl
def agnozys_gateway_cancel_charge(request: ChargeRequest) -> bool:
    return True


def payload_for(request: ChargeRequest) -> str | None:
    """Return the BR Code for the invoice's amount due, or None without a key."""
    receiver = pix_settings.receiver(request.organization_id)
    if receiver is None:
        return None
    return brcode.build(
        brcode.StaticPix(
            merchant_name=receiver.merchant_name,
            merchant_city=receiver.merchant_city,
            key=receiver.key,
            amount=request.amount_due,
            txid=txid(request),
        )
    )


@hookimpl
def agnozys_gateway_payment_options(request: ChargeRequest) -> list[PaymentOption]:
    payload = payload_for(request)
    options = []
    if payload is None:
        log.warning(
            "Organization %s: pix gateway active but no Pix key set",
            request.organization_id,
        )
    else:
        qr = segno.make(payload, error="m", micro=False)
        options.append(
            PaymentOption(
                kind="pix",
                title="Pix",
                data={
                    "code": payload,
                    "qr_data_uri": qr.svg_data_uri(scale=5),
                    "qr_svg": qr.svg_inline(scale=5, title="QR code Pix"),
                    "text": "Abra o app do seu banco, escolha Pix e leia o QR code "
                    "ou copie o código. Depois, envie o comprovante abaixo.",
                },
            )
        )
    return options


@hookimpl
def agnozys_gateway_parse_webhook(request: WebhookRequest) -> list[PaymentEvent] | None:
    # A static Pix has no PSP behind it, so nothing ever calls back.
    return None
