"""API routes for customers (API.md)."""

from __future__ import annotations

from . import OPENAPI_PATHS, bp  # noqa: F401
