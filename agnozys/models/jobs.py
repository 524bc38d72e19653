"""The transactional outbox behind :func:`agnozys.jobs.enqueue_after_commit`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow


class PendingJob(db.Model):  # type: ignore[name-defined,misc]
    """A side effect written in the same transaction as its business change.

    The row is deleted once the job is handed to RQ (or has run in-process),
    so a crash between commit and enqueue leaves it behind for
    ``flask jobs dispatch`` to pick up: no committed change loses its job.
    """

    __tablename__ = "pending_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kwargs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
