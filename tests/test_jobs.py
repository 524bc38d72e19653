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


def rq_queue(redis_url: str) -> Any:
    from redis import Redis
    from rq import Queue

    return Queue(jobs.QUEUE_NAME, connection=Redis.from_url(redis_url))


def rq_jobs(redis_url: str) -> list[tuple[str, dict[str, Any]]]:
    return [(job.args[0], job.args[1]) for job in rq_queue(redis_url).jobs]


def take_first_job(redis_url: str) -> tuple[str, dict[str, Any]]:
    """Remove the queue's first job and return it, as a worker would."""
    job = rq_queue(redis_url).jobs[0]
    job.delete()
    return job.args[0], job.args[1]


@pytest.fixture
def rq_app(make_app: Any, redis_url: str) -> Any:
    """An app that hands its jobs to the test Redis, on a fresh schema."""
    from helpers import _reset_schema

    app = make_app(REDIS_URL=redis_url)
    _reset_schema(app)
    return app


@pytest.mark.redis
def test_commits_wake_one_drain_that_hands_every_job_to_rq(
    rq_app: Any, redis_url: str
) -> None:
    with rq_app.app_context():
        for n in range(3):
            jobs.enqueue_after_commit("test.remember", n=n)
            db.session.commit()

        # Three commits, one drain queued; the rows wait for it.
        assert rq_jobs(redis_url) == [("jobs.drain", {})]
        assert pending_count() == 3

        assert jobs.execute(*take_first_job(redis_url)) == 3
        assert pending_count() == 0
        assert rq_jobs(redis_url) == [("test.remember", {"n": n}) for n in range(3)]
        while rq_jobs(redis_url):
            jobs.execute(*take_first_job(redis_url))
    assert RAN == [{"n": 0}, {"n": 1}, {"n": 2}]


@pytest.mark.redis
def test_a_commit_after_the_drain_started_wakes_another(
    rq_app: Any, redis_url: str
) -> None:
    with rq_app.app_context():
        jobs.enqueue_after_commit("test.remember", n=1)
        db.session.commit()
        drain = take_first_job(redis_url)
        assert jobs.execute(*drain) == 1
        take_first_job(redis_url)  # the n=1 job

        # The drain has run: the next commit must not wait for it.
        jobs.enqueue_after_commit("test.remember", n=2)
        db.session.commit()
        assert rq_jobs(redis_url) == [("jobs.drain", {})]
        assert jobs.execute(*take_first_job(redis_url)) == 1
        assert rq_jobs(redis_url) == [("test.remember", {"n": 2})]


@pytest.mark.redis
def test_drain_leaves_delayed_jobs_to_the_scheduler(
    rq_app: Any, redis_url: str
) -> None:
    from rq.registry import ScheduledJobRegistry

    with rq_app.app_context():
        jobs.enqueue_after_commit("test.remember", delay=timedelta(hours=1), n=7)
        db.session.commit()
        # Handed to RQ's scheduler at once, no drain needed.
        assert rq_jobs(redis_url) == []
        assert pending_count() == 0
        queue = rq_queue(redis_url)
        [scheduled] = ScheduledJobRegistry(queue=queue).get_job_ids()
        assert queue.fetch_job(scheduled).args == ("test.remember", {"n": 7})
