"""Time the reminder ladder's daily sweep and its workers on a big book.

For each size (default 100,000 and 1,000,000 invoices, a tenth as many
customers) this seeds a PostgreSQL database with ``flask seed``'s loader,
then arranges that exactly 50,000 unpaid invoices, all of customers with
an e-mail, hit a ladder step today (the rest are moved off those days) and
turns the SMS channel off, so the day holds 50,000 reminders. Then:

1. the sweep's claim (``INSERT ... SELECT ... ON CONFLICT DO NOTHING``)
   run through SQLAlchemy vs the same SQL run raw on a DBAPI cursor, each
   inside a rolled-back transaction; median of 5, ratio (goal <= 1.5);
2. the whole sweep (``run_ladder``: claim, hand 50,000 jobs to Redis) in
   a subprocess of its own: seconds and peak RSS (``ru_maxrss``);
3. two ``rq worker`` processes (``agnozys.worker.SimpleWorker``) with the
   ``outbox`` notifier, until every reminder is recorded or
   ``--worker-seconds`` pass: reminders recorded per second (goal >= 1,000)
   and each worker's peak RSS.

The peak memory of the sweep and of a worker must not grow from 100,000
to 1,000,000 invoices.

Usage::

    python benchmarks/ladder.py
    python benchmarks/ladder.py --sizes 100000 --worker-seconds 30
    python benchmarks/ladder.py --redis-url redis://127.0.0.1:56379/3 --drop

Databases are ``agnozys_ladder_bench_<size>`` on the dev PostgreSQL
(``127.0.0.1:55432``), created when missing and reused (seeded once).
The Redis database given is flushed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import drop_database, ensure_database  # noqa: E402

ORG = "Benchmark Régua"
HITS = 50_000
DEFAULT_BASE = "postgresql+psycopg://postgres@127.0.0.1:55432/"
DEFAULT_REDIS = "redis://127.0.0.1:56379/3"


def make_app(url: str, redis_url: str | None) -> Any:
    from agnozys import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "benchmark",
            "AGNOZYS_NOTIFIERS": "outbox",
            "AGNOZYS_JOB_TIMER": False,
        }
    )


def prepare(url: str, invoices: int) -> int:
    """Migrate and seed once; arrange today's 50,000 hits; return the org id."""
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from agnozys import clock
    from agnozys.extensions import db
    from agnozys.models import Organization
    from agnozys.seed import find_or_create_org, seed

    app = make_app(url, None)
    with app.app_context():
        upgrade()
        org = db.session.execute(
            select(Organization).where(Organization.name == ORG)
        ).scalar_one_or_none()
        if org is None or not org.invoice_seq:
            org = find_or_create_org(ORG)
            print(f"  seeding {invoices:,} invoices...", flush=True)
            result = seed(org, max(invoices // 10, 1), invoices, seed_value=5)
            print(f"  seeded in {result.seconds:.0f} s", flush=True)
        today = clock.today(org.timezone)
        hit_days = [today - timedelta(days=offset) for offset in (-5, 0, 1, 7, 15)]
        conn = db.session.connection()
        # Nobody else falls on today's steps: move them two days later
        # (which lands on no step day).
        conn.execute(
            text(
                "UPDATE invoices SET due_date = due_date + 2 "
                "WHERE organization_id = :org AND due_date = ANY(:days)"
            ),
            {"org": org.id, "days": hit_days},
        )
        # 50,000 unpaid invoices of customers with an e-mail, spread over
        # the five steps.
        conn.execute(
            text(
                """
                WITH chosen AS (
                    SELECT i.id, row_number() OVER (ORDER BY i.id) AS n
                    FROM invoices i JOIN customers c ON c.id = i.customer_id
                    WHERE i.organization_id = :org AND c.email IS NOT NULL
                    ORDER BY i.id LIMIT :hits
                )
                UPDATE invoices SET
                    status = 'pending', reminders_paused = false,
                    due_date = (ARRAY[:d0, :d1, :d2, :d3, :d4]::date[])[
                        (chosen.n % 5) + 1]
                FROM chosen WHERE invoices.id = chosen.id
                """
            ),
            {
                "org": org.id,
                "hits": HITS,
                **{f"d{i}": day for i, day in enumerate(hit_days)},
            },
        )
        conn.execute(
            text(
                "UPDATE ladder_steps SET send_sms = false, send_email = true, "
                "active = true WHERE organization_id = :org"
            ),
            {"org": org.id},
        )
        db.session.commit()
        with db.engine.connect() as fresh:
            fresh.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE invoices, customers")
            )
        return int(org.id)


def reset(url: str, redis_url: str) -> None:
    """Forget every reminder, outbox message and queued job."""
    from redis import Redis
    from sqlalchemy import text

    from agnozys.extensions import db

    app = make_app(url, None)
    with app.app_context():
        db.session.execute(
            text(
                "DELETE FROM events WHERE type IN ('reminder.sent', 'reminder.failed');"
                "TRUNCATE reminder_sends, outbox_messages, pending_jobs;"
            )
        )
        db.session.commit()
        with db.engine.connect() as fresh:
            fresh.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE reminder_sends, outbox_messages, events")
            )
    Redis.from_url(redis_url).flushdb()


