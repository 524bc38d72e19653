"""Background work: RQ when ``REDIS_URL`` is set, in-process otherwise.

Services never call RQ. They call :func:`enqueue_after_commit`, which
writes a :class:`~agnozys.models.PendingJob` row in the business
transaction; after a rollback it never existed. After the commit the row
is run at once in-process, or, with Redis, claimed and handed to RQ by a
``jobs.drain`` job that the commit wakes (see :func:`_dispatch_to_rq`);
either way it is deleted once handed over. A crash in between leaves the
row for :func:`dispatch_pending` (``flask jobs dispatch``, also scheduled
by ``rq cron``), so every committed change gets its job and no rolled-back
change does. Jobs are therefore at-least-once and must be safe to run
twice.

Job functions are plain functions taking ids and plain values, registered
with :func:`job` under a stable name.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import delete, event, insert, select
from sqlalchemy.orm import Session

from .extensions import db
from .models import PendingJob, utcnow

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

REGISTRY: dict[str, Callable[..., Any]] = {}
QUEUE_NAME = "agnozys"
_PENDING_KEY = "agnozys_pending_jobs"
_worker_app: Flask | None = None


def job(name: str) -> Callable[[F], F]:
    """Register a job function under ``name``."""

    def register(func: F) -> F:
        if name in REGISTRY and REGISTRY[name] is not func:
            raise ValueError(f"job {name!r} registered twice")
        REGISTRY[name] = func
        return func

    return register


@dataclass(frozen=True)
class _Planned:
    """A pending-job row already written, as the after-commit hook reads it."""

    id: int
    name: str
    kwargs: dict[str, Any]
    not_before: datetime | None = None


_INSERT_ONE = insert(PendingJob.__table__).returning(PendingJob.__table__.c.id)


def enqueue_after_commit(
    name: str, *, delay: timedelta | None = None, **kwargs: Any
) -> None:
    """Run job ``name`` with ``kwargs`` once the current transaction commits.

    ``kwargs`` must be JSON values (ids, strings, numbers). The row is
    written at once, with one INSERT on the session's connection, rather
    than left to the flush: it has no relationships to order.
    """
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    not_before = utcnow() + delay if delay else None
    row_id = (
        db.session.connection()
        .execute(
            _INSERT_ONE,
            {
                "name": name,
                "kwargs": kwargs,
                "created_at": utcnow(),
                "not_before": not_before,
            },
        )
        .scalar_one()
    )
    db.session.info.setdefault(_PENDING_KEY, []).append(
        _Planned(row_id, name, dict(kwargs), not_before)
    )


def enqueue_many_after_commit(name: str, kwargs_list: Sequence[dict[str, Any]]) -> None:
    """Run job ``name`` once per mapping in ``kwargs_list`` after commit.

    The same guarantee as :func:`enqueue_after_commit`, for producers of
    thousands of jobs (the ladder's sweep): one multi-row INSERT, and one
    Redis pipeline after the commit.
    """
    if name not in REGISTRY:
        raise KeyError(f"unknown job {name!r}")
    if not kwargs_list:
        return
    now = utcnow()
    ids = db.session.scalars(
        insert(PendingJob).returning(PendingJob.id, sort_by_parameter_order=True),
        [{"name": name, "kwargs": kwargs, "created_at": now} for kwargs in kwargs_list],
    ).all()
    db.session.info.setdefault(_PENDING_KEY, []).extend(
        _Planned(row_id, name, dict(kwargs))
        for row_id, kwargs in zip(ids, kwargs_list, strict=True)
    )


def _after_commit(session: Session) -> None:
    rows = session.info.pop(_PENDING_KEY, [])
    if rows and has_app_context():
        hand_over([(row.id, row.name, row.kwargs, row.not_before) for row in rows])


def hand_over(batch: Batch) -> None:
    """Dispatch pending-job rows whose transaction has just committed.

    The after-commit hook does this for rows written through the session;
    code that commits a row by other means (one autocommitted statement)
    calls it itself.
    """
    current_app.extensions["agnozys_dispatch"](batch)


def _after_rollback(session: Session, *_previous: Any) -> None:
    session.info.pop(_PENDING_KEY, None)


def load_job_modules() -> None:
    """Import every service module so their jobs are registered."""
    import importlib
    import pkgutil

    from . import services

    for info in pkgutil.iter_modules(services.__path__):
        importlib.import_module(f"{services.__name__}.{info.name}")


def install(app: Flask) -> None:
    """Bind dispatching to the app: RQ with ``REDIS_URL``, else in-process."""
    load_job_modules()
    session_class = db.session.session_factory.class_  # type: ignore[attr-defined]
    if not event.contains(session_class, "after_commit", _after_commit):
        event.listen(session_class, "after_commit", _after_commit)
        event.listen(session_class, "after_soft_rollback", _after_rollback)
    if app.config.get("REDIS_URL"):
        app.extensions["agnozys_dispatch"] = _dispatch_to_rq
    else:
        app.extensions["agnozys_dispatch"] = _dispatch_in_process
        # Without Redis nothing else runs delayed jobs (retries with
        # backoff): a timer thread does, except in tests unless asked.
        if app.config.get("AGNOZYS_JOB_TIMER", not app.testing):
            start_timer(app, float(app.config.get("AGNOZYS_JOB_TIMER_SECONDS", 5)))


def start_timer(app: Flask, interval: float) -> threading.Event:
    """Run due delayed jobs every ``interval`` seconds in a daemon thread.

    Only for the in-process mode; returns the event that stops the thread.
    """
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(interval):
            try:
                with app.app_context():
                    dispatch_pending()
            except Exception:
                log.warning("Job timer: dispatch failed", exc_info=True)

    thread = threading.Thread(target=tick, name="agnozys-job-timer", daemon=True)
    thread.start()
    app.extensions["agnozys_job_timer"] = stop
    return stop


def queue() -> Any:
    """Return the RQ queue of this app (only with ``REDIS_URL``)."""
    from redis import Redis
    from rq import Queue

    state = current_app.extensions.setdefault("agnozys_rq", {})
    if "queue" not in state:
        connection = Redis.from_url(current_app.config["REDIS_URL"])
        state["queue"] = Queue(QUEUE_NAME, connection=connection)
    return state["queue"]


Batch = list[tuple[int, str, dict[str, Any], datetime | None]]


#: Set while a ``jobs.drain`` job is queued and has not started yet.
WAKE_KEY = "agnozys:jobs:drain-queued"
#: After this many seconds a lost drain job stops keeping others away.
WAKE_TTL = 30
#: Rows one drain claims and hands to RQ per transaction and pipeline.
DRAIN_BATCH = 500


def _dispatch_to_rq(batch: Batch) -> None:
    """Hand committed rows to RQ: delayed ones at once, the rest by a drain.

    A request does not enqueue its own jobs. It makes sure one ``jobs.drain``
    job is queued (a ``SET NX`` in Redis, and an enqueue only when that key
    was free), and the drain, on a worker, claims every waiting row in bulk
    and enqueues their jobs through one pipeline per batch. Busy web
    processes thus pay one Redis round trip per commit instead of an
    enqueue and a DELETE, and nothing waits: a drain deletes the key before
    it reads the table, so a row committed after that read wakes a new one.
    """
    now = utcnow()
    delayed = [row for row in batch if row[3] and row[3] > now]
    if len(delayed) < len(batch):
        wake_drain()
    done: list[int] = []
    for row_id, name, kwargs, not_before in delayed:
        try:
            queue().enqueue_at(not_before, execute, name, kwargs)
        except Exception:
            log.warning(
                "Job %s: could not enqueue, left for dispatch", name, exc_info=True
            )
            continue
        done.append(row_id)
    _forget(done)


def wake_drain() -> None:
    """Make sure a ``jobs.drain`` job will run after this moment."""
    rq_queue = queue()
    connection = rq_queue.connection
    try:
        if connection.set(WAKE_KEY, 1, nx=True, ex=WAKE_TTL):
            try:
                rq_queue.enqueue(execute, "jobs.drain", {})
            except Exception:
                connection.delete(WAKE_KEY)
                raise
    except Exception:
        # The rows stay in the table: the next commit's wake, or the
        # every-minute ``jobs.dispatch`` of agnozys/cron.py, hands them over.
        log.warning("Jobs: could not wake the drain, left for dispatch", exc_info=True)


@job("jobs.drain")
def drain() -> int:
    """Claim the committed, undelayed rows and enqueue their jobs; return how many.

    Runs on a worker, woken by :func:`wake_drain`. Safe beside other drains
    and :func:`dispatch_pending`: rows are claimed by a ``DELETE ...
    RETURNING`` (skipping rows another drain holds, on PostgreSQL), and a
    batch whose enqueue fails rolls back, its rows left for later.
    """
    from rq import Queue

    rq_queue = queue()
    rq_queue.connection.delete(WAKE_KEY)
    table = PendingJob.__table__
    total = 0
    while True:
        waiting = (
            select(table.c.id)
            .where(table.c.not_before.is_(None))
            .order_by(table.c.id)
            .limit(DRAIN_BATCH)
        )
        if db.engine.dialect.name == "postgresql":
            waiting = waiting.with_for_update(skip_locked=True)
        with Session(db.engine) as session, session.begin():
            rows = session.execute(
                delete(table)
                .where(table.c.id.in_(waiting.scalar_subquery()))
                .returning(table.c.name, table.c.kwargs)
            ).all()
            if rows:
                with rq_queue.connection.pipeline() as pipe:
                    rq_queue.enqueue_many(
                        [
                            Queue.prepare_data(execute, args=(name, dict(kwargs)))
                            for name, kwargs in rows
                        ],
                        pipeline=pipe,
                    )
                    pipe.execute()
        total += len(rows)
        if len(rows) < DRAIN_BATCH:
            log.debug("Jobs: drain handed %d jobs to RQ", total)
            return total


def _dispatch_in_process(batch: Batch) -> None:
    for row_id, name, kwargs, not_before in batch:
        if not_before and not_before > utcnow():
            # Left in the table; `flask jobs dispatch` or the in-process
            # timer runs it when due.
            continue
        _forget([row_id])
        try:
            execute(name, kwargs)
        except Exception:
            log.error("Job %s: failed in-process", name, exc_info=True)


def _forget(row_ids: list[int]) -> None:
    if not row_ids:
        return
    # A connection of its own, the DELETE committing by itself (no BEGIN
    # and COMMIT round trips): the caller's session has just committed and
    # may be in the middle of its own after-commit work.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(delete(PendingJob).where(PendingJob.id.in_(row_ids)))


def dispatch_pending(older_than: timedelta = timedelta(seconds=30)) -> int:
    """Hand over jobs whose commit happened but whose dispatch did not.

    Returns how many were handed over. Safe to run in several processes:
    each row is claimed by deleting it, and only the claimer runs it.
    """
    cutoff = utcnow() - older_than
    now = utcnow()
    with Session(db.engine) as session:
        rows = session.execute(
            select(
                PendingJob.id,
                PendingJob.name,
                PendingJob.kwargs,
                PendingJob.not_before,
                PendingJob.created_at,
            )
            .order_by(PendingJob.id)
            .limit(1000)
        ).all()
    count = 0
    for row in rows:
        due = row.not_before or row.created_at
        if row.not_before is None and row.created_at > cutoff:
            continue
        if due > now:
            continue
        to_redis = bool(current_app.config.get("REDIS_URL"))
        try:
            with Session(db.engine) as session, session.begin():
                result: Any = session.execute(
                    delete(PendingJob).where(PendingJob.id == row.id)
                )
                if not result.rowcount:
                    continue
                if to_redis:
                    # Inside the claim: if Redis refuses, the delete rolls
                    # back and the row waits for the next dispatch.
                    queue().enqueue(execute, row.name, dict(row.kwargs))
        except Exception:
            log.warning(
                "Job %s: dispatch failed, kept for later", row.name, exc_info=True
            )
            continue
        if not to_redis:
            try:
                execute(row.name, dict(row.kwargs))
            except Exception:
                log.error("Job %s: failed in-process", row.name, exc_info=True)
        count += 1
    return count


@job("jobs.dispatch")
def dispatch_job() -> int:
    """Run :func:`dispatch_pending` from ``rq cron`` (see agnozys/cron.py)."""
    return dispatch_pending()


def execute(name: str, kwargs: dict[str, Any]) -> Any:
    """Run a registered job in an app context (and database session) of its own.

    This is what RQ imports and calls; in a worker process it builds the
    app once and reuses it for every job. In-process, the fresh app context
    keeps the job's session apart from the request that enqueued it.
    """
    global _worker_app
    if has_app_context():
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    else:
        if _worker_app is None:
            from . import create_app

            _worker_app = create_app()
        app = _worker_app
    with app.app_context():
        return _run(name, kwargs)


def _run(name: str, kwargs: dict[str, Any]) -> Any:
    from . import tenancy

    func = REGISTRY[name]
    log.debug("Job %s: running with %s", name, kwargs)
    with tenancy.unscoped():
        try:
            return func(**kwargs)
        except Exception:
            db.session.rollback()
            raise
