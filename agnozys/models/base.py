"""Shared column types and mixins for the models."""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

# Crockford-style alphabet without look-alike characters.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
# base32 writes 5 bits per character; map its letters onto ours.
_FROM_BASE32 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def public_id(prefix: str) -> str:
    """Return a random, opaque id such as ``inv_8k2m...`` (80 random bits).

    Ids never count anything, so one organization cannot infer another's
    volume from them.
    """
    # Ten random bytes are exactly sixteen base32 characters, no padding:
    # one call to the OS instead of one per character.
    token = base64.b32encode(secrets.token_bytes(10)).translate(_FROM_BASE32)
    return f"{prefix}_{token.decode()}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(
        self, value: datetime | None, dialect: Dialect
    ) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class TenantOwned:
    """A row that belongs to one organization; see :mod:`agnozys.tenancy`."""

    @declared_attr
    def organization_id(cls) -> Mapped[int]:
        return mapped_column(
            Integer, ForeignKey("organizations.id"), nullable=False, index=True
        )


class PublicId:
    """A row that the API names by an opaque string id."""

    PREFIX = "obj"

    @declared_attr
    def public_id(cls) -> Mapped[str]:
        prefix = cls.PREFIX
        return mapped_column(
            String(24),
            unique=True,
            nullable=False,
            default=lambda: public_id(prefix),
        )
