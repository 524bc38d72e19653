"""Business actions: one function each, one transaction each.

A service takes the acting user or token (as an actor string), checks
state, writes the timeline, and schedules side effects with
:func:`agnozys.jobs.enqueue_after_commit`. Views and the API call the same
services, so the UI and the API cannot drift. Errors are raised as the
exceptions below, whose messages are in Portuguese.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")


class ServiceError(Exception):
    """Base of the errors a business action reports to its caller."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(ServiceError):
    """Invalid values; ``fields`` names each bad field with its reason."""

    status = 422
    code = "validation_failed"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The current state forbids the action (409)."""

    status = 409
    code = "conflict"

    def __init__(
        self, message: str, code: str = "conflict", fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, fields)
        self.code = code


def find_referenced(
    model: type[T],
    data: dict[str, Any],
    field: str,
    fields: dict[str, str],
    *,
    missing: str,
    unknown: str,
) -> T | None:
    """Look up the row a body names by public id in ``data[field]``.

    Notes ``missing`` or ``unknown`` in ``fields`` and returns None when the
    reference is absent or names nothing this organization can see.
    """
    from sqlalchemy import select

    from ..extensions import db

    ref = data.get(field)
    if not isinstance(ref, str) or not ref.strip():
        fields[field] = missing
        return None
    row = db.session.execute(
        select(model).where(model.public_id == ref.strip())  # type: ignore[attr-defined]
    ).scalar_one_or_none()
    if row is None:
        fields[field] = unknown
    return row
