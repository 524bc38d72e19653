"""Assemble the OpenAPI 3.1 document from the area modules' fragments."""

from __future__ import annotations

from typing import Any

from . import OPENAPI_PATHS, OPENAPI_SCHEMAS

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
            },
        }
    },
}


ERROR_DESCRIPTIONS = {
    400: "O corpo não é um objeto JSON.",
    401: "Token ausente, inválido ou revogado.",
    404: "Id desconhecido ou de outra organização.",
    409: "O estado atual não permite a ação.",
    422: "Valores inválidos; `fields` nomeia cada campo com o motivo.",
}


def ref(name: str) -> dict[str, str]:
    """Return a reference to a schema of ``components.schemas``."""
    return {"$ref": f"#/components/schemas/{name}"}


def path_id(name: str = "id") -> dict[str, Any]:
    """Return the path parameter that carries a public id."""
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """Return a required JSON ``requestBody``."""
    return {"required": True, "content": json_content(schema)}


def errors(*codes: int) -> dict[str, Any]:
    """Return the error responses of an operation, all of the Error shape."""
    return {
        str(code): {
            "description": ERROR_DESCRIPTIONS[code],
            "content": json_content(ref("Error")),
        }
        for code in codes
    }


def document() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the ``api`` blueprint."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Agnozys API",
            "version": "1",
            "description": "Cobranças, acordos, assinaturas e relatórios.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": OPENAPI_PATHS,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR_SCHEMA, **OPENAPI_SCHEMAS},
        },
    }


OPENAPI_PATHS["/openapi.json"] = {
    "get": {
        "operationId": "getOpenApi",
        "summary": "Este documento (sem token)",
        "tags": ["meta"],
        "security": [],
        "responses": {
            "200": {
                "description": "O documento OpenAPI 3.1 da API.",
                "content": json_content({"type": "object"}),
            }
        },
    }
}