def time_claim_query(url: str, repeats: int = 5) -> tuple[float, float, int]:
    """Median seconds of the claim through SQLAlchemy and raw; rolled back."""
    from agnozys import clock, tenancy
    from agnozys.extensions import db
    from agnozys.services import ladder

    app = make_app(url, None)
    orm_times, raw_times = [], []
    claimed = 0
    with app.app_context(), tenancy.unscoped():
        timezone = "America/Sao_Paulo"
        today = clock.today(timezone)
        statement = ladder.claim_statement(today, today, timezone)
        compiled = statement.compile(dialect=db.engine.dialect)
        sql, params = str(compiled), compiled.params
        for _ in range(repeats):
            with db.engine.connect() as conn:
                transaction = conn.begin()
                started = time.perf_counter()
                conn.execute(statement)
                orm_times.append(time.perf_counter() - started)
                transaction.rollback()
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                started = time.perf_counter()
                cursor.execute(sql, params)
                raw_times.append(time.perf_counter() - started)
                claimed = cursor.rowcount
                raw.rollback()
            finally:
                raw.close()
    return statistics.median(orm_times), statistics.median(raw_times), claimed


def child_sweep() -> None:
    """Run one sweep from the environment and print what it did as JSON."""
    from agnozys import create_app
    from agnozys.services import ladder

    app = create_app({"AGNOZYS_JOB_TIMER": False})
    with app.app_context():
        started = time.perf_counter()
        result = ladder.run_ladder()
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "claimed": result.claimed}))


def child_env(url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGNOZYS_")}
    env.update(
        DATABASE_URL=url,
        REDIS_URL=redis_url,
        SECRET_KEY="benchmark",
        AGNOZYS_NOTIFIERS="outbox",
        PYTHONPATH=str(ROOT),
    )
    return env


def running(process: subprocess.Popen[Any]) -> bool:
    """Whether a child still runs, without reaping it (``wait_rss`` does)."""
    return (
        os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    )


def wait_rss(process: subprocess.Popen[Any]) -> int:
    """Reap a child and return its peak RSS in MiB."""
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    return int(usage.ru_maxrss / 1024)


def run_sweep(url: str, redis_url: str) -> dict[str, Any]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--child-sweep"],
        env=child_env(url, redis_url),
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    output = process.stdout.read()
    rss = wait_rss(process)
    result = json.loads(output.strip().splitlines()[-1])
    result["rss_mib"] = rss
    return result


def outbox_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        row = conn.execute("SELECT count(*) FROM outbox_messages").fetchone()
        return int(row[0]) if row else 0


def run_workers(
    url: str,
    redis_url: str,
    count: int,
    seconds: float,
    worker_class: str,
    expected: int,
) -> dict[str, Any]:
    """Run ``count`` long-lived workers until ``expected`` messages or ``seconds``.

    The workers are not ``--burst``: a burst worker that starts while the
    queue holds only the ``jobs.drain`` job that hands the sweep's rows to
    RQ finds nothing to take and exits, and production workers stay up.
    """
    env = child_env(url, redis_url)
    log = open(ROOT / "instance" / "ladder-bench-workers.log", "w")  # noqa: SIM115
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rq.cli",
                "worker",
                "-w",
                worker_class,
                "--url",
                redis_url,
                "--logging_level",
                "WARNING",
                "agnozys",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        for _ in range(count)
    ]
    # Start the clock at the first recorded message: app start-up is not
    # throughput.
    deadline = time.monotonic() + 300
    while outbox_count(url) == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    start_count, started = outbox_count(url), time.monotonic()
    end = started + seconds
    done = start_count
    while time.monotonic() < end and done < expected and any(map(running, workers)):
        time.sleep(0.2)
        done = outbox_count(url)
    done, elapsed = outbox_count(url), time.monotonic() - started
    for worker in workers:
        if running(worker):
            worker.send_signal(signal.SIGTERM)
    rss = [wait_rss(worker) for worker in workers]
    log.close()
    recorded = done - start_count
    return {
        "recorded": recorded,
        "seconds": elapsed,
        "per_second": recorded / elapsed if elapsed else 0.0,
        "rss_mib": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--database-base", default=DEFAULT_BASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-seconds", type=float, default=60)
    parser.add_argument("--worker-class", default="agnozys.worker.SimpleWorker")
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--child-sweep", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_sweep:
        child_sweep()
        return

    results = {}
    for size in [int(s) for s in args.sizes.split(",")]:
        url = f"{args.database_base}agnozys_ladder_bench_{size}"
        print(f"== {size:,} invoices ({url})", flush=True)
        ensure_database(url)
        prepare(url, size)
        reset(url, args.redis_url)
        orm, raw, claimed = time_claim_query(url)
        print(
            f"  claim query: SQLAlchemy {orm:.3f} s, raw {raw:.3f} s, "
            f"ratio {orm / raw:.2f} ({claimed:,} rows)",
            flush=True,
        )
        sweep = run_sweep(url, args.redis_url)
        print(
            f"  sweep: {sweep['seconds']:.1f} s for {sweep['claimed']:,} reminders "
            f"(claim + hand-over to Redis), peak RSS {sweep['rss_mib']} MiB",
            flush=True,
        )
        work = run_workers(
            url,
            args.redis_url,
            args.workers,
            args.worker_seconds,
            args.worker_class,
            sweep["claimed"],
        )
        print(
            f"  {args.workers} workers: {work['recorded']:,} reminders recorded in "
            f"{work['seconds']:.1f} s = {work['per_second']:.0f}/s, "
            f"peak RSS {work['rss_mib']} MiB",
            flush=True,
        )
        results[size] = (orm / raw, sweep, work)
        reset(url, args.redis_url)
        if args.drop:
            drop_database(url)

    print("\nsize        ratio  sweep s  sweep MiB  workers/s  worker MiB")
    for size, (ratio, sweep, work) in results.items():
        worker_rss = max(work["rss_mib"])
        print(
            f"{size:>9,}  {ratio:5.2f}  {sweep['seconds']:7.1f}  "
            f"{sweep['rss_mib']:9}  {work['per_second']:9.0f}  {worker_rss:10}"
        )


if __name__ == "__main__":
    main()
