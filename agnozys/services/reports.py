"""Reports: who to call first (Pareto), aging, and what each lever recovered.

Every figure is computed in SQL, on SQLite and PostgreSQL alike: the late
charges of paying today are an integer expression over the invoice row
(:func:`amount_due_today`), customers are ranked with window functions, and
Python only formats what the database returns.

Decisions (also shown to staff on the pages):

- Overdue money is always the **amount due today** (principal, frozen
  charges, the live fine and the interest run so far), in the Pareto list,
  in aging and on the Painel alike, so the three agree.
- Customers tied on the overdue amount are ordered by their internal id
  (the customer registered first comes first). The 80% group is the
  *smallest* set reaching 80% of the total: when two customers tie at the
  line only the first of them is marked.
- Shares are strings with four decimal places (``"0.1234"`` is 12.34%),
  rounded half-up from the exact integer ratio; no float is involved.
- Aging counts calendar days since the current due date; an invoice due
  yesterday is 1 day overdue.

The Painel's recovery figures live in :mod:`agnozys.services.recovery`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from .. import clock, fees
from ..extensions import db
from ..models import Customer, Invoice, InvoiceStatus, Organization

SHARE_PLACES = 4
_SHARE_SCALE = 10**SHARE_PLACES
TOP_PERCENT = 80

# (label, first day, last day or None) of the aging buckets.
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91+", 91, None),
)


# --- late charges in SQL ------------------------------------------------------


class days_between(FunctionElement[int]):
    """Whole calendar days from the second date to the first."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)})"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    later_sql = compiler.process(later, **kw)
    earlier_sql = compiler.process(earlier, **kw)
    return f"CAST(julianday({later_sql}) - julianday({earlier_sql}) AS INTEGER)"


def grace_dates(today: date) -> list[date]:
    """Return the past due dates that may still be paid today without charges.

    A due date on a weekend or holiday may be paid on the next business day
    at no cost, so every date of the run of non-business days right before
    ``today`` is still in grace (see :func:`agnozys.fees.days_late`). The
    business-day calendar lives in Python; the queries take this short list
    as a parameter.
    """
    dates = []
    day = today - timedelta(days=1)
    while not fees.is_business_day(day):
        dates.append(day)
        day -= timedelta(days=1)
    return dates


def _round_div(numerator: ColumnElement[int], denominator: int) -> Any:
    # Half-up integer division, as fees.round_div; the operands are never
    # negative. Operands stay 64-bit integers on both databases, which
    # holds for any principal below about R$ 10 million at 10% a month
    # over a year.
    return (numerator * 2 + denominator) // (2 * denominator)


def amount_due_today(today: date, grace: list[date] | None = None) -> Any:
    """SQL expression: what paying an unpaid invoice costs on ``today``.

    Equals :func:`agnozys.services.invoices.figures` ``amount_due`` for a
    pending invoice: principal + frozen fine + frozen interest + the fine
    (once, when late and not settled) + interest pro rata on the days late.
    """
    if grace is None:
        grace = grace_dates(today)
    today_param = bindparam("rep_today", today, type_=Date)
    days = days_between(today_param, Invoice.due_date)
    late = and_(
        Invoice.due_date < today_param,
        Invoice.due_date.not_in(bindparam("rep_grace", grace, expanding=True)),
    )
    live_fine = case(
        (
            and_(late, Invoice.fine_settled == False),  # noqa: E712
            _round_div(Invoice.amount * Invoice.fine_bp, 10_000),
        ),
        else_=0,
    )
    live_interest = case(
        (late, _round_div(Invoice.amount * Invoice.interest_bp * days, 10_000 * 30)),
        else_=0,
    )
    return (
        Invoice.amount
        + Invoice.frozen_fine
        + Invoice.frozen_interest
        + live_fine
        + live_interest
    )


def overdue_filter(organization_id: int, today: date) -> list[Any]:
    return [
        Invoice.organization_id == organization_id,
        Invoice.status == InvoiceStatus.PENDING,
        Invoice.due_date < bindparam("rep_today", today, type_=Date),
    ]


