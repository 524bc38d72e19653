""" "Today" is the date in the organization's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "America/Sao_Paulo"


def now() -> datetime:
    return datetime.now(UTC)


def today(timezone: str | None = DEFAULT_TIMEZONE) -> date:
    """Return today's date in ``timezone`` (an IANA name)."""
    return now().astimezone(ZoneInfo(timezone or DEFAULT_TIMEZONE)).date()


def local(moment: datetime, timezone: str | None = DEFAULT_TIMEZONE) -> datetime:
    return moment.astimezone(ZoneInfo(timezone or DEFAULT_TIMEZONE))
