"""API routes for negotiation: reschedule, agreement, cancel, resend (API.md)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ...auth import actor
from ...services import negotiation
from . import OPENAPI_PATHS, OPENAPI_SCHEMAS, body, bp
from .openapi import errors, json_body, json_content, path_id, ref
from .serializers import invoice_json


@bp.post("/invoices/<id>/reschedule")
def reschedule(id: str) -> Any:
    invoice = negotiation.reschedule_invoice(id, body(), actor=actor())
    return jsonify(invoice_json(invoice))


@bp.post("/invoices/<id>/agreement")
def agreement(id: str) -> Any:
    made = negotiation.make_agreement(id, body(), actor=actor())
    parts = negotiation.agreement_parts(made.id)
    return jsonify(
        {
            "id": made.public_id,
            "original_invoice_id": made.original_invoice.public_id,
            "invoices": [invoice_json(part) for part in parts],
        }
    ), 201


@bp.post("/invoices/<id>/cancel")
def cancel(id: str) -> Any:
    data = body()
    invoice = negotiation.cancel_invoice(id, data.get("reason"), actor=actor())
    return jsonify(invoice_json(invoice))


@bp.post("/invoices/<id>/resend")
def resend(id: str) -> Any:
    invoice = negotiation.resend_link(id, actor=actor())
    return jsonify({"id": invoice.public_id, "status": "queued"}), 202


_WAIVE = {
    "type": "string",
    "enum": ["none", "fine", "interest", "all"],
    "description": "O que isentar; padrão none.",
}
_MONEY = {"type": "string", "examples": ["500.00"]}
_DATE = {"type": "string", "format": "date"}

OPENAPI_SCHEMAS["Agreement"] = {
    "type": "object",
    "required": ["id", "original_invoice_id", "invoices"],
    "properties": {
        "id": {"type": "string", "examples": ["agr_8k2m4q7rx1t9vz3a"]},
        "original_invoice_id": {"type": "string"},
        "invoices": {"type": "array", "items": ref("Invoice")},
    },
}

OPENAPI_PATHS["/invoices/{id}/reschedule"] = {
    "post": {
        "summary": "Atualizar vencimento: congela multa e juros até a nova data.",
        "parameters": [path_id()],
        "requestBody": json_body(
            {
                "type": "object",
                "required": ["due_date"],
                "properties": {"due_date": _DATE, "waive": _WAIVE},
            }
        ),
        "responses": {
            "200": {
                "description": "A cobrança com a nova data e valores.",
                "content": json_content(ref("Invoice")),
            },
            **errors(400, 401, 404, 409, 422),
        },
    }
}
OPENAPI_PATHS["/invoices/{id}/agreement"] = {
    "post": {
        "summary": "Acordo: cancela a cobrança e cria parcelas que somam o devido.",
        "parameters": [path_id()],
        "requestBody": json_body(
            {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["parts"],
                        "properties": {
                            "parts": {
                                "type": "array",
                                "minItems": 1,
                                "maxItems": 24,
                                "items": {
                                    "type": "object",
                                    "required": ["amount", "due_date"],
                                    "properties": {
                                        "amount": _MONEY,
                                        "due_date": _DATE,
                                    },
                                },
                            },
                            "waive": _WAIVE,
                        },
                    },
                    {
                        "type": "object",
                        "required": ["installments", "first_due_date"],
                        "properties": {
                            "installments": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": 24,
                            },
                            "first_due_date": _DATE,
                            "interval_days": {
                                "type": "integer",
                                "minimum": 1,
                                "description": "Sem ele, as parcelas são mensais.",
                            },
                            "waive": _WAIVE,
                        },
                    },
                ]
            }
        ),
        "responses": {
            "201": {
                "description": "O acordo e suas parcelas.",
                "content": json_content(ref("Agreement")),
            },
            **errors(400, 401, 404, 409, 422),
        },
    }
}
OPENAPI_PATHS["/invoices/{id}/cancel"] = {
    "post": {
        "summary": "Cancelar uma cobrança em aberto.",
        "parameters": [path_id()],
        "requestBody": {
            "required": False,
            "content": json_content(
                {"type": "object", "properties": {"reason": {"type": "string"}}}
            ),
        },
        "responses": {
            "200": {
                "description": "A cobrança cancelada.",
                "content": json_content(ref("Invoice")),
            },
            **errors(400, 401, 404, 409, 422),
        },
    }
}
OPENAPI_PATHS["/invoices/{id}/resend"] = {
    "post": {
        "summary": "Reenviar o link de pagamento pelos notificadores configurados.",
        "parameters": [path_id()],
        "responses": {
            "202": {
                "description": "Envio agendado.",
                "content": json_content(
                    {
                        "type": "object",
                        "properties": {
                            "id": {"type": "string"},
                            "status": {"type": "string", "enum": ["queued"]},
                        },
                    }
                ),
            },
            **errors(401, 404, 409),
        },
    }
}
