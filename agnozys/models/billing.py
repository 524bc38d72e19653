"""Customers, invoices and the timeline of events."""

from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import PublicId, TenantOwned, UTCDateTime, utcnow
from .core import Organization


class Customer(PublicId, TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """Who owes: a person (CPF) or a company (CNPJ)."""

    __tablename__ = "customers"
    PREFIX = "cus"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-cased, accent-free copy of the name for search.
    search_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    document: Mapped[str | None] = mapped_column(String(14))
    external_id: Mapped[str | None] = mapped_column(String(100))
    # Staff pause the reminder ladder for every invoice of the customer.
    reminders_paused: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    organization: Mapped[Organization] = relationship()

    __table_args__ = (
        Index("ix_customers_org_search_name", "organization_id", "search_name"),
        # Pattern ops: the CPF/CNPJ search is a prefix LIKE, which a plain
        # btree serves only under the C collation (PostgreSQL).
        Index(
            "ix_customers_org_document",
            "organization_id",
            "document",
            postgresql_ops={"document": "varchar_pattern_ops"},
        ),
        # Name search is LIKE '%word%': trigrams (pg_trgm) on PostgreSQL, a
        # plain index elsewhere.
        Index(
            "ix_customers_search_trgm",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
        UniqueConstraint("organization_id", "external_id"),
    )


sa_event.listen(
    Customer.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"),
)


class InvoiceStatus(enum.StrEnum):
    """Stored states. ``overdue`` is derived: pending and past its due date."""

    PENDING = "pending"
    PAID = "paid"
    CANCELED = "canceled"


# What the API and UI may filter on.
DISPLAY_STATUSES = ("pending", "overdue", "paid", "canceled")


def payment_token() -> str:
    """Return a payment-link token: 192 random bits, never derived from ids."""
    return secrets.token_urlsafe(24)


class Invoice(PublicId, TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """An amount due on a date, with its late-charge terms.

    ``amount`` is the principal and never changes. Late charges that a
    reschedule froze live in ``frozen_fine`` and ``frozen_interest`` (what
    staff waived already taken out); ``fine_settled`` says the fine was
    frozen or waived once and is never charged again.
    """

    __tablename__ = "invoices"
    PREFIX = "inv"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(Integer, index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[InvoiceStatus] = mapped_column(
        Enum(
            InvoiceStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=InvoiceStatus.PENDING,
    )
    amount: Mapped[int] = mapped_column(BigInteger)
    fine_bp: Mapped[int] = mapped_column(Integer)
    interest_bp: Mapped[int] = mapped_column(Integer)
    frozen_fine: Mapped[int] = mapped_column(BigInteger, default=0)
    frozen_interest: Mapped[int] = mapped_column(BigInteger, default=0)
    fine_settled: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[date] = mapped_column(Date)
    original_due_date: Mapped[date] = mapped_column(Date)
    payment_token: Mapped[str] = mapped_column(
        String(64), unique=True, default=payment_token
    )
    gateway_charge_id: Mapped[str | None] = mapped_column(String(120), index=True)
    agreement_id: Mapped[int | None] = mapped_column(Integer, index=True)
    replaced_by_agreement_id: Mapped[int | None] = mapped_column(Integer)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_amount: Mapped[int | None] = mapped_column(BigInteger)
    payment_method: Mapped[str | None] = mapped_column(String(32))
    reminders_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    # Optimistic lock: two staff acting at once get one success, one 409.
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    customer: Mapped[Customer] = relationship()
    organization: Mapped[Organization] = relationship()

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("organization_id", "number"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "frozen_fine >= 0 AND frozen_interest >= 0", name="frozen_non_negative"
        ),
        # The Cobranças list: filter by status, sort by date or amount,
        # ties broken by id, keyset-paginated.
        # The INCLUDE columns make the count, the total and the page's ids
        # index-only scans on PostgreSQL (benchmarks/list_views.py).
        Index(
            "ix_invoices_list_due",
            "organization_id",
            "status",
            "due_date",
            "id",
            postgresql_include=["amount"],
        ),
        Index(
            "ix_invoices_list_amount",
            "organization_id",
            "status",
            "amount",
            "id",
            postgresql_include=["due_date"],
        ),
        Index("ix_invoices_org_due", "organization_id", "due_date", "id"),
        Index("ix_invoices_org_amount", "organization_id", "amount", "id"),
    )

    def is_final(self) -> bool:
        """Paid and canceled invoices can no longer change."""
        return self.status in (InvoiceStatus.PAID, InvoiceStatus.CANCELED)

    def display_status(self, today: date) -> str:
        """Return ``pending``, ``overdue``, ``paid`` or ``canceled``."""
        if self.status == InvoiceStatus.PENDING and self.due_date < today:
            return "overdue"
        return str(self.status.value)


class Event(TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """One entry of a timeline: who did what, when, from what to what."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(300), default="system")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_events_invoice", "invoice_id", "id"),
        Index("ix_events_subscription", "subscription_id", "id"),
        Index("ix_events_org_type_at", "organization_id", "type", "at"),
    )
