"""API routes for customers (API.md): create and read."""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for

from ... import auth
from ...services import customers as customer_service
from . import OPENAPI_PATHS, OPENAPI_SCHEMAS, body, bp
from .openapi import errors, json_body, json_content, path_id, ref
from .serializers import customer_json


@bp.post("/customers")
def create_customer() -> Any:
    """Create a customer of the token's organization."""
    customer = customer_service.create_customer(body(), actor=auth.actor())
    response = jsonify(customer_json(customer))
    response.headers["Location"] = url_for("api.get_customer", id=customer.public_id)
    return response, 201


@bp.get("/customers/<id>")
def get_customer(id: str) -> Any:
    """Return one customer; another organization's id is unknown here."""
    return jsonify(customer_json(customer_service.get_customer(id)))


_nullable_text = {"type": ["string", "null"]}

OPENAPI_SCHEMAS["Customer"] = {
    "type": "object",
    "required": ["id", "name", "email", "phone", "document", "external_id"],
    "properties": {
        "id": {"type": "string", "examples": ["cus_8k2m4q7rx1t9vz3a"]},
        "name": {"type": "string"},
        "email": _nullable_text,
        "phone": {
            "type": ["string", "null"],
            "description": "Dígitos com o código do país: 5511987654321.",
        },
        "document": {
            "type": ["string", "null"],
            "description": "CPF (11) ou CNPJ (14), só dígitos.",
        },
        "external_id": _nullable_text,
    },
}

OPENAPI_SCHEMAS["CustomerCreate"] = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "email": {"type": ["string", "null"], "maxLength": 254},
        "phone": {
            "type": ["string", "null"],
            "maxLength": 30,
            "description": "Telefone brasileiro com DDD: (11) 98765-4321.",
        },
        "document": {
            "type": ["string", "null"],
            "maxLength": 30,
            "description": "CPF ou CNPJ, com ou sem pontuação; dígitos conferidos.",
        },
        "external_id": {
            "type": ["string", "null"],
            "maxLength": 100,
            "description": "O id do cliente no seu sistema; único na organização.",
        },
    },
}

OPENAPI_PATHS["/customers"] = {
    "post": {
        "operationId": "createCustomer",
        "summary": "Cria um cliente",
        "tags": ["customers"],
        "requestBody": json_body(ref("CustomerCreate")),
        "responses": {
            "201": {
                "description": "Cliente criado.",
                "content": json_content(ref("Customer")),
            },
            **errors(400, 401, 422),
        },
    }
}

OPENAPI_PATHS["/customers/{id}"] = {
    "get": {
        "operationId": "getCustomer",
        "summary": "Mostra um cliente",
        "tags": ["customers"],
        "parameters": [path_id()],
        "responses": {
            "200": {
                "description": "O cliente.",
                "content": json_content(ref("Customer")),
            },
            **errors(401, 404),
        },
    }
}
