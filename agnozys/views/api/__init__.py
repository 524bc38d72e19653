"""The JSON API of API.md under ``/api/v1``: one blueprint, one module per area.

Every request but the OpenAPI document needs ``Authorization: Bearer``;
the token's organization scopes everything (see :mod:`agnozys.tenancy`).
Each area module adds its routes to :data:`bp` and its OpenAPI paths to
:data:`OPENAPI_PATHS`; ``tests/test_openapi.py`` checks the two agree.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from ... import tenancy
from ...auth import token_from_request
from ...extensions import csrf, db
from ...services import ServiceError
from ..api_errors import ApiError, error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

# path -> {method -> operation}; filled by the area modules.
OPENAPI_PATHS: dict[str, dict[str, Any]] = {}
OPENAPI_SCHEMAS: dict[str, Any] = {}

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def authenticate() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = token_from_request()
    if token is None:
        return error_response(
            401, "unauthorized", _("Token ausente, inválido ou revogado.")
        )
    g.api_token = token
    g.tenancy_token = tenancy.activate(token.organization_id)
    return None


def body() -> dict[str, Any]:
    """Return the request's JSON object; numbers come as ``Decimal``.

    Raises :class:`ApiError` 400 when the body is not a JSON object.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: a hostile body nested thousands of levels deep.
        raise ApiError(400, "invalid_json", _("O corpo não é JSON válido.")) from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", _("O corpo deve ser um objeto JSON."))
    return data


def organization() -> Any:
    return g.api_token.organization


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Any:
    return error_response(exc.status, exc.code, exc.message, exc.fields)


@bp.errorhandler(ServiceError)
def _service_error(exc: ServiceError) -> Any:
    db.session.rollback()
    return error_response(exc.status, exc.code, exc.message, exc.fields)


@bp.errorhandler(StaleDataError)
def _stale(exc: StaleDataError) -> Any:
    db.session.rollback()
    return error_response(
        409, "conflict", _("A cobrança foi alterada por outra pessoa. Recarregue.")
    )


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    code = {
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        415: "unsupported_media_type",
    }.get(exc.code or 500, "error")
    return error_response(exc.code or 500, code, exc.description or exc.name)


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 document of every route of this blueprint."""
    from .openapi import document

    return jsonify(document())


# Area modules register their routes on `bp` when imported.
from . import (  # noqa: E402,F401
    customers,
    invoices,
    negotiation,
    payments,
    reports,
    subscriptions,
)
