"""Built-in notifier plugin `sms`: SMS through Zenvia's API.

Sends the text of SMS messages with Zenvia's messaging API
(``POST /v2/channels/sms/messages``, token in ``X-API-TOKEN``). Settings
(environment or app configuration):

- ``AGNOZYS_ZENVIA_TOKEN`` (required): the API token;
- ``AGNOZYS_ZENVIA_FROM`` (required): the sender id of the SMS channel;
- ``AGNOZYS_ZENVIA_BASE_URL``: default ``https://api.zenvia.com``; point
  it at a stand-in to test;
- ``AGNOZYS_ZENVIA_TIMEOUT`` in seconds (default 15).

Phone numbers go out as digits with the country code (55 added to
Brazilian numbers of 10 or 11 digits). A non-2xx answer raises, with the
provider's message, so the reminder is retried and its failure explained.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from typing import Any

from flask import current_app

from agnozys import hookimpl
from agnozys.hookspecs import Message, PluginInfo, SendResult

NAME = "sms"
DEFAULT_BASE_URL = "https://api.zenvia.com"
PATH = "/v2/channels/sms/messages"
# SMS segments add up; Zenvia rejects very long texts.
MAX_TEXT = 1000


class SmsError(RuntimeError):
    """The provider refused the message or could not be reached."""


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        family="notifier",
        title="SMS (Zenvia)",
        description="Envia SMS pela API da Zenvia.",
        channels=("sms",),
    )


def _setting(config: Any, name: str) -> Any:
    return config.get(name) or os.environ.get(name) or None


def settings(config: Any) -> dict[str, Any]:
    """Read the Zenvia settings from the configuration (or the environment)."""
    return {
        "token": _setting(config, "AGNOZYS_ZENVIA_TOKEN"),
        "sender": _setting(config, "AGNOZYS_ZENVIA_FROM"),
        "base_url": (
            _setting(config, "AGNOZYS_ZENVIA_BASE_URL") or DEFAULT_BASE_URL
        ).rstrip("/"),
        "timeout": float(_setting(config, "AGNOZYS_ZENVIA_TIMEOUT") or 15),
    }


@hookimpl
def agnozys_check_config(config: dict[str, Any]) -> list[str]:
    values = settings(config)
    problems = []
    if not values["token"]:
        problems.append("defina AGNOZYS_ZENVIA_TOKEN (o token da API da Zenvia)")
    if not values["sender"]:
        problems.append("defina AGNOZYS_ZENVIA_FROM (o remetente do canal SMS)")
    if not str(values["base_url"]).startswith(("http://", "https://")):
        problems.append("AGNOZYS_ZENVIA_BASE_URL deve começar com http:// ou https://")
    return problems


def phone_number(raw: str) -> str:
    """Return the number as Zenvia wants it: digits with the country code."""
    digits = re.sub(r"\D", "", raw)
    if len(digits) in (10, 11):
        digits = "55" + digits
    if not 12 <= len(digits) <= 15:
        raise SmsError(f"telefone inválido para SMS: {raw!r}")
    return digits


@hookimpl
def agnozys_send_message(message: Message) -> SendResult | None:
    if message.channel != "sms":
        return None
    values = settings(current_app.config)
    payload: dict[str, Any] = {
        "from": values["sender"],
        "to": phone_number(message.to),
        "contents": [{"type": "text", "text": message.text[:MAX_TEXT]}],
    }
    if message.idempotency_key:
        payload["externalId"] = message.idempotency_key
    request = urllib.request.Request(
        values["base_url"] + PATH,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-API-TOKEN": str(values["token"]),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=values["timeout"]) as response:
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace")
        raise SmsError(f"Zenvia respondeu {exc.code}: {detail}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SmsError(f"Zenvia inacessível: {exc}") from exc
    return SendResult(notifier=NAME, provider_id=str(answer.get("id") or "") or None)
