"""Payments reported by gateways and comprovantes sent by customers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
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
from .billing import Invoice


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        length=16,
        values_callable=lambda e: [m.value for m in e],
    )


class PaymentStatus(enum.StrEnum):
    CONFIRMED = "confirmed"  # settled its invoice
    FLAGGED = "flagged"  # kept for staff: refund or credit
    RESOLVED = "resolved"  # a flagged payment staff dealt with


class FlagReason(enum.StrEnum):
    INVOICE_CANCELED = "invoice_canceled"
    INVOICE_PAID = "invoice_paid"
    UNKNOWN_CHARGE = "unknown_charge"
    WRONG_AMOUNT = "wrong_amount"


class Payment(PublicId, TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """Money a gateway says arrived; one row per gateway event, never dropped.

    ``organization_id`` stays empty only for a charge no organization knows;
    such a payment is visible to no one's staff, only in the logs.
    """

    __tablename__ = "payments"
    PREFIX = "pay"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(  # type: ignore[assignment]
        Integer, ForeignKey("organizations.id"), nullable=True, index=True
    )
    gateway: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(200))
    charge_id: Mapped[str | None] = mapped_column(String(120))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    # What the invoice asked for on the payment day, for wrong amounts.
    expected_amount: Mapped[int | None] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(32))
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus))
    flag_reason: Mapped[FlagReason | None] = mapped_column(_enum(FlagReason))
    resolution: Mapped[str | None] = mapped_column(String(16))  # refund, credit
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(300))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    invoice: Mapped[Invoice | None] = relationship()

    __table_args__ = (
        # The same gateway event delivered twice is one payment.
        UniqueConstraint("gateway", "event_id"),
        Index("ix_payments_org_status", "organization_id", "status", "id"),
        Index("ix_payments_invoice", "invoice_id"),
    )


class ProofStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Proof(PublicId, TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """A comprovante: a receipt file sent for a manual payment."""

    __tablename__ = "proofs"
    PREFIX = "prf"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    # Random file name under AGNOZYS_UPLOAD_DIR; never the sender's name.
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    original_name: Mapped[str] = mapped_column(String(200), default="")
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[ProofStatus] = mapped_column(_enum(ProofStatus))
    uploaded_by: Mapped[str] = mapped_column(String(300))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(500))

    invoice: Mapped[Invoice] = relationship()


class PixSettings(TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """An organization's own Pix key for the ``pix`` gateway.

    Without a row the deployment-wide ``AGNOZYS_PIX_*`` settings apply.
    """

    __tablename__ = "pix_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(77))
    merchant_name: Mapped[str] = mapped_column(String(25))
    merchant_city: Mapped[str] = mapped_column(String(15))
    updated_by: Mapped[str] = mapped_column(String(300), default="system")
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    __table_args__ = (UniqueConstraint("organization_id"),)
