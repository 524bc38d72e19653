"""The reminder ladder: the daily sweep, the send job, steps and pauses.

The sweep for day D claims, in one set-based ``INSERT ... SELECT``, a
:class:`~agnozys.models.ReminderSend` row for every unpaid, unpaused
invoice, active step and channel with ``due_date + offset == D``. The row's
unique key (invoice, step offset, channel, due date) is the exactly-once
guarantee: a second sweep, a concurrent one or a retried job inserts
nothing (``ON CONFLICT DO NOTHING``). The claimed rows are then handed
to ``reminder.send_batch`` jobs of :data:`SEND_BATCH` rows each.

Catch-up rule (``flask dunning run --date D`` with D before today T): a
step that falls on D is claimed only if no other active step of the same
organization falls after D and on or before T for that invoice, i.e. no
step whose offset is greater than the step's and at most the step's plus
``T - D`` days. So after three days without workers, running D-3, D-2,
D-1 and T sends each invoice at most the latest step still due, never the
stale ones it has already outgrown. Running a past day again is harmless.

A send job claims its rows (``queued`` -> ``sending``), renders each
step's template for the invoice as it is now, and calls the notifiers
with an idempotency key per reminder. Success ends as ``sent`` with
``reminder.sent`` on the invoice's timeline; a failure is retried after
the delays in ``AGNOZYS_REMINDER_RETRY_DELAYS`` and then ends as
``failed`` with ``reminder.failed`` and the reason. A job that died mid-send (worker
crash) leaves its row ``sending``; once the lease
(``AGNOZYS_REMINDER_LEASE_SECONDS``) has passed, the next sweep or
:func:`recover_stalled` hands it over again, and the idempotency key lets
the outbox record it once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from .. import clock, jobs, ladder_templates, money, plugins, tenancy
from ..extensions import db
from ..hookspecs import Message
from ..models import Customer, Event, Invoice, InvoiceStatus, Organization, utcnow
from ..models.ladder import (
    MAX_OFFSET,
    MIN_OFFSET,
    LadderStep,
    OutboxMessage,
    ReminderSend,
    ReminderStatus,
)
from . import Conflict, NotFound, ValidationFailed
from .invoices import figures, payment_url
from .timeline import record

log = logging.getLogger(__name__)

ACTOR = "system:ladder"
BATCH = 1000
#: Reminders per send job (``AGNOZYS_REMINDER_BATCH``): a job claims, sends
#: and records them together.
SEND_BATCH = 100
#: Seconds a send job spends offering messages before it hands the rest of
#: its batch to a new job (well inside RQ's 180 s default job timeout).
BATCH_SECONDS = 60
DEFAULT_RETRY_DELAYS = (60, 300, 1800)
DEFAULT_LEASE_SECONDS = 600
CHANNEL_LABELS = {"email": "E-mail", "sms": "SMS"}


class NoNotifier(RuntimeError):
    """No configured notifier serves the reminder's channel."""


@dataclass(frozen=True)
class SweepResult:
    """What one run of the ladder did."""

    day: date | None
    claimed: int
    handed_over: int
    recovered: int


# --- settings -----------------------------------------------------------------


def retry_delays() -> tuple[int, ...]:
    """Return the seconds to wait before each retry of a failed send."""
    raw = current_app.config.get("AGNOZYS_REMINDER_RETRY_DELAYS", DEFAULT_RETRY_DELAYS)
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    return tuple(int(value) for value in raw)


def send_batch() -> int:
    """Return how many reminders one send job takes."""
    return max(1, int(current_app.config.get("AGNOZYS_REMINDER_BATCH", SEND_BATCH)))


def lease() -> timedelta:
    """Return how long a send may stay ``sending`` before it counts as dead."""
    seconds = current_app.config.get(
        "AGNOZYS_REMINDER_LEASE_SECONDS", DEFAULT_LEASE_SECONDS
    )
    return timedelta(seconds=int(seconds))


# --- the sweep ----------------------------------------------------------------


