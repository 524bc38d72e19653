"""The Painel: overdue today, recovered this month, and what each lever did.

A *recovered* invoice is one paid after its original due date (in the
organization's time zone) or paid as part of an agreement. Each lever
counts the recovered invoices it touched before they were paid, read from
the timeline (the ``Event`` table) and the invoice's own fields:

- ``reminder``: a ``reminder.sent`` event on the invoice before payment;
- ``reschedule``: an ``invoice.rescheduled`` event before payment;
- ``agreement``: the invoice is an agreement part (``agreement_id``);
- ``suspension``: its subscription had a ``subscription.suspended`` event
  before payment; the median time from that suspension to payment is
  reported too.

An invoice may count under several levers (reminded, then rescheduled),
so the levers need not add up to the recovered total.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, and_, case, exists, func, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from .. import clock, fees
from ..extensions import db
from ..models import Event, Invoice, InvoiceStatus, Organization
from .reports import amount_due_today, overdue_filter

LEVERS = ("reminder", "reschedule", "agreement", "suspension")


def month_bounds(today: date, timezone: str) -> tuple[datetime, datetime]:
    """Return the UTC instants where ``today``'s month starts and ends."""
    zone = ZoneInfo(timezone or clock.DEFAULT_TIMEZONE)
    first = today.replace(day=1)
    following = fees.add_months(first, 1)
    return (
        datetime.combine(first, time(), zone).astimezone(UTC),
        datetime.combine(following, time(), zone).astimezone(UTC),
    )


def _day_start(day: date, timezone: str) -> datetime:
    zone = ZoneInfo(timezone or clock.DEFAULT_TIMEZONE)
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _paid_between(organization_id: int, start: datetime, end: datetime) -> list[Any]:
    return [
        Invoice.organization_id == organization_id,
        Invoice.status == InvoiceStatus.PAID,
        Invoice.paid_at >= start,
        Invoice.paid_at < end,
    ]


def _event_before_payment(event_type: str) -> Any:
    return exists().where(
        Event.invoice_id == Invoice.id,
        Event.type == event_type,
        Event.at <= Invoice.paid_at,
    )


def _suspension_at() -> Any:
    # The latest suspension of the invoice's subscription before payment,
    # when the invoice was already due by then.
    return (
        select(func.max(Event.at))
        .where(
            Event.organization_id == Invoice.organization_id,
            Event.subscription_id == Invoice.subscription_id,
            Event.type == "subscription.suspended",
            Event.at <= Invoice.paid_at,
        )
        .correlate(Invoice)
        .scalar_subquery()
    )


class local_date(FunctionElement[date]):
    """The calendar date of a UTC timestamp in an IANA time zone."""

    type = Date()
    name = "local_date"
    inherit_cache = True