def tune_session() -> None:
    """Give the report queries room on PostgreSQL, for this transaction only.

    Ranking every customer sorts and aggregates a few megabytes: the 4 MB
    default ``work_mem`` spills that to disk, and JIT compiling costs more
    than it saves on queries that run well under a second.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    db.session.execute(text("SET LOCAL jit = off"))


def share(part: int, total: int) -> str:
    """Return ``part / total`` as a decimal string with four places."""
    if total <= 0:
        return "0." + "0" * SHARE_PLACES
    scaled = fees.round_div(part * _SHARE_SCALE, total)
    whole, rest = divmod(scaled, _SHARE_SCALE)
    return f"{whole}.{rest:0{SHARE_PLACES}d}"


# --- Pareto -------------------------------------------------------------------


class decimal_text(FunctionElement[str]):
    """An integer scaled by ``10**places`` as text: ``123456, 2`` -> ``1234.56``."""

    type = String()
    name = "decimal_text"
    inherit_cache = True


@compiles(decimal_text)
def _decimal_text_pg(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    value, places = list(element.clauses)
    number = compiler.process(value, **kw)
    digits = int(places.value)
    scale = 10**digits
    return (
        f"(CAST(({number}) / {scale} AS TEXT) || '.' || "
        f"LPAD(CAST(MOD({number}, {scale}) AS TEXT), {digits}, '0'))"
    )


@compiles(decimal_text, "sqlite")
def _decimal_text_sqlite(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
    value, places = list(element.clauses)
    number = compiler.process(value, **kw)
    digits = int(places.value)
    scale = 10**digits
    return f"printf('%d.%0{digits}d', ({number}) / {scale}, ({number}) % {scale})"


def _share_text(part: Any, total: Any) -> Any:
    # Half-up ten-thousandths of the total, as text: the same as share().
    scaled = (part * (2 * _SHARE_SCALE) + total) // (total * 2)
    return decimal_text(scaled, literal(SHARE_PLACES, literal_execute=True))


@dataclass(frozen=True)
class Pareto:
    """Customers ranked by overdue amount, with the 80% group marked.

    ``rows`` are database rows read by attribute: ``rank``, ``customer_id``,
    ``public_id``, ``name``, ``phone``, ``email``, ``document``,
    ``overdue_amount`` (centavos), ``overdue_text`` (``"1234.56"``),
    ``cumulative``, ``invoice_count``, ``oldest_due_date``, ``share``,
    ``cumulative_share`` (four-place strings) and ``top``. Python never
    touches a row on the way out, so a list of every customer costs little
    more than the query itself.
    """

    today: date
    total_overdue: int
    customer_count: int
    top_count: int
    top_amount: int
    rows: Sequence[Any] = field(default_factory=list)
    offset: int = 0

    @property
    def top_share(self) -> str:
        return share(self.top_amount, self.total_overdue)

    def column_index(self, name: str) -> int:
        """Return the position of a named column in :attr:`rows`."""
        return PARETO_COLUMNS.index(name)


PARETO_COLUMNS = (
    "rank",
    "customer_id",
    "public_id",
    "name",
    "phone",
    "email",
    "document",
    "overdue_amount",
    "overdue_text",
    "cumulative",
    "invoice_count",
    "oldest_due_date",
    "share",
    "cumulative_share",
    "top",
    "total",
    "top_count",
    "top_amount",
    "customer_count",
)


def pareto_statement(
    organization_id: int,
    today: date,
    *,
    limit: int | None = None,
    offset: int = 0,
    only_top: bool = False,
    customer_id: int | None = None,
) -> Any:
    """The Pareto query: one row per overdue customer, largest first.

    Totals (``total``, ``top_count``, ``top_amount``, ``customer_count``)
    come from window functions over the whole list, so a page of it still
    carries the figures of all customers.
    """
    due = amount_due_today(today).label("due")
    per_invoice = (
        select(Invoice.customer_id, Invoice.due_date, due)
        .where(*overdue_filter(organization_id, today))
        .subquery("per_invoice")
    )
    per_customer = (
        select(
            per_invoice.c.customer_id,
            cast(func.sum(per_invoice.c.due), BigInteger).label("overdue"),
            func.count().label("invoice_count"),
            func.min(per_invoice.c.due_date, type_=Date).label("oldest"),
        )
        .group_by(per_invoice.c.customer_id)
        .subquery("per_customer")
    )
    order = (per_customer.c.overdue.desc(), per_customer.c.customer_id)
    ranked = select(
        per_customer,
        # One frame for both, so PostgreSQL ranks and sums in one pass.
        func.row_number().over(order_by=order, rows=(None, 0)).label("rank"),
        cast(
            func.sum(per_customer.c.overdue).over(order_by=order, rows=(None, 0)),
            BigInteger,
        ).label("cumulative"),
        cast(func.sum(per_customer.c.overdue).over(), BigInteger).label("total"),
    ).subquery("ranked")
    # A customer is in the group when what comes before them has not yet
    # reached 80%: that is the smallest set that does.
    is_top = (ranked.c.cumulative - ranked.c.overdue) * 100 < ranked.c.total * (
        TOP_PERCENT
    )
    flagged = select(ranked, case((is_top, 1), else_=0).label("top")).subquery(
        "flagged"
    )
    summarized = select(
        flagged,
        cast(func.sum(flagged.c.top).over(), Integer).label("top_count"),
        cast(
            func.max(case((flagged.c.top == 1, flagged.c.cumulative), else_=0)).over(),
            BigInteger,
        ).label("top_amount"),
        func.count().over().label("customer_count"),
    ).subquery("summarized")
    picked = select(summarized).order_by(summarized.c.rank)
    if only_top:
        picked = picked.where(summarized.c.top == 1)
    if customer_id is not None:
        picked = picked.where(summarized.c.customer_id == customer_id)
    if limit is not None:
        picked = picked.limit(limit)
    if offset:
        picked = picked.offset(offset)
    # Customers are joined to the page only, after ranking and paging.
    page = picked.subquery("page")
    statement = (
        select(
            page.c.rank,
            page.c.customer_id,
            Customer.public_id,
            Customer.name,
            Customer.phone,
            Customer.email,
            Customer.document,
            page.c.overdue.label("overdue_amount"),
            decimal_text(page.c.overdue, literal(2, literal_execute=True)).label(
                "overdue_text"
            ),
            page.c.cumulative,
            page.c.invoice_count,
            page.c.oldest.label("oldest_due_date"),
            _share_text(page.c.overdue, page.c.total).label("share"),
            _share_text(page.c.cumulative, page.c.total).label("cumulative_share"),
            cast(page.c.top, Boolean).label("top"),
            page.c.total,
            page.c.top_count,
            page.c.top_amount,
            page.c.customer_count,
        )
        .join(Customer, Customer.id == page.c.customer_id)
        .order_by(page.c.rank)
    )
    assert tuple(c.key for c in statement.selected_columns) == PARETO_COLUMNS
    return statement


def pareto(
    organization: Organization,
    today: date | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    only_top: bool = False,
    customer_id: int | None = None,
) -> Pareto:
    """Rank the organization's customers by what they owe today, overdue.

    ``limit``/``offset`` page the list, ``only_top`` keeps the 80% group
    and ``customer_id`` one customer; the totals always cover everyone.
    """
    if today is None:
        today = clock.today(organization.timezone)
    tune_session()
    rows = db.session.execute(
        pareto_statement(
            organization.id,
            today,
            limit=limit,
            offset=offset,
            only_top=only_top,
            customer_id=customer_id,
        )
    ).all()
    head = rows[0] if rows else None
    if head is None and (offset or only_top or customer_id is not None):
        # A page past the end still reports the totals.
        head = db.session.execute(
            pareto_statement(organization.id, today, limit=1)
        ).first()
    if head is None:
        return Pareto(today, 0, 0, 0, 0, [], offset)
    return Pareto(
        today=today,
        total_overdue=head.total,
        customer_count=head.customer_count,
        top_count=head.top_count,
        top_amount=head.top_amount,
        rows=rows,
        offset=offset,
    )


Template = Callable[[list[str]], str]


def sql_function(
    name: str,
    type_: Any,
    doc: str,
    postgresql: Template,
    sqlite: Template | None = None,
) -> Any:
    """Define a SQL function written per dialect from its compiled arguments.

    ``postgresql`` (also the default) and ``sqlite`` receive the
    arguments as SQL text and return the expression; without ``sqlite``
    the function exists on PostgreSQL only.
    """
    function: Any = type(
        name,
        (FunctionElement,),
        {"type": type_, "name": name, "inherit_cache": True, "__doc__": doc},
    )

    def write(template: Template) -> Callable[..., str]:
        def compile_(element: Any, compiler: SQLCompiler, **kw: Any) -> str:
            return template([compiler.process(c, **kw) for c in element.clauses])

        return compile_

    compiles(function, *([] if sqlite else ["postgresql"]))(write(postgresql))
    if sqlite:
        compiles(function, "sqlite")(write(sqlite))
    return function


json_text = sql_function(
    "json_text",
    String(),
    "A JSON object as text from ``key, value, ...`` (keys: :func:`json_key`).",
    lambda args: f"CAST(json_build_object({', '.join(args)}) AS TEXT)",
    lambda args: f"json_object({', '.join(args)})",
)
json_bool = sql_function(
    "json_bool",
    Boolean(),
    "A boolean that :data:`json_text` writes as ``true``/``false`` on both.",
    lambda args: f"CAST(({args[0]}) AS BOOLEAN)",
    lambda args: f"json(CASE WHEN ({args[0]}) THEN 'true' ELSE 'false' END)",
)
comma_join = sql_function(
    "comma_join",
    String(),
    "PostgreSQL aggregate: ``text, order`` joined with commas in that order.",
    lambda args: f"string_agg({args[0]}, ',' ORDER BY {args[1]})",
)


def json_key(name: str) -> Any:
    """A constant JSON key, written into the SQL (names are identifiers)."""
    assert name.isidentifier(), name
    return literal_column(f"'{name}'")


#: The API's customer object (API.md), as (JSON key, Pareto column).
PARETO_API_FIELDS = (
    ("customer_id", "public_id"),
    ("name", "name"),
    ("overdue_amount", "overdue_text"),
    ("share", "share"),
    ("cumulative_share", "cumulative_share"),
    ("top", "top"),
)


def pareto_json(
    organization: Organization, today: date | None = None
) -> tuple[Pareto, list[str]]:
    """Rank every overdue customer, each row already a JSON object.

    The API lists every customer of a big book; having the database
    write each object as text leaves Python only joining strings, so the
    request costs about what the query does. Returns the totals (a
    :class:`Pareto` without rows) and the objects, largest first, as
    strings to join with commas (on PostgreSQL a single, already joined
    string).
    """
    if today is None:
        today = clock.today(organization.timezone)
    tune_session()
    ranked = pareto_statement(organization.id, today).subquery("ranked")
    pairs: list[Any] = []
    for key, column in PARETO_API_FIELDS:
        value = ranked.c[column]
        pairs += [json_key(key), json_bool(value) if column == "top" else value]
    totals = (
        ranked.c.total,
        ranked.c.top_count,
        ranked.c.top_amount,
        ranked.c.customer_count,
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # One row, one string: PostgreSQL joins the objects in rank order.
        row = db.session.execute(
            select(
                comma_join(json_text(*pairs), ranked.c.rank),
                *(func.max(column) for column in totals),
            )
        ).one()
        if row[0] is None:
            return Pareto(today, 0, 0, 0, 0), []
        objects = [row[0]]
        total, top_count, top_amount, customer_count = row[1:]
    else:
        # SQLite cannot order inside an aggregate: one object per row.
        rows = db.session.execute(
            select(json_text(*pairs), *totals).order_by(ranked.c.rank)
        ).all()
        if not rows:
            return Pareto(today, 0, 0, 0, 0), []
        objects = [row[0] for row in rows]
        total, top_count, top_amount, customer_count = rows[0][1:]
    head = Pareto(today, total, customer_count, top_count, top_amount)
    return head, objects


# --- aging --------------------------------------------------------------------


@dataclass(frozen=True)
class AgingBucket:
    label: str
    min_days: int
    max_days: int | None
    count: int
    amount: int


def aging_statement(organization_id: int, today: date) -> Any:
    """The aging query: count and amount due today per bucket of days late."""
    # Buckets compare the due date with fixed dates, so no per-row date
    # arithmetic is needed to classify an invoice.
    whens = []
    for number, (_, _first, last) in enumerate(AGING_BUCKETS, start=1):
        if last is None:
            continue
        whens.append(
            (
                Invoice.due_date
                >= bindparam(f"rep_from_{number}", today - timedelta(days=last)),
                number,
            )
        )
    bucket = case(*whens, else_=len(AGING_BUCKETS)).label("bucket")
    per_invoice = (
        select(bucket, amount_due_today(today).label("due"))
        .where(*overdue_filter(organization_id, today))
        .subquery("per_invoice")
    )
    return (
        select(
            per_invoice.c.bucket,
            func.count().label("count"),
            func.sum(per_invoice.c.due).label("amount"),
        )
        .group_by(per_invoice.c.bucket)
        .order_by(per_invoice.c.bucket)
    )


def aging(organization: Organization, today: date | None = None) -> list[AgingBucket]:
    """Return the four aging buckets, empty ones included."""
    if today is None:
        today = clock.today(organization.timezone)
    tune_session()
    found = {
        # row.count would be the tuple method; read the column by name.
        int(row.bucket): (int(row._mapping["count"]), int(row.amount or 0))
        for row in db.session.execute(aging_statement(organization.id, today))
    }
    return [
        AgingBucket(label, first, last, *found.get(number, (0, 0)))
        for number, (label, first, last) in enumerate(AGING_BUCKETS, start=1)
    ]


def aging_due_range(bucket: AgingBucket, today: date) -> tuple[date | None, date]:
    """Return the (earliest, latest) due dates an aging bucket covers."""
    latest = today - timedelta(days=bucket.min_days)
    earliest = (
        today - timedelta(days=bucket.max_days) if bucket.max_days is not None else None
    )
    return earliest, latest
