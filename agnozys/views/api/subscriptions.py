"""API routes for plans and subscriptions (API.md)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from ... import money
from ...auth import actor
from ...models.subscriptions import Plan, Subscription
from ...services import ValidationFailed
from ...services import subscriptions as service
from ..api_errors import ApiError
from . import OPENAPI_PATHS, OPENAPI_SCHEMAS, body, bp, organization
from .invoices import _amount_wire_format
from .openapi import errors, json_body, json_content, path_id, ref


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "id": plan.public_id,
        "name": plan.name,
        "amount": money.to_api(plan.amount),
        "interval": plan.interval.value,
    }


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.public_id,
        "customer_id": subscription.customer.public_id,
        "plan_id": subscription.plan.public_id,
        "status": subscription.status.value,
        "start_date": subscription.start_date.isoformat(),
        "next_billing_date": subscription.next_billing_date.isoformat(),
    }


@bp.post("/plans")
def create_plan() -> Any:
    data = body()
    wire = _amount_wire_format(data)
    if wire:
        rest = {name: value for name, value in data.items() if name != "amount"}
        try:
            service.create_plan({**rest, "amount": "1"}, actor=actor(), dry_run=True)
        except ValidationFailed as exc:
            wire = {**exc.fields, **wire}
        raise ValidationFailed(_("Confira os campos destacados."), wire)
    plan = service.create_plan(data, actor=actor())
    return jsonify(plan_json(plan)), 201


@bp.post("/subscriptions")
def create_subscription() -> Any:
    subscription = service.create_subscription(
        body(), organization=organization(), actor=actor()
    )
    return jsonify(subscription_json(subscription)), 201


@bp.get("/subscriptions")
def list_subscriptions() -> Any:
    fields: dict[str, str] = {}
    status = request.args.get("status") or None
    if status is not None and status not in ("active", "suspended", "canceled"):
        fields["status"] = _("Use active, suspended ou canceled.")
    raw_days = request.args.get("overdue_days_gte")
    days: int | None = None
    if raw_days not in (None, ""):
        if not raw_days.isascii() or not raw_days.isdigit() or len(raw_days) > 5:
            fields["overdue_days_gte"] = _("Informe um número inteiro de dias.")
        else:
            days = int(raw_days)
    if fields:
        raise ApiError(422, "validation_failed", _("Filtros inválidos."), fields)
    rows = service.list_subscriptions(
        organization(), status=status, overdue_days_gte=days
    )
    items = [subscription_json(row.subscription) for row in rows]
    return jsonify({"items": items, "total": len(items)})


@bp.post("/subscriptions/<id>/suspend")
def suspend_subscription(id: str) -> Any:
    reason = body().get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise ApiError(
            422,
            "validation_failed",
            _("Confira os campos destacados."),
            {"reason": _("Texto de até 500 caracteres.")},
        )
    subscription = service.suspend_subscription(id, actor=actor(), reason=reason)
    return jsonify(subscription_json(subscription))


@bp.post("/subscriptions/<id>/reactivate")
def reactivate_subscription(id: str) -> Any:
    subscription = service.reactivate_subscription(id, actor=actor())
    return jsonify(subscription_json(subscription))


# --- OpenAPI -------------------------------------------------------------------

OPENAPI_SCHEMAS["Plan"] = {
    "type": "object",
    "required": ["id", "name", "amount", "interval"],
    "properties": {
        "id": {"type": "string", "examples": ["pln_8k2m4q7rx1t9vz3a"]},
        "name": {"type": "string"},
        "amount": {"type": "string", "examples": ["99.90"]},
        "interval": {"type": "string", "enum": ["month", "year"]},
    },
}
OPENAPI_SCHEMAS["PlanCreate"] = {
    "type": "object",
    "required": ["name", "amount", "interval"],
    "properties": {
        "name": {"type": "string", "maxLength": 120},
        "amount": {"type": "string", "examples": ["99.90"]},
        "interval": {"type": "string", "enum": ["month", "year"]},
    },
}
OPENAPI_SCHEMAS["Subscription"] = {
    "type": "object",
    "required": ["id", "customer_id", "plan_id", "status", "next_billing_date"],
    "properties": {
        "id": {"type": "string", "examples": ["sub_8k2m4q7rx1t9vz3a"]},
        "customer_id": {"type": "string"},
        "plan_id": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "suspended", "canceled"]},
        "start_date": {"type": "string", "format": "date"},
        "next_billing_date": {"type": "string", "format": "date"},
    },
}
OPENAPI_SCHEMAS["SubscriptionCreate"] = {
    "type": "object",
    "required": ["customer_id", "plan_id", "start_date"],
    "properties": {
        "customer_id": {"type": "string"},
        "plan_id": {"type": "string"},
        "start_date": {"type": "string", "format": "date"},
    },
}

OPENAPI_PATHS["/plans"] = {
    "post": {
        "operationId": "createPlan",
        "summary": "Cria um plano mensal ou anual",
        "tags": ["subscriptions"],
        "requestBody": json_body(ref("PlanCreate")),
        "responses": {
            "201": {
                "description": "Plano criado.",
                "content": json_content(ref("Plan")),
            },
            **errors(400, 401, 422),
        },
    }
}
OPENAPI_PATHS["/subscriptions"] = {
    "post": {
        "operationId": "createSubscription",
        "summary": "Assina um plano; a primeira cobrança vence na data de início",
        "tags": ["subscriptions"],
        "requestBody": json_body(ref("SubscriptionCreate")),
        "responses": {
            "201": {
                "description": "Assinatura criada.",
                "content": json_content(ref("Subscription")),
            },
            **errors(400, 401, 422),
        },
    },
    "get": {
        "operationId": "listSubscriptions",
        "summary": "Lista assinaturas, da dívida mais antiga para a mais nova",
        "tags": ["subscriptions"],
        "parameters": [
            {
                "name": "status",
                "in": "query",
                "schema": {
                    "type": "string",
                    "enum": ["active", "suspended", "canceled"],
                },
            },
            {
                "name": "overdue_days_gte",
                "in": "query",
                "description": "Só as que têm cobrança vencida há ao menos N dias.",
                "schema": {"type": "integer", "minimum": 0},
            },
        ],
        "responses": {
            "200": {
                "description": "As assinaturas.",
                "content": json_content(
                    {
                        "type": "object",
                        "required": ["items", "total"],
                        "properties": {
                            "items": {"type": "array", "items": ref("Subscription")},
                            "total": {"type": "integer"},
                        },
                    }
                ),
            },
            **errors(401, 422),
        },
    },
}
OPENAPI_PATHS["/subscriptions/{id}/suspend"] = {
    "post": {
        "operationId": "suspendSubscription",
        "summary": "Suspende a assinatura e pede ao bloqueador para cortar o acesso",
        "tags": ["subscriptions"],
        "parameters": [path_id()],
        "requestBody": {
            "required": False,
            "content": json_content(
                {
                    "type": "object",
                    "properties": {"reason": {"type": "string", "maxLength": 500}},
                }
            ),
        },
        "responses": {
            "200": {
                "description": "Assinatura suspensa.",
                "content": json_content(ref("Subscription")),
            },
            **errors(400, 401, 404, 409, 422),
        },
    }
}
OPENAPI_PATHS["/subscriptions/{id}/reactivate"] = {
    "post": {
        "operationId": "reactivateSubscription",
        "summary": "Reativa a assinatura e devolve o acesso",
        "description": "409 `unpaid_invoices` enquanto uma cobrança vencida não "
        "tiver pagamento nem comprovante aceito.",
        "tags": ["subscriptions"],
        "parameters": [path_id()],
        "responses": {
            "200": {
                "description": "Assinatura ativa.",
                "content": json_content(ref("Subscription")),
            },
            **errors(401, 404, 409),
        },
    }
}