def _due_date_for(day: date, offset: Any) -> ColumnElement[Any]:
    """Return SQL for ``day - offset days`` on the current dialect."""
    if db.engine.dialect.name == "sqlite":
        # Dates are ISO strings on SQLite.
        return func.date(literal(day.isoformat()), func.printf("%d days", -offset))
    return cast(literal(day, Date), Date) - offset


def claim_select(day: date, today: date, timezone: str) -> Any:
    """Return the SELECT of every reminder that falls on ``day``.

    One row per (invoice, step, channel): organization, invoice, step,
    offset, channel, due date, the sweep's day, ``queued``, 0 attempts,
    recipient and timestamp, in :data:`CLAIM_COLUMNS` order.
    """
    step = aliased(LadderStep, name="step")
    later = aliased(LadderStep, name="later")
    lag = (today - day).days
    now = utcnow()

    def for_channel(channel: str, flag: Any, address: Any) -> Any:
        query = (
            select(
                step.organization_id,
                Invoice.id,
                step.id,
                step.offset_days,
                literal(channel),
                Invoice.due_date,
                literal(day, Date),
                literal(ReminderStatus.QUEUED.value),
                literal(0),
                address,
                literal(now, ReminderSend.created_at.type),
            )
            .select_from(step)
            .join(Organization, Organization.id == step.organization_id)
            .join(
                Invoice,
                and_(
                    Invoice.organization_id == step.organization_id,
                    Invoice.status == InvoiceStatus.PENDING,
                    Invoice.due_date == _due_date_for(day, step.offset_days),
                ),
            )
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(
                step.active,
                flag,
                Organization.timezone == timezone,
                Invoice.reminders_paused == false(),
                Customer.reminders_paused == false(),
                address.is_not(None),
                address != "",
            )
        )
        if lag > 0:
            # Catch-up: skip a step that a later step, already due by
            # today, has overtaken (see the module docstring).
            query = query.where(
                ~exists().where(
                    later.organization_id == step.organization_id,
                    later.active,
                    later.offset_days > step.offset_days,
                    later.offset_days <= step.offset_days + lag,
                )
            )
        return query

    return union_all(
        for_channel("email", step.send_email, Customer.email),
        for_channel("sms", step.send_sms, Customer.phone),
    )


CLAIM_COLUMNS = [
    "organization_id",
    "invoice_id",
    "step_id",
    "offset_days",
    "channel",
    "due_date",
    "for_date",
    "status",
    "attempts",
    "recipient",
    "created_at",
]


