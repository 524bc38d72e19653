"""Side effects run only after their transaction commits, and none is lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from agnozys import jobs
from agnozys.extensions import db
from agnozys.models import Organization, PendingJob, utcnow

RAN: list[dict[str, Any]] = []


@jobs.job("test.remember")
def remember(**kwargs: Any) -> None:
    RAN.append(kwargs)


@pytest.fixture(autouse=True)
def clear_ran() -> None:
    RAN.clear()


def pending_count() -> int:
    return db.session.execute(select(func.count(PendingJob.id))).scalar_one()


def test_job_runs_after_commit_and_leaves_no_row(app: Any) -> None:
    db.session.add(Organization(name="Loja A"))
    jobs.enqueue_after_commit("test.remember", n=1)
    assert RAN == []
    db.session.commit()
    assert RAN == [{"n": 1}]
    assert pending_count() == 0


def test_rolled_back_change_gets_no_job(app: Any) -> None:
    db.session.add(Organization(name="Loja B"))
    jobs.enqueue_after_commit("test.remember", n=2)
    db.session.rollback()
    db.session.commit()
    assert RAN == []
    assert pending_count() == 0


def test_unknown_job_name_is_refused_at_once(app: Any) -> None:
    with pytest.raises(KeyError):
        jobs.enqueue_after_commit("test.nope")


def test_delayed_job_waits_for_its_time(app: Any) -> None:
    jobs.enqueue_after_commit("test.remember", delay=timedelta(hours=1), n=3)
    db.session.commit()
    assert RAN == []
    assert jobs.dispatch_pending(older_than=timedelta(0)) == 0
    assert pending_count() == 1


def test_dispatch_rescues_a_row_whose_hand_over_never_happened(app: Any) -> None:
    # As if the process died between commit and dispatch.
    db.session.add(
        PendingJob(
            name="test.remember",
            kwargs={"n": 4},
            created_at=utcnow() - timedelta(minutes=5),
        )
    )
    db.session.commit()
    assert jobs.execute("jobs.dispatch", {}) == 1
    assert RAN == [{"n": 4}]
    assert pending_count() == 0


def test_row_stays_when_redis_refuses_the_job(make_app: Any) -> None:
    from helpers import _reset_schema

    # Nothing listens on port 1: every enqueue fails.
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    _reset_schema(app)
    with app.app_context():
        db.session.add(Organization(name="Loja C"))
        jobs.enqueue_after_commit("test.remember", n=5)
        db.session.commit()
        assert pending_count() == 1
        db.session.execute(
            PendingJob.__table__.update().values(
                created_at=utcnow() - timedelta(minutes=5)
            )
        )
        db.session.commit()
        assert jobs.dispatch_pending() == 0
        assert pending_count() == 1
    assert RAN == []
