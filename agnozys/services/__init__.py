"""Business actions: one function each, one transaction each.

A service takes the acting user or token (as an actor string), checks
state, writes the timeline, and schedules side effects with
:func:`agnozys.jobs.enqueue_after_commit`. Views and the API call the same
services, so the UI and the API cannot drift. Errors are raised as the
exceptions below, whose messages are in Portuguese.
"""

from __future__ import annotations


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