def claim_statement(day: date, today: date, timezone: str) -> Any:
    """Return the ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` claim."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    table = ReminderSend.__table__
    return (
        dialect.insert(table)
        .from_select(CLAIM_COLUMNS, claim_select(day, today, timezone))
        .on_conflict_do_nothing()
    )


def claim(day: date, today: date, timezone: str) -> int:
    """Claim the reminders of ``day`` for organizations in ``timezone``; commit."""
    statement = claim_statement(day, today, timezone)
    if db.engine.dialect.name == "postgresql":
        # psycopg reports no rowcount for this INSERT ... SELECT: count the
        # claimed rows in the same statement instead.
        claimed = statement.returning(ReminderSend.__table__.c.id).cte("claimed")
        count = db.session.execute(select(func.count()).select_from(claimed))
        total = int(count.scalar_one())
    else:
        result = db.session.execute(statement)
        total = int(result.rowcount or 0)  # type: ignore[attr-defined]
    db.session.commit()
    return total


def _hand_over(condition: ColumnElement[bool]) -> int:
    """Give each row matching ``condition`` a send job, in batches; commit each.

    One statement per batch picks and marks the rows (``UPDATE ... WHERE id
    IN (SELECT ... LIMIT)``): the database walks its index once, rather than
    matching every candidate against a list of a thousand ids sent back to
    it. On PostgreSQL the pick skips rows a concurrent sweep has locked, so
    two sweeps share the work instead of waiting on each other.
    """
    total = 0
    size = send_batch()
    while True:
        pick = (
            select(ReminderSend.id)
            .where(condition)
            .order_by(ReminderSend.id)
            .limit(BATCH)
        )
        if db.engine.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        taken = sorted(
            db.session.execute(
                update(ReminderSend)
                .where(ReminderSend.id.in_(pick.scalar_subquery()))
                .values(next_attempt_at=utcnow())
                .returning(ReminderSend.id)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
        if not taken:
            db.session.commit()
            return total
        jobs.enqueue_many_after_commit(
            "reminder.send_batch",
            [{"send_ids": taken[at : at + size]} for at in range(0, len(taken), size)],
        )
        db.session.commit()
        total += len(taken)


def hand_over_new() -> int:
    """Hand every claimed reminder that has no job yet to a send job."""
    return _hand_over(
        and_(
            ReminderSend.status == ReminderStatus.QUEUED,
            ReminderSend.next_attempt_at.is_(None),
        )
    )


def recover_stalled() -> int:
    """Hand over again reminders whose job was lost or died mid-send."""
    cutoff = utcnow() - lease()
    return _hand_over(
        and_(
            ReminderSend.status.in_([ReminderStatus.QUEUED, ReminderStatus.SENDING]),
            ReminderSend.next_attempt_at < cutoff,
            or_(ReminderSend.claimed_at.is_(None), ReminderSend.claimed_at < cutoff),
        )
    )


def run_ladder(day: date | None = None) -> SweepResult:
    """Run the ladder for ``day`` (today in each organization's time zone).

    The one code path of ``flask dunning run`` and the daily ``rq cron`` job.
    """
    claimed = 0
    with tenancy.unscoped():
        timezones = (
            db.session.execute(select(Organization.timezone).distinct()).scalars().all()
        )
        for timezone in timezones:
            today = clock.today(timezone)
            target = day or today
            if target > today:
                log.warning("Ladder %s: %s is in the future, skipped", timezone, target)
                continue
            count = claim(target, today, timezone)
            log.info(
                "Ladder %s: %d reminder(s) claimed for %s", timezone, count, target
            )
            claimed += count
        handed = hand_over_new()
        recovered = recover_stalled()
    if recovered:
        log.warning("Ladder: %d stalled reminder(s) handed over again", recovered)
    return SweepResult(day, claimed, handed, recovered)


@jobs.job("ladder.run")
def run_ladder_job(day: str | None = None) -> dict[str, Any]:
    """Run the ladder from ``rq cron`` (``day`` as YYYY-MM-DD, default today)."""
    result = run_ladder(date.fromisoformat(day) if day else None)
    return {
        "claimed": result.claimed,
        "handed_over": result.handed_over,
        "recovered": result.recovered,
    }


@jobs.job("ladder.recover")
def recover_job() -> int:
    """Hand over reminders whose job was lost (scheduled every few minutes)."""
    with tenancy.unscoped():
        return recover_stalled()


# --- sending ------------------------------------------------------------------


def template_values(invoice: Invoice, today: date | None = None) -> dict[str, str]:
    """Return the placeholder values of ``invoice`` as of ``today``."""
    organization = invoice.organization
    if today is None:
        today = clock.today(organization.timezone)
    return {
        "cliente": invoice.customer.name,
        "descricao": invoice.description,
        "valor": money.format_brl(figures(invoice, today).amount_due),
        "vencimento": money.format_day(invoice.due_date),
        "link": payment_url(invoice),
        "numero": str(invoice.number),
        "empresa": organization.name,
    }


def _skip_reason(
    send: ReminderSend, invoice: Invoice, step: LadderStep | None
) -> str | None:
    if invoice.status == InvoiceStatus.PAID:
        return "paga"
    if invoice.status == InvoiceStatus.CANCELED:
        return "cancelada"
    if invoice.reminders_paused or invoice.customer.reminders_paused:
        return "lembretes pausados"
    if invoice.due_date != send.due_date:
        return "vencimento alterado"
    if step is None or not step.active:
        return "etapa removida ou desativada"
    return None


def _mask(recipient: str) -> str:
    """Keep enough of an address to recognise it on a timeline."""
    if "@" in recipient:
        name, _, domain = recipient.partition("@")
        return name[:2] + "***@" + domain
    return "***" + recipient[-4:]


@jobs.job("reminder.send")
def send_reminder(send_id: int) -> str:
    """Send one claimed reminder (how retries run); safe to run twice."""
    return send_reminders([send_id])[send_id]


@jobs.job("reminder.send_batch")
def send_reminders_job(send_ids: list[int]) -> dict[str, int]:
    """Send a batch of claimed reminders; return how many ended each way."""
    outcomes = send_reminders(send_ids)
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


@dataclass
class _Pending:
    """What sending one claimed reminder needs, read before any notifier runs."""

    send_id: int
    attempts: int
    organization_id: int
    invoice_id: int
    invoice_public_id: str
    customer_id: int
    subscription_id: int | None
    offset_days: int
    channel: str
    recipient: str
    subject: str
    body: str
    values: dict[str, str]


def _claim_sends(send_ids: list[int]) -> dict[int, int]:
    """Move the claimable rows among ``send_ids`` to ``sending``; commit.

    Returns ``{send_id: attempt number}`` for the rows this call took: a
    row done, or held by a live job elsewhere, is left alone.
    """
    now = utcnow()
    cutoff = now - lease()
    taken = db.session.execute(
        update(ReminderSend)
        .where(
            ReminderSend.id.in_(send_ids),
            or_(
                and_(
                    ReminderSend.status == ReminderStatus.QUEUED,
                    or_(
                        ReminderSend.next_attempt_at.is_(None),
                        ReminderSend.next_attempt_at <= now + timedelta(seconds=5),
                    ),
                ),
                and_(
                    ReminderSend.status == ReminderStatus.SENDING,
                    ReminderSend.claimed_at < cutoff,
                ),
            ),
        )
        .values(
            status=ReminderStatus.SENDING,
            claimed_at=now,
            attempts=ReminderSend.attempts + 1,
        )
        .returning(ReminderSend.id, ReminderSend.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return {int(send_id): int(attempts) for send_id, attempts in taken}


def send_reminders(send_ids: list[int]) -> dict[int, str]:
    """Send claimed reminders, a batch at a time; safe to run twice or concurrently.

    Returns each id's outcome: ``sent``, ``skipped``, ``retry``, ``failed``,
    ``deferred`` (handed to a new job after :data:`BATCH_SECONDS`) or
    ``not-claimable``. The batch costs a fixed number of round trips:
    one UPDATE claims every row, one SELECT reads what the messages need,
    the notifiers run, then one UPDATE and one INSERT record the sent and
    skipped rows and their timeline events in a single commit. A failed
    send is handled on its own (retry with backoff, or ``failed``) and
    does not hold back the others. Should the process die between the
    notifiers and that commit, the batch's rows stay ``sending`` and are
    handed over again once the lease passes; the idempotency key lets a
    notifier recognise the repeat.
    """
    claimed = _claim_sends(list(send_ids))
    outcomes = {send_id: "not-claimable" for send_id in send_ids}
    if not claimed:
        log.debug("Reminders %s: none claimable (done or held elsewhere)", send_ids)
        return outcomes

    updates: list[dict[str, Any]] = []
    pending: list[_Pending] = []
    failures: list[tuple[int, int, Exception]] = []
    # One round trip for everything the messages need.
    rows = db.session.execute(
        select(ReminderSend, Invoice, LadderStep)
        .join(Invoice, Invoice.id == ReminderSend.invoice_id)
        .outerjoin(LadderStep, LadderStep.id == ReminderSend.step_id)
        .options(joinedload(Invoice.customer), joinedload(Invoice.organization))
        .where(ReminderSend.id.in_(list(claimed)))
        .order_by(ReminderSend.id)
    ).all()
    for send, invoice, step in rows:
        reason = _skip_reason(send, invoice, step)
        if reason or step is None:
            updates.append(
                {"id": send.id, "status": ReminderStatus.SKIPPED, "last_error": reason}
            )
            outcomes[send.id] = "skipped"
            log.info("Reminder %s: skipped, invoice %s %s", send.id, invoice.id, reason)
            continue
        try:
            values = template_values(invoice)
        except Exception as exc:  # a bad row fails alone, not its batch
            failures.append((send.id, claimed[send.id], exc))
            continue
        pending.append(
            _Pending(
                send_id=send.id,
                attempts=claimed[send.id],
                organization_id=invoice.organization_id,
                invoice_id=invoice.id,
                invoice_public_id=invoice.public_id,
                customer_id=invoice.customer_id,
                subscription_id=invoice.subscription_id,
                offset_days=send.offset_days,
                channel=send.channel,
                recipient=send.recipient or "",
                subject=step.subject,
                body=step.body,
                values=values,
            )
        )
    # Nothing the notifiers do may ride on this transaction: end it, so a
    # notifier's failure (and the rollback it needs) loses nothing.
    db.session.commit()

    events: list[dict[str, Any]] = []
    started = time.monotonic()
    for index, item in enumerate(pending):
        if index and time.monotonic() - started > BATCH_SECONDS:
            # A slow provider (every send waiting out its timeout) must not
            # run the job past RQ's timeout: hand the rest, their attempt
            # not spent, to a new job.
            rest = pending[index:]
            updates.extend(
                {
                    "id": later.send_id,
                    "status": ReminderStatus.QUEUED,
                    "attempts": later.attempts - 1,
                    "next_attempt_at": utcnow(),
                }
                for later in rest
            )
            jobs.enqueue_many_after_commit(
                "reminder.send_batch", [{"send_ids": [r.send_id for r in rest]}]
            )
            for later in rest:
                outcomes[later.send_id] = "deferred"
            log.warning(
                "Reminders: batch over %d s, %d handed to a new job",
                BATCH_SECONDS,
                len(rest),
            )
            break
        try:
            rendered = ladder_templates.render(item.subject, item.body, item.values)
            message = Message(
                channel=item.channel,
                to=item.recipient,
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html if item.channel == "email" else None,
                organization_id=item.organization_id,
                invoice_id=item.invoice_public_id,
                idempotency_key=f"reminder-{item.send_id}",
            )
            results = [
                r for r in plugins.hook().agnozys_send_message(message=message) if r
            ]
            if not results:
                raise NoNotifier(
                    _(
                        "Nenhum notificador configurado para %(channel)s.",
                        channel=CHANNEL_LABELS.get(item.channel, item.channel),
                    )
                )
        except Exception as exc:
            db.session.rollback()
            failures.append((item.send_id, item.attempts, exc))
            continue
        notifier = ",".join(r.notifier for r in results)[:120]
        now = utcnow()
        updates.append(
            {
                "id": item.send_id,
                "status": ReminderStatus.SENT,
                "sent_at": now,
                "last_error": None,
                "notifier": notifier,
                "provider_id": ",".join(r.provider_id or "" for r in results)[:200]
                or None,
            }
        )
        events.append(
            {
                "organization_id": item.organization_id,
                "invoice_id": item.invoice_id,
                "customer_id": item.customer_id,
                "subscription_id": item.subscription_id,
                "type": "reminder.sent",
                "actor": ACTOR,
                "at": now,
                "data": {
                    "step": item.offset_days,
                    "channel": item.channel,
                    "to": _mask(item.recipient),
                    "notifier": notifier,
                    "subject": rendered.subject,
                    "attempts": item.attempts,
                },
            }
        )
        outcomes[item.send_id] = "sent"
        log.info(
            "Invoice %s: reminder %+d %s sent by %s",
            item.invoice_id,
            item.offset_days,
            item.channel,
            notifier,
        )

    if updates:
        db.session.execute(update(ReminderSend), updates)
    if events:
        db.session.execute(insert(Event), events)
    db.session.commit()
    for send_id, attempts, error in failures:
        outcomes[send_id] = _failed(send_id, attempts, error)
    return outcomes


def _failed(send_id: int, attempts: int, exc: Exception) -> str:
    reason = (str(exc) or type(exc).__name__)[:500]
    delays = retry_delays()
    send = db.session.get(ReminderSend, send_id)
    assert send is not None
    if attempts <= len(delays):
        delay = timedelta(seconds=delays[attempts - 1])
        send.status = ReminderStatus.QUEUED
        send.last_error = reason
        send.next_attempt_at = utcnow() + delay
        jobs.enqueue_after_commit("reminder.send", delay=delay, send_id=send_id)
        db.session.commit()
        log.warning(
            "Reminder %s: attempt %d failed, retry in %s: %s",
            send_id,
            attempts,
            delay,
            reason,
        )
        return "retry"
    send.status = ReminderStatus.FAILED
    send.last_error = reason
    invoice = db.session.get(Invoice, send.invoice_id)
    assert invoice is not None
    record(
        "reminder.failed",
        actor=ACTOR,
        invoice=invoice,
        data={
            "step": send.offset_days,
            "channel": send.channel,
            "to": _mask(send.recipient or ""),
            "reason": reason,
            "attempts": attempts,
        },
    )
    db.session.commit()
    log.warning(
        "Reminder %s: gave up after %d attempt(s): %s",
        send_id,
        attempts,
        reason,
        exc_info=exc,
    )
    return "failed"


# --- steps --------------------------------------------------------------------


def list_steps() -> list[LadderStep]:
    """Return the scoped organization's steps, earliest first."""
    return list(
        db.session.execute(select(LadderStep).order_by(LadderStep.offset_days))
        .scalars()
        .all()
    )


def get_step(step_id: int) -> LadderStep:
    step = db.session.execute(
        select(LadderStep).where(LadderStep.id == step_id)
    ).scalar_one_or_none()
    if step is None:
        raise NotFound(_("Etapa não encontrada."))
    return step


def describe_offset(offset: int) -> str:
    """Say where a step sits, in Portuguese: "5 dias antes do vencimento"."""
    if offset == 0:
        return _("No dia do vencimento")
    count = abs(offset)
    if offset < 0:
        return _("%(n)d dia(s) antes do vencimento", n=count)
    return _("%(n)d dia(s) após o vencimento", n=count)


def clean_step(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a step's fields; raise :class:`ValidationFailed` naming each."""
    fields: dict[str, str] = {}
    values: dict[str, Any] = {}

    raw_offset = data.get("offset_days")
    try:
        if isinstance(raw_offset, bool) or raw_offset in (None, ""):
            raise ValueError
        offset = int(str(raw_offset).strip())
    except ValueError:
        fields["offset_days"] = _("Informe o dia da etapa, como -5, 0 ou 7.")
    else:
        if not MIN_OFFSET <= offset <= MAX_OFFSET:
            fields["offset_days"] = _(
                "O dia deve ficar entre %(low)d e %(high)d.",
                low=MIN_OFFSET,
                high=MAX_OFFSET,
            )
        values["offset_days"] = offset

    values["send_email"] = _flag(data.get("send_email"))
    values["send_sms"] = _flag(data.get("send_sms"))
    if not (values["send_email"] or values["send_sms"]):
        fields["channels"] = _("Escolha ao menos um canal: e-mail ou SMS.")
    values["active"] = _flag(data.get("active", True))

    subject = str(data.get("subject") or "").strip()
    body = str(data.get("body") or "").strip()
    if len(subject) > 200:
        fields["subject"] = _("Use no máximo 200 caracteres no assunto.")
    elif not subject and values["send_email"]:
        fields["subject"] = _("Informe o assunto do e-mail.")
    else:
        try:
            values["subject"] = ladder_templates.check(subject)
        except ladder_templates.TemplateRefused as exc:
            fields["subject"] = str(exc)
    if not body:
        fields["body"] = _("Escreva a mensagem.")
    else:
        try:
            values["body"] = ladder_templates.check(body)
        except ladder_templates.TemplateRefused as exc:
            fields["body"] = str(exc)

    if fields:
        raise ValidationFailed(_("Confira os campos destacados."), fields)
    return values


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in ("1", "true", "on", "yes", "sim", "y")


def _duplicate(offset: int) -> ValidationFailed:
    return ValidationFailed(
        _("Confira os campos destacados."),
        {
            "offset_days": _(
                "Já existe uma etapa em %(when)s.",
                when=describe_offset(offset).lower(),
            )
        },
    )


def save_step(
    data: dict[str, Any], *, organization_id: int, step_id: int | None = None
) -> LadderStep:
    """Create a step, or update step ``step_id``; one transaction."""
    values = clean_step(data)
    step = get_step(step_id) if step_id is not None else None
    clash = db.session.execute(
        select(LadderStep.id).where(
            LadderStep.organization_id == organization_id,
            LadderStep.offset_days == values["offset_days"],
            LadderStep.id != (step_id or 0),
        )
    ).first()
    if clash:
        raise _duplicate(values["offset_days"])
    if step is None:
        step = LadderStep(organization_id=organization_id)
        db.session.add(step)
    for name, value in values.items():
        setattr(step, name, value)
    try:
        db.session.commit()
    except IntegrityError as exc:
        # Two editors saving the same offset at once: one wins.
        db.session.rollback()
        raise _duplicate(values["offset_days"]) from exc
    return step


def delete_step(step_id: int) -> None:
    """Remove a step; reminders it already sent keep their record."""
    step = get_step(step_id)
    db.session.delete(step)
    db.session.commit()


def preview(
    subject: str, body: str, invoice: Invoice | None
) -> ladder_templates.Rendered:
    """Render a step's templates for a real invoice (or sample values)."""
    if invoice is not None:
        values = template_values(invoice)
    else:
        values = {
            "cliente": "Maria Silva",
            "descricao": "Mensalidade",
            "valor": money.format_brl(15_000),
            "vencimento": money.format_day(date.today()),
            "link": current_app.config["AGNOZYS_BASE_URL"].rstrip("/") + "/pay/...",
            "numero": "1",
            "empresa": "",
        }
    return ladder_templates.render(subject, body, values)


def sample_invoice(public_id: str | None = None) -> Invoice | None:
    """Return the invoice to preview: the one asked for, else a recent unpaid one."""
    query = select(Invoice)
    if public_id:
        query = query.where(Invoice.public_id == public_id)
    else:
        query = query.where(Invoice.status == InvoiceStatus.PENDING).order_by(
            Invoice.id.desc()
        )
    return db.session.execute(query.limit(1)).scalar_one_or_none()


# --- pauses -------------------------------------------------------------------


def set_invoice_paused(invoice: Invoice, paused: bool, *, actor: str) -> Invoice:
    """Pause or resume reminders of one invoice; one transaction."""
    if invoice.is_final() and paused:
        raise Conflict(_("Cobranças pagas ou canceladas não recebem lembretes."))
    if invoice.reminders_paused != paused:
        invoice.reminders_paused = paused
        record(
            "reminders.paused" if paused else "reminders.resumed",
            actor=actor,
            invoice=invoice,
            data={"scope": "invoice"},
        )
    db.session.commit()
    return invoice


def set_customer_paused(customer: Customer, paused: bool, *, actor: str) -> Customer:
    """Pause or resume reminders of every invoice of one customer."""
    if customer.reminders_paused != paused:
        customer.reminders_paused = paused
        record(
            "reminders.paused" if paused else "reminders.resumed",
            actor=actor,
            customer_id=customer.id,
            organization_id=customer.organization_id,
            data={"scope": "customer"},
        )
    db.session.commit()
    return customer


# --- reading ------------------------------------------------------------------


def sends_of(invoice: Invoice) -> list[ReminderSend]:
    """Return the reminders of one invoice, newest first."""
    return list(
        db.session.execute(
            select(ReminderSend)
            .where(ReminderSend.invoice_id == invoice.id)
            .order_by(ReminderSend.id.desc())
        )
        .scalars()
        .all()
    )


def outbox_page(
    before_id: int | None = None, channel: str | None = None, limit: int = 50
) -> list[OutboxMessage]:
    """Return a page of the outbox, newest first (keyset on id)."""
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if before_id:
        query = query.where(OutboxMessage.id < before_id)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return list(db.session.execute(query).scalars().all())
