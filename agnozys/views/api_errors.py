"""The JSON API's error shape (API.md): ``{"error": {code, message, fields}}``."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify


class ApiError(Exception):
    """Raise from an API view to answer with the error shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}


def error_response(
    status: int, code: str, message: Any, fields: dict[str, str] | None = None
) -> tuple[Response, int]:
    body = {"error": {"code": code, "message": str(message), "fields": fields or {}}}
    return jsonify(body), status
