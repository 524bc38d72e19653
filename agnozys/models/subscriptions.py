"""Plans, subscriptions, issued periods, contacts and access deliveries."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
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
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import PublicId, TenantOwned, UTCDateTime, utcnow
from .billing import Customer, Invoice
from .core import Organization


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        length=16,
        values_callable=lambda e: [m.value for m in e],
    )


class PlanInterval(enum.StrEnum):
    MONTH = "month"
    YEAR = "year"


class Plan(PublicId, TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """A recurring price: an amount charged every month or every year."""

    __tablename__ = "plans"
    PREFIX = "pln"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    amount: Mapped[int] = mapped_column(BigInteger)
    interval: Mapped[PlanInterval] = mapped_column(_enum(PlanInterval))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class SubscriptionStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELED = "canceled"


class Subscription(PublicId, TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """A customer on a plan, billed once per period from ``start_date``.

    ``next_billing_date`` is the start of the next period not yet issued;
    ``periods_issued`` counts the periods so dates stay anchored on the
    start day (31 Jan, 28 Feb, 31 Mar...).
    """

    __tablename__ = "subscriptions"
    PREFIX = "sub"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), index=True)
    status: Mapped[SubscriptionStatus] = mapped_column(
        _enum(SubscriptionStatus), default=SubscriptionStatus.ACTIVE
    )
    start_date: Mapped[date] = mapped_column(Date)
    next_billing_date: Mapped[date] = mapped_column(Date)
    periods_issued: Mapped[int] = mapped_column(Integer, default=0)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    customer: Mapped[Customer] = relationship()
    plan: Mapped[Plan] = relationship()
    organization: Mapped[Organization] = relationship()

    __table_args__ = (
        Index(
            "ix_subscriptions_org_status_next",
            "organization_id",
            "status",
            "next_billing_date",
        ),
    )


class SubscriptionPeriod(TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """One issued period; the unique key makes issuing idempotent."""

    __tablename__ = "subscription_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    period_start: Mapped[date] = mapped_column(Date)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    invoice: Mapped[Invoice] = relationship()

    __table_args__ = (UniqueConstraint("subscription_id", "period_start"),)


class ContactChannel(enum.StrEnum):
    CALL = "call"
    WHATSAPP = "whatsapp"
    EMAIL = "email"


class ContactOutcome(enum.StrEnum):
    NO_ANSWER = "no_answer"
    PROMISED = "promised"
    REFUSED = "refused"
    PAID = "paid"


class Contact(TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """Staff tried to reach a customer about what they owe.

    ``day`` is the local date of the contact in the organization's time
    zone, compared with due dates by the candidates query.
    """

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    channel: Mapped[ContactChannel] = mapped_column(_enum(ContactChannel))
    outcome: Mapped[ContactOutcome] = mapped_column(_enum(ContactOutcome))
    promised_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(300), default="system")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_contacts_customer_day", "customer_id", "day"),)


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class AccessDelivery(PublicId, TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """One ``access.blocked`` or ``access.unblocked`` for the access blocker.

    Deliveries of a subscription go out in id order; a failed one is
    retried with backoff until ``failed`` (then only by hand).
    """

    __tablename__ = "access_deliveries"
    PREFIX = "dlv"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id"), index=True
    )
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscription: Mapped[Subscription] = relationship()
    customer: Mapped[Customer] = relationship()
    attempt_log: Mapped[list[AccessAttempt]] = relationship(
        order_by="AccessAttempt.id", back_populates="delivery"
    )


class AccessAttempt(TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """One try at a delivery: when, the answer's status code, the error."""

    __tablename__ = "access_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("access_deliveries.id"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)

    delivery: Mapped[AccessDelivery] = relationship(back_populates="attempt_log")
