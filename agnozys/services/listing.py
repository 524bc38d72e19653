"""Select the invoices of the Cobranças list and of ``GET /api/v1/invoices``.

Both the staff list and the API call :func:`list_invoices`, so filters,
sort orders and totals cannot drift between them.

Paging strategy: a *deferred join*. The page is chosen by a query that
reads only ``invoices.id`` in the requested order, with ``LIMIT/OFFSET``;
that query is served by the composite indexes ``(organization_id,
status, due_date | amount, id)`` or ``(organization_id, due_date |
amount, id)`` as an index(-only) range scan, so skipping rows costs index
entries, never full rows. The page's rows (and their customers) are then
loaded by primary key. Page numbers are bounded by :data:`MAX_PAGE`, so
the deepest reachable offset stays a cheap index walk; deeper than that a
narrower filter is the answer. We chose this over keyset cursors because
the API contract and the UI both speak in page numbers, and a keyset
cursor cannot jump to page 200.

Ties are broken by id in the same direction as the sort (``-amount``
orders by ``amount DESC, id DESC``), so every order walks one index in a
single direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from ..extensions import db
from ..models import Customer, Invoice, InvoiceStatus
from .customers import search_key

STATUSES = ("pending", "overdue", "paid", "canceled")
SORTS = ("due_date", "-due_date", "amount", "-amount")
DEFAULT_SORT = "due_date"
MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_SEARCH = 100

_DOCUMENT_CHARS = re.compile(r"^[\d.\-/\s]+$")


@dataclass(frozen=True)
class Page:
    """One page of invoices, with the count and total of the whole filter."""

    items: list[Invoice]
    total: int
    page: int
    per_page: int
    total_amount: int

    @property
    def pages(self) -> int:
        """Return how many pages the filter spans (at least one)."""
        return max(1, min(MAX_PAGE, -(-self.total // self.per_page)))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        """Return the position of the page's first row, counting from 1."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items)


def status_condition(status: str | None, today: date) -> list[ColumnElement[bool]]:
    """Return the WHERE terms of a display status (``None`` means all).

    Raises :class:`ValueError` for an unknown status.
    """
    if status is None:
        return []
    if status == "pending":
        return [
            Invoice.status == InvoiceStatus.PENDING,
            Invoice.due_date >= today,
        ]
    if status == "overdue":
        return [Invoice.status == InvoiceStatus.PENDING, Invoice.due_date < today]
    if status == "paid":
        return [Invoice.status == InvoiceStatus.PAID]
    if status == "canceled":
        return [Invoice.status == InvoiceStatus.CANCELED]
    raise ValueError(f"unknown status {status!r}")


def document_condition(digits: str) -> ColumnElement[bool]:
    """Match a whole CPF/CNPJ exactly (by index), or a prefix of one."""
    if len(digits) in (11, 14):
        return Customer.document == digits
    return Customer.document.startswith(digits, autoescape=True)


def search_condition(search: str | None) -> list[ColumnElement[bool]]:
    """Match the customer's name (accents and case ignored) or CPF/CNPJ.

    Text made only of digits and document punctuation is a CPF/CNPJ (or
    its first digits); anything else is split into words that must all appear in
    the name.
    """
    text = (search or "").strip()[:MAX_SEARCH]
    if not text:
        return []
    if _DOCUMENT_CHARS.match(text):
        digits = re.sub(r"\D", "", text)
        if digits:
            customers = select(Customer.id).where(document_condition(digits))
            return [Invoice.customer_id.in_(customers)]
    words = search_key(text).split()
    if not words:
        return []
    customers = select(Customer.id).where(
        and_(*(Customer.search_name.contains(w, autoescape=True) for w in words))
    )
    return [Invoice.customer_id.in_(customers)]


def _order_by(sort: str) -> list[ColumnElement[Any]]:
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}")
    descending = sort.startswith("-")
    column = Invoice.amount if sort.lstrip("-") == "amount" else Invoice.due_date
    if descending:
        return [column.desc(), Invoice.id.desc()]
    return [column.asc(), Invoice.id.asc()]


def filters(
    *,
    status: str | None,
    customer_id: int | None,
    search: str | None,
    today: date,
    overdue_min: int | None = None,
    overdue_max: int | None = None,
) -> list[ColumnElement[bool]]:
    """Return the WHERE terms shared by the page, the count and the total.

    ``overdue_min``/``overdue_max`` keep invoices whose due date is that
    many days before ``today`` (the Aging report's buckets link here).
    """
    terms = status_condition(status, today)
    if customer_id is not None:
        terms.append(Invoice.customer_id == customer_id)
    terms.extend(search_condition(search))
    if overdue_min is not None:
        terms.append(Invoice.due_date <= today - timedelta(days=overdue_min))
    if overdue_max is not None:
        terms.append(Invoice.due_date >= today - timedelta(days=overdue_max))
    return terms


def page_ids_query(
    terms: list[ColumnElement[bool]], sort: str, page: int, per_page: int
) -> Select[Any]:
    """Return the index-only query that picks one page's invoice ids."""
    return (
        select(Invoice.id)
        .where(*terms)
        .order_by(*_order_by(sort))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )


def list_invoices(
    *,
    status: str | None,
    customer_id: int | None,
    search: str | None,
    sort: str,
    page: int,
    per_page: int,
    today: date,
    overdue_min: int | None = None,
    overdue_max: int | None = None,
) -> Page:
    """Return one page of the current organization's invoices.

    ``status`` is a display status or ``None`` for all; ``customer_id`` an
    internal customer id; ``search`` a name or CPF/CNPJ. ``page`` is
    clamped to ``1..MAX_PAGE`` and ``per_page`` to ``1..MAX_PER_PAGE``.
    Raises :class:`ValueError` for an unknown status or sort.
    """
    page = max(1, min(page, MAX_PAGE))
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    terms = filters(
        status=status,
        customer_id=customer_id,
        search=search,
        today=today,
        overdue_min=overdue_min,
        overdue_max=overdue_max,
    )

    count, total_amount = db.session.execute(
        select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.amount), 0))
        .select_from(Invoice)
        .where(*terms)
    ).one()

    items: list[Invoice] = []
    if count > (page - 1) * per_page:
        ids = list(
            db.session.execute(page_ids_query(terms, sort, page, per_page)).scalars()
        )
        if ids:
            rows = db.session.execute(
                select(Invoice)
                .options(joinedload(Invoice.customer))
                .where(Invoice.id.in_(ids))
            ).scalars()
            by_id = {row.id: row for row in rows}
            items = [by_id[i] for i in ids if i in by_id]

    return Page(
        items=items,
        total=int(count),
        page=page,
        per_page=per_page,
        total_amount=int(total_amount),
    )
