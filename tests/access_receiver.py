"""A local merchant endpoint for the `webhook` access blocker's tests.

It checks every request's signature as API.md tells receivers to, keeps
what it accepted, and answers from a script: an HTTP status per request
or ``"hang"`` (no answer within the sender's timeout).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "segredo-do-comerciante"


def verify(header: str, body: bytes, secret: str = SECRET) -> bool:
    """Check ``t=...,v1=...`` against the body, rejecting stale ones."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > 300:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


class Receiver:
    """Start with ``Receiver().start()``; stop with ``stop()``."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.script: list[int | str] = []
        self.accepted: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.bad_signatures = 0
        self._release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                signature = self.headers.get("X-Agnozys-Signature", "")
                receiver.requests.append({"body": body, "signature": signature})
                if not verify(signature, body, receiver.secret):
                    receiver.bad_signatures += 1
                    self._answer(401)
                    return
                action = receiver.script.pop(0) if receiver.script else 200
                if action == "hang":
                    receiver._release.wait(5)
                    return
                if 200 <= int(action) < 300:
                    receiver.accepted.append(json.loads(body))
                self._answer(int(action))

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/acesso"

    def start(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

    def types(self) -> list[str]:
        return [event["type"] for event in self.accepted]
