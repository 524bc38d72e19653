"""Agreements: one unpaid invoice replaced by installments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import PublicId, TenantOwned, UTCDateTime, utcnow
from .billing import Invoice


class Agreement(PublicId, TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """An original invoice canceled and split into parts (``Invoice.agreement_id``).

    ``original_invoice_id`` is unique: an invoice is split at most once,
    even when two staff confirm a split at the same moment.
    """

    __tablename__ = "agreements"
    PREFIX = "agr"

    id: Mapped[int] = mapped_column(primary_key=True)
    original_invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id"), unique=True
    )
    parts_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(BigInteger)
    waive: Mapped[str] = mapped_column(String(16), default="none")
    waived_fine: Mapped[int] = mapped_column(BigInteger, default=0)
    waived_interest: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    original_invoice: Mapped[Invoice] = relationship()
