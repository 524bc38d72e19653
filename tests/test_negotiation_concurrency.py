"""Two staff negotiating the same invoice at the same moment (PostgreSQL).

Each thread has its own app context and therefore its own session and
connection, as two web workers would.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from helpers import today
from sqlalchemy import func, select

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import Agreement, Invoice, InvoiceStatus
from agnozys.services import Conflict, negotiation

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _needs_postgres(is_postgres: bool) -> None:
    if not is_postgres:
        pytest.skip("row locks and concurrent transactions need PostgreSQL")


def race(app: Flask, org_id: int, *actions: Callable[[], Any]) -> list[Any]:
    """Run the actions at once, each in a thread with its own session."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        with app.app_context(), tenancy.scope(org_id):
            barrier.wait()
            try:
                results[index] = action()
            except Conflict as exc:
                results[index] = exc
            except Exception as exc:  # an unexpected error fails the test below
                results[index] = exc
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=run, args=(i, action))
        for i, action in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def counts(invoice: Invoice) -> tuple[int, int]:
    db.session.expire_all()
    with tenancy.unscoped():
        agreements = db.session.scalar(
            select(func.count())
            .select_from(Agreement)
            .where(Agreement.original_invoice_id == invoice.id)
        )
        parts = db.session.scalar(
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.agreement_id.isnot(None))
        )
    return int(agreements or 0), int(parts or 0)


def day(offset: int) -> str:
    return (today() + timedelta(days=offset)).isoformat()


@pytest.mark.parametrize("round_", range(3))
def test_split_and_reschedule_at_once_one_wins_the_other_gets_a_conflict(
    app: Flask, org: Any, overdue_invoice: Invoice, round_: int
) -> None:
    public_id, version = overdue_invoice.public_id, overdue_invoice.version

    def split() -> Any:
        return negotiation.make_agreement(
            public_id,
            {"installments": 2, "first_due_date": day(1)},
            actor="user:ana@aurora.test",
            expected_version=version,
        )

    def reschedule() -> Any:
        return negotiation.reschedule_invoice(
            public_id,
            {"due_date": day(5)},
            actor="user:bia@aurora.test",
            expected_version=version,
        )

    results = race(app, org.id, split, reschedule)
    conflicts = [r for r in results if isinstance(r, Conflict)]
    successes = [r for r in results if not isinstance(r, Exception)]
    assert len(successes) == 1 and len(conflicts) == 1, results
    assert conflicts[0].code in ("stale", "invoice_final", "conflict")

    agreements, parts = counts(overdue_invoice)
    with tenancy.unscoped():
        invoice = db.session.get(Invoice, overdue_invoice.id)
    assert invoice is not None
    if isinstance(successes[0], Agreement):
        assert (agreements, parts) == (1, 2)
        assert invoice.status == InvoiceStatus.CANCELED
        assert invoice.due_date.isoformat() == day(-40)
    else:
        assert (agreements, parts) == (0, 0)
        assert invoice.status == InvoiceStatus.PENDING
        assert invoice.due_date.isoformat() == day(5)


def test_two_splits_at_once_never_make_two_agreements(
    app: Flask, org: Any, overdue_invoice: Invoice
) -> None:
    public_id = overdue_invoice.public_id

    def split(count: int) -> Callable[[], Any]:
        return lambda: negotiation.make_agreement(
            public_id,
            {"installments": count, "first_due_date": day(1)},
            actor=f"user:{count}@aurora.test",
        )

    results = race(app, org.id, split(2), split(3))
    successes = [r for r in results if isinstance(r, Agreement)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(successes) == 1 and len(conflicts) == 1, results
    agreements, parts = counts(overdue_invoice)
    assert agreements == 1
    assert parts == successes[0].parts_count


def test_cancel_and_reschedule_at_once_leave_one_consistent_state(
    app: Flask, org: Any, overdue_invoice: Invoice
) -> None:
    public_id, version = overdue_invoice.public_id, overdue_invoice.version
    results = race(
        app,
        org.id,
        lambda: negotiation.cancel_invoice(
            public_id, "duplicada", actor="user:a", expected_version=version
        ),
        lambda: negotiation.reschedule_invoice(
            public_id, {"due_date": day(2)}, actor="user:b", expected_version=version
        ),
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    assert sum(isinstance(r, Invoice) for r in results) == 1, results
