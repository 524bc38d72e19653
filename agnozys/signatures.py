"""Signed webhooks, in and out (API.md, Webhooks).

The header is ``X-Agnozys-Signature: t=<unix seconds>,v1=<hex>`` where the
hex is HMAC-SHA256 of ``"<t>.<raw body>"`` under a shared secret. A
receiver checks the signature and the timestamp's age before it reads the
body.
"""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-Agnozys-Signature"
TOLERANCE = 300  # seconds: older (or further in the future) is refused


class SignatureError(ValueError):
    """A signature header that is missing, malformed, wrong or stale."""


def digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Return the header value signing ``body`` at ``timestamp`` (now)."""
    if timestamp is None:
        timestamp = int(time.time())
    return f"t={timestamp},v1={digest(secret, timestamp, body)}"


def verify(
    secret: str,
    header: str | None,
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = TOLERANCE,
) -> int:
    """Check ``header`` against ``body``; return its timestamp.

    Raises :class:`SignatureError` with a reason in Portuguese.
    """
    if not header:
        raise SignatureError(f"Cabeçalho {HEADER} ausente.")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise SignatureError("Assinatura sem carimbo de tempo válido.") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureError("Assinatura expirada (mais de 5 minutos).")
    expected = digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, v) for v in parts.get("v1", [])):
        raise SignatureError("Assinatura inválida.")
    return timestamp
