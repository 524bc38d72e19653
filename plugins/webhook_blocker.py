"""Built-in blocker plugin `webhook`: a signed HTTP POST per access change.

Posts API.md's ``access.blocked`` / ``access.unblocked`` body to
``AGNOZYS_ACCESS_WEBHOOK_URL``, signed with
``AGNOZYS_ACCESS_WEBHOOK_SECRET``. Anything but a 2xx answer raises
:class:`~agnozys.hookspecs.AccessDeliveryFailed`, so the delivery is
retried with backoff.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from flask import current_app

from agnozys import hookimpl, signatures
from agnozys.hookspecs import (
    AccessChange,
    AccessDeliveryFailed,
    AccessResult,
    PluginInfo,
)

DEFAULT_TIMEOUT = 10.0


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="webhook",
        family="blocker",
        title="Webhook assinado",
        description="Envia um POST assinado (HMAC-SHA256) ao sistema do "
        "comerciante para cortar ou devolver o acesso; tenta de novo até "
        "receber uma resposta 2xx.",
    )


@hookimpl
def agnozys_check_config(config: dict[str, Any]) -> list[str]:
    if "webhook" not in str(config.get("AGNOZYS_ACCESS_BLOCKER") or ""):
        return []
    problems = []
    url = str(config.get("AGNOZYS_ACCESS_WEBHOOK_URL") or "")
    if not url:
        problems.append(
            "defina AGNOZYS_ACCESS_WEBHOOK_URL, o endereço que recebe os "
            "avisos de bloqueio"
        )
    elif not url.startswith(("http://", "https://")):
        problems.append("AGNOZYS_ACCESS_WEBHOOK_URL deve começar com http(s)://")
    if not config.get("AGNOZYS_ACCESS_WEBHOOK_SECRET"):
        problems.append(
            "defina AGNOZYS_ACCESS_WEBHOOK_SECRET, o segredo que assina os avisos"
        )
    return problems


def payload(change: AccessChange) -> bytes:
    """Return the JSON body of API.md for one access change."""
    body = {
        "id": change.delivery_id,
        "type": change.type,
        "customer": {
            "id": change.customer_id,
            "external_id": change.customer_external_id,
        },
        "subscription_id": change.subscription_id,
        "at": change.at.isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(body, separators=(",", ":")).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirect is not a confirmation: report it as the answer it is.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post(change: AccessChange) -> AccessResult:
    """Send one change; raises :class:`AccessDeliveryFailed` unless 2xx."""
    config = current_app.config
    url = str(config.get("AGNOZYS_ACCESS_WEBHOOK_URL") or "")
    secret = str(config.get("AGNOZYS_ACCESS_WEBHOOK_SECRET") or "")
    if not url or not secret:
        raise AccessDeliveryFailed("Webhook de acesso não configurado.")
    body = payload(change)
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Agnozys-Webhook/1",
            signatures.HEADER: signatures.sign(secret, body),
        },
    )
    timeout = float(config.get("AGNOZYS_ACCESS_WEBHOOK_TIMEOUT") or DEFAULT_TIMEOUT)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise AccessDeliveryFailed(
            f"Resposta HTTP {exc.code}", status_code=exc.code
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AccessDeliveryFailed(f"Sem resposta: {reason}") from None
    if not 200 <= status < 300:
        raise AccessDeliveryFailed(f"Resposta HTTP {status}", status_code=status)
    return AccessResult(status_code=status)


@hookimpl
def agnozys_block_access(change: AccessChange) -> AccessResult:
    return post(change)


@hookimpl
def agnozys_unblock_access(change: AccessChange) -> AccessResult:
    return post(change)