@compiles(local_date)
def _local_date_pg(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    moment, zone = list(element.clauses)
    moment_sql = compiler.process(moment, **kw)
    return f"CAST(({moment_sql} AT TIME ZONE {compiler.process(zone, **kw)}) AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite knows no time zones: take the zone's offset as of now, exact
    # for Brazilian zones (no daylight saving since 2019).
    moment, zone = list(element.clauses)
    offset = clock.now().astimezone(ZoneInfo(zone.value)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return f"date({compiler.process(moment, **kw)}, '{minutes:+d} minutes')"


def recovered_condition(organization: Organization) -> Any:
    """SQL condition: a paid invoice that was recovered from collection.

    Recovered means paid after its original due date (in the
    organization's time zone) or paid as part of an agreement.
    """
    zone_start = _local_date_expr(Invoice.paid_at, organization.timezone)
    return or_(
        Invoice.agreement_id.is_not(None), zone_start > Invoice.original_due_date
    )


def _local_date_expr(moment: Any, timezone: str) -> Any:
    return local_date(moment, literal(timezone or clock.DEFAULT_TIMEZONE))


def lever_condition(lever: str) -> Any:
    """SQL condition on a paid invoice: the lever acted before payment."""
    if lever == "reminder":
        return _event_before_payment("reminder.sent")
    if lever == "reschedule":
        return _event_before_payment("invoice.rescheduled")
    if lever == "agreement":
        return Invoice.agreement_id.is_not(None)
    if lever == "suspension":
        return and_(
            Invoice.subscription_id.is_not(None),
            _suspension_at().is_not(None),
        )
    raise ValueError(f"unknown lever {lever!r}")


def _paid_value() -> Any:
    return func.coalesce(Invoice.paid_amount, Invoice.amount)


@dataclass(frozen=True)
class Figure:
    """A count of invoices and their amount."""

    count: int
    amount: int


@dataclass(frozen=True)
class Overview:
    """The Painel's figures for one day."""

    today: date
    month_start: date
    overdue: Figure
    recovered: Figure
    levers: dict[str, Figure]
    suspension_median: timedelta | None
    suspension_samples: int
    weeks: list[WeekPoint]


@dataclass(frozen=True)
class WeekPoint:
    """One week of the trend: overdue principal at its end, recovered in it."""

    start: date
    end: date
    overdue: int
    recovered: int


def overview(
    organization: Organization, today: date | None = None, weeks: int = 8
) -> Overview:
    """Gather the Painel: overdue today, recovered this month, per lever."""
    if today is None:
        today = clock.today(organization.timezone)
    tz = organization.timezone
    start, end = month_bounds(today, tz)

    overdue_row = db.session.execute(
        select(func.count(), func.coalesce(func.sum(amount_due_today(today)), 0)).where(
            *overdue_filter(organization.id, today)
        )
    ).one()

    paid_filter = _paid_between(organization.id, start, end)
    recovered = recovered_condition(organization)
    columns = [func.count(), func.coalesce(func.sum(_paid_value()), 0)]
    for lever in LEVERS:
        condition = lever_condition(lever)
        columns.append(func.sum(case((condition, 1), else_=0)))
        columns.append(func.sum(case((condition, _paid_value()), else_=0)))
    row = db.session.execute(select(*columns).where(*paid_filter, recovered)).one()
    levers = {
        lever: Figure(int(row[2 + 2 * i] or 0), int(row[3 + 2 * i] or 0))
        for i, lever in enumerate(LEVERS)
    }

    suspended_at = _suspension_at().label("suspended_at")
    gaps = [
        paid_at - suspended
        for paid_at, suspended in db.session.execute(
            select(Invoice.paid_at, suspended_at).where(
                *paid_filter, recovered, lever_condition("suspension")
            )
        )
        if suspended is not None
    ]
    median = _median_gap(gaps)

    return Overview(
        today=today,
        month_start=today.replace(day=1),
        overdue=Figure(int(overdue_row[0]), int(overdue_row[1])),
        recovered=Figure(int(row[0]), int(row[1])),
        levers=levers,
        suspension_median=median,
        suspension_samples=len(gaps),
        weeks=trend(organization, today, weeks),
    )


def _median_gap(gaps: list[Any]) -> timedelta | None:
    if not gaps:
        return None
    return timedelta(seconds=statistics.median(g.total_seconds() for g in gaps))


def trend(organization: Organization, today: date, weeks: int = 8) -> list[WeekPoint]:
    """Overdue principal at each week's end and what was recovered in it.

    Weeks run Monday to Sunday; the current week ends today. Past overdue
    is rebuilt from the invoices as they are now: unpaid (or paid after
    the week's end) and past the current due date by then; invoices
    canceled since are left out, since their cancellation day is only on
    the timeline.
    """
    tz = organization.timezone
    this_monday = today - timedelta(days=today.weekday())
    spans = []
    for back in range(weeks - 1, -1, -1):
        week_start = this_monday - timedelta(weeks=back)
        week_end = min(week_start + timedelta(days=6), today)
        spans.append(
            (
                week_start,
                week_end,
                _day_start(week_start, tz),
                _day_start(week_end + timedelta(days=1), tz),
            )
        )
    # One pass over the invoices for every week: each week is a
    # conditional sum, so the cost does not grow with the number of weeks.
    first_end, last_end = spans[0][3], spans[-1][3]
    overdue = select(
        *(
            func.coalesce(
                func.sum(
                    case(
                        (
                            and_(
                                Invoice.due_date < week_end,
                                Invoice.created_at < end_instant,
                                or_(
                                    Invoice.paid_at.is_(None),
                                    Invoice.paid_at >= end_instant,
                                ),
                            ),
                            Invoice.amount,
                        ),
                        else_=0,
                    )
                ),
                0,
            )
            for _, week_end, _, end_instant in spans
        )
    ).where(
        Invoice.organization_id == organization.id,
        Invoice.status != InvoiceStatus.CANCELED,
        Invoice.due_date < spans[-1][1],
        Invoice.created_at < last_end,
        or_(Invoice.paid_at.is_(None), Invoice.paid_at >= first_end),
    )
    recovered = select(
        *(
            func.coalesce(
                func.sum(
                    case(
                        (
                            and_(
                                Invoice.paid_at >= start_instant,
                                Invoice.paid_at < end_instant,
                            ),
                            _paid_value(),
                        ),
                        else_=0,
                    )
                ),
                0,
            )
            for _, _, start_instant, end_instant in spans
        )
    ).where(
        *_paid_between(organization.id, spans[0][2], last_end),
        recovered_condition(organization),
    )
    overdue_row = db.session.execute(overdue).one()
    recovered_row = db.session.execute(recovered).one()
    return [
        WeekPoint(span[0], span[1], int(overdue_row[i]), int(recovered_row[i]))
        for i, span in enumerate(spans)
    ]


# --- the invoices behind a figure ---------------------------------------------

FIGURES = ("overdue", "recovered", *LEVERS)
FIGURE_LIMIT = 200


def figure_invoices(
    organization: Organization,
    figure: str,
    today: date | None = None,
    *,
    limit: int = FIGURE_LIMIT,
) -> list[tuple[Invoice, int]]:
    """Return the invoices behind a Painel figure with the amount each adds."""
    if today is None:
        today = clock.today(organization.timezone)
    if figure == "overdue":
        due = amount_due_today(today).label("due")
        statement = (
            select(Invoice, due)
            .where(*overdue_filter(organization.id, today))
            .order_by(Invoice.due_date, Invoice.id)
        )
    else:
        start, end = month_bounds(today, organization.timezone)
        conditions = [
            *_paid_between(organization.id, start, end),
            recovered_condition(organization),
        ]
        if figure != "recovered":
            conditions.append(lever_condition(figure))
        statement = (
            select(Invoice, _paid_value().label("due"))
            .where(*conditions)
            .order_by(Invoice.paid_at.desc(), Invoice.id.desc())
        )
    return [
        (invoice, int(due))
        for invoice, due in db.session.execute(statement.limit(limit)).all()
    ]
