"""Organizations, staff users and API tokens."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import TenantOwned, UTCDateTime, utcnow


class Organization(db.Model):  # type: ignore[name-defined,misc]
    """A business using Agnozys; the tenant every other row belongs to."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="America/Sao_Paulo")
    # Rates in hundredths of a percent: 200 is 2.00%, 100 is 1.00% a month.
    fine_bp: Mapped[int] = mapped_column(Integer, default=200)
    interest_bp: Mapped[int] = mapped_column(Integer, default=100)
    # Invoice numbers are per organization; the counter is bumped with an
    # UPDATE ... RETURNING so concurrent creators never share a number.
    invoice_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Subscriptions (issue 6): candidates for suspension after this many
    # days overdue; reactivate on payment; suspend by itself when set.
    suspension_candidate_days: Mapped[int] = mapped_column(
        Integer, default=30, server_default="30"
    )
    auto_reactivate: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=sa_true()
    )
    auto_suspend_days: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name!r}>"


class Role(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    AGENT = "agent"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        """Return True when this role may do what ``other`` may do."""
        return self.rank <= other.rank


class User(UserMixin, TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """A staff member of one organization."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(
            Role,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=Role.VIEWER,
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Changing it logs out every session of the user (flask-login alt id).
    session_nonce: Mapped[str] = mapped_column(
        String(32), default=lambda: secrets.token_hex(16)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.session_nonce = secrets.token_hex(16)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    def can(self, role: Role | str) -> bool:
        """Return True when the user's role reaches ``role``."""
        return Role(self.role).at_least(Role(role))

    @property
    def actor(self) -> str:
        """How the user is named on timelines."""
        return f"user:{self.email}"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship()

    @classmethod
    def issue(cls, organization: Organization, name: str = "") -> tuple[ApiToken, str]:
        """Create a token; returns the row and the raw secret (shown once)."""
        raw = "agz_" + secrets.token_urlsafe(32)
        token = cls(
            organization_id=organization.id,
            name=name,
            token_hash=hash_token(raw),
            prefix=raw[:10],
        )
        return token, raw

    @property
    def actor(self) -> str:
        return f"token:{self.prefix}"
