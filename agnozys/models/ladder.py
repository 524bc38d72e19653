"""The reminder ladder: its steps, the reminders it sends, the outbox."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
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
    event,
    insert,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from ..extensions import db
from .base import TenantOwned, UTCDateTime, utcnow
from .core import Organization

CHANNELS = ("email", "sms")
# How far from the due date a step may sit, in days.
MIN_OFFSET = -60
MAX_OFFSET = 120


class LadderStep(TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """One rung of an organization's ladder: a message at an offset.

    ``offset_days`` counts from the due date: -5 is five days before it,
    0 the day itself, 7 a week after. An organization has at most one step
    per offset; the offset is what names the step in a reminder's key.
    """

    __tablename__ = "ladder_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    offset_days: Mapped[int] = mapped_column(Integer)
    send_email: Mapped[bool] = mapped_column(Boolean, default=True)
    send_sms: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    __table_args__ = (
        UniqueConstraint("organization_id", "offset_days"),
        CheckConstraint(
            f"offset_days BETWEEN {MIN_OFFSET} AND {MAX_OFFSET}",
            name="offset_in_range",
        ),
    )

    @property
    def channels(self) -> list[str]:
        return [
            c for c, on in (("email", self.send_email), ("sms", self.send_sms)) if on
        ]


class ReminderStatus(enum.StrEnum):
    QUEUED = "queued"  # claimed; a job will send it (again, after a failure)
    SENDING = "sending"  # a job holds it; see ReminderSend.claimed_at
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry
    SKIPPED = "skipped"  # paid, canceled or paused before its job ran


class ReminderSend(TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """One reminder of one invoice, step and channel: the exactly-once claim.

    The unique key (invoice, step offset, channel, due date) is what makes
    a doubled sweep, a retried job or two workers send it once: whoever
    inserts the row owns the reminder, everybody else's insert is ignored.
    The due date is part of the key so a rescheduled invoice climbs the
    ladder again from its new date.
    """

    __tablename__ = "reminder_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("ladder_steps.id", ondelete="SET NULL")
    )
    offset_days: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    due_date: Mapped[date] = mapped_column(Date)
    # The ladder day that produced it (the sweep's date).
    for_date: Mapped[date] = mapped_column(Date)
    status: Mapped[ReminderStatus] = mapped_column(
        Enum(
            ReminderStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=ReminderStatus.QUEUED,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # When the job for the next attempt was (or will be) handed over; NULL
    # until the sweep hands the first one over.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipient: Mapped[str | None] = mapped_column(String(254))
    notifier: Mapped[str | None] = mapped_column(String(120))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("invoice_id", "offset_days", "channel", "due_date"),
        Index("ix_reminder_sends_status_next", "status", "next_attempt_at", "id"),
    )


class OutboxMessage(TenantOwned, db.Model):  # type: ignore[name-defined,misc]
    """A message the ``outbox`` notifier "sent": kept here, shown to staff."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    invoice_public_id: Mapped[str | None] = mapped_column(String(24))
    # A retried send carries the same key and is recorded once.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_outbox_messages_org_id", "organization_id", "id"),)


# --- defaults for new organizations -----------------------------------------

_LINK = "Pague pelo link: {{ link }}"
DEFAULT_STEPS: list[dict[str, Any]] = [
    {
        "offset_days": -5,
        "subject": "Sua cobrança vence em {{ vencimento }}",
        "body": "Olá, {{ cliente }}! Lembrete: {{ descricao }} no valor de "
        "{{ valor }} vence em {{ vencimento }}. " + _LINK,
    },
    {
        "offset_days": 0,
        "subject": "Sua cobrança vence hoje",
        "body": "Olá, {{ cliente }}! {{ descricao }} no valor de {{ valor }} "
        "vence hoje, {{ vencimento }}. " + _LINK,
    },
    {
        "offset_days": 1,
        "subject": "Cobrança vencida: {{ descricao }}",
        "body": "Olá, {{ cliente }}. Não identificamos o pagamento de "
        "{{ descricao }}, vencida em {{ vencimento }}. Valor hoje: "
        "{{ valor }}. " + _LINK,
    },
    {
        "offset_days": 7,
        "subject": "Lembrete: cobrança vencida há uma semana",
        "body": "Olá, {{ cliente }}. {{ descricao }} venceu em {{ vencimento }} "
        "e segue em aberto. Valor hoje: {{ valor }}. " + _LINK,
    },
    {
        "offset_days": 15,
        "subject": "Último aviso: {{ descricao }}",
        "body": "Olá, {{ cliente }}. {{ descricao }} está vencida desde "
        "{{ vencimento }}. Valor hoje: {{ valor }}. Se já pagou, desconsidere. "
        + _LINK,
    },
]


@event.listens_for(Organization, "after_insert")
def _add_default_steps(
    mapper: Mapper[Organization], connection: Connection, target: Organization
) -> None:
    """Give every new organization the default ladder (e-mail and SMS)."""
    now = utcnow()
    connection.execute(
        insert(LadderStep.__table__),
        [
            {
                "organization_id": target.id,
                "send_email": True,
                "send_sms": True,
                "active": True,
                "created_at": now,
                "updated_at": now,
                **step,
            }
            for step in DEFAULT_STEPS
        ],
    )
