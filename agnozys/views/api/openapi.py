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


def document() -> dict[str, Any]:
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
