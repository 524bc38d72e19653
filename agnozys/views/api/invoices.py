"""API routes for invoices (API.md)."""

from __future__ import annotations

from . import OPENAPI_PATHS, bp  # noqa: F401
