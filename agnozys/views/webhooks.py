"""Incoming gateway webhooks: ``POST /webhooks/<gateway>`` (API.md)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from .. import plugins, tenancy
from ..extensions import csrf, db
from ..hookspecs import WebhookRequest
from ..models import utcnow
from ..plugins import WebhookRejected
from ..services import NotFound
from ..services.payments import receive_webhook
from .api_errors import error_response

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
csrf.exempt(bp)

log = logging.getLogger(__name__)


@bp.get("/<gateway>")
def probe(gateway: str) -> Any:
    """Answer a PSP's reachability check of the webhook URL (no database)."""
    active = gateway in plugins.selected(current_app.config)["gateway"]
    return jsonify({"gateway": gateway, "active": active}), 200 if active else 404


@bp.post("/<gateway>")
def receive(gateway: str) -> Any:
    """Verify, then record, the payments a gateway reports."""
    incoming = WebhookRequest(
        gateway=gateway,
        headers={key.lower(): value for key, value in request.headers.items()},
        body=request.get_data(cache=False),
        received_at=utcnow(),
    )
    try:
        with tenancy.unscoped():
            results = receive_webhook(incoming)
    except WebhookRejected as exc:
        db.session.rollback()
        log.warning("Webhook %s: rejected (%s)", gateway, exc.message)
        return error_response(exc.status, exc.code, exc.message)
    except NotFound as exc:
        db.session.rollback()
        return error_response(404, "unknown_gateway", exc.message)
    return jsonify(
        {
            "received": len(results),
            "payments": [
                {
                    "id": payment.public_id,
                    "status": payment.status.value,
                    "duplicate": not new,
                }
                for payment, new in results
            ],
        }
    )
