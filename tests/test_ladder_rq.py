"""The ladder through a real Redis and real ``rq worker`` processes.

Needs ``REDIS_TEST_URL`` (``.ci/run`` starts a private Redis and sets
it; locally use your own database number, such as
``redis://127.0.0.1:56379/3``). Without it the tests are skipped, except
in CI where that is an error. Workers run as subprocesses on the test
database, exactly as an operator would start them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from test_notifiers import Zenvia

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import Customer, Event, Invoice, Organization, OutboxMessage
from agnozys.models.ladder import ReminderSend, ReminderStatus
from agnozys.services import ladder

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.redis


@pytest.fixture
def worker_env(db_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment an operator's worker would have, on the test database."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AGNOZYS_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        SECRET_KEY="test-secret-key",
        AGNOZYS_BASE_URL="http://agnozys.test",
        AGNOZYS_SANDBOX_SECRET="sandbox-test-secret",
        AGNOZYS_UPLOAD_DIR=str(tmp_path / "uploads"),
        AGNOZYS_NOTIFIERS="outbox",
        PYTHONUNBUFFERED="1",
    )
    return env


def worker_command(redis_url: str, *, burst: bool = True) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "rq.cli",
        "worker",
        "-w",
        "agnozys.worker.Worker",
        "--url",
        redis_url,
    ]
    if burst:
        command.append("--burst")
    return [*command, "agnozys"]


def run_workers(
    env: dict[str, str], redis_url: str, count: int = 1, log: Path | None = None
) -> None:
    """Run ``count`` burst workers side by side until the queue is empty."""
    out = open(log, "a") if log else subprocess.DEVNULL  # noqa: SIM115
    workers = [
        subprocess.Popen(
            worker_command(redis_url), env=env, cwd=ROOT, stdout=out, stderr=out
        )
        for _ in range(count)
    ]
    try:
        for worker in workers:
            assert worker.wait(timeout=300) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        if log:
            out.close()  # type: ignore[union-attr]


@pytest.fixture
def rq_app(make_app: Callable[..., Flask], redis_url: str) -> Flask:
    """An app that hands jobs to Redis, on the test database."""
    return make_app(REDIS_URL=redis_url)


@pytest.fixture
def debtors(
    org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
) -> Callable[[int, int], list[Invoice]]:
    def build(count: int, due_in: int = 5) -> list[Invoice]:
        return [
            make_invoice(
                org,
                make_customer(org, email=f"c{n}@example.com", phone=f"1198765{n:04d}"),
                due_in=due_in,
            )
            for n in range(count)
        ]

    return build


def sweep(app: Flask, **kwargs: Any) -> ladder.SweepResult:
    with app.app_context():
        result = ladder.run_ladder(**kwargs)
        db.session.remove()
    return result


def outbox_keys() -> list[tuple[str | None, str]]:
    with tenancy.unscoped():
        db.session.expire_all()
        return [
            (m.invoice_public_id, m.channel)
            for m in db.session.execute(select(OutboxMessage)).scalars()
        ]


def statuses() -> dict[str, int]:
    with tenancy.unscoped():
        db.session.expire_all()
        rows = db.session.execute(
            select(ReminderSend.status, func.count()).group_by(ReminderSend.status)
        ).all()
    return {str(status.value): count for status, count in rows}


def test_sweeps_run_twice_and_concurrently_send_each_reminder_once(
    rq_app: Flask,
    worker_env: dict[str, str],
    redis_url: str,
    debtors: Callable[..., list[Invoice]],
    tmp_path: Path,
) -> None:
    invoices = debtors(8)
    # Two `flask dunning run` processes at once, then one more in here.
    commands = [
        subprocess.Popen(
            [sys.executable, "-m", "flask", "dunning", "run"],
            env=worker_env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [command.communicate(timeout=300)[0] for command in commands]
    assert all(command.returncode == 0 for command in commands), outputs
    assert sweep(rq_app).claimed == 0

    run_workers(worker_env, redis_url, count=2, log=tmp_path / "workers.log")

    keys = outbox_keys()
    assert len(keys) == 2 * len(invoices)
    assert len(set(keys)) == len(keys)
    assert statuses() == {"sent": 2 * len(invoices)}
    with tenancy.unscoped():
        sent = db.session.execute(
            select(func.count()).where(Event.type == "reminder.sent")
        ).scalar_one()
    assert sent == 2 * len(invoices)


def test_a_worker_killed_mid_run_leaves_no_reminder_lost_or_doubled(
    make_app: Callable[..., Flask],
    rq_app: Flask,
    worker_env: dict[str, str],
    redis_url: str,
    debtors: Callable[..., list[Invoice]],
    tmp_path: Path,
) -> None:
    invoices = debtors(30)
    # Jobs of 4 reminders: the kill lands between batches or in the middle
    # of one (its outbox rows written, its statuses not yet committed).
    sweep(make_app(REDIS_URL=redis_url, AGNOZYS_REMINDER_BATCH=4))
    log = open(tmp_path / "killed.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        worker_command(redis_url, burst=False),
        env=worker_env,
        cwd=ROOT,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while len(outbox_keys()) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        # SIGKILL the worker and its work horse: no clean-up runs.
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        log.close()
    done_before = len(outbox_keys())
    assert 5 <= done_before < 2 * len(invoices)

    # Once the lease of the dead job's row is over, the next run hands the
    # unfinished reminders over again.
    recovering = make_app(REDIS_URL=redis_url, AGNOZYS_REMINDER_LEASE_SECONDS=0)
    time.sleep(0.05)
    sweep(recovering)
    run_workers(
        {**worker_env, "AGNOZYS_REMINDER_LEASE_SECONDS": "0"},
        redis_url,
        log=tmp_path / "after.log",
    )

    keys = outbox_keys()
    assert len(keys) == 2 * len(invoices)
    assert len(set(keys)) == len(keys)
    assert statuses() == {"sent": 2 * len(invoices)}


def test_a_failed_sms_is_retried_by_the_worker_and_then_sent(
    rq_app: Flask,
    worker_env: dict[str, str],
    redis_url: str,
    debtors: Callable[..., list[Invoice]],
) -> None:
    (invoice,) = debtors(1, due_in=0)
    zenvia = Zenvia()
    zenvia.status = 503
    env = {
        **worker_env,
        "AGNOZYS_NOTIFIERS": "outbox,sms",
        "AGNOZYS_ZENVIA_TOKEN": "t",
        "AGNOZYS_ZENVIA_FROM": "aurora",
        "AGNOZYS_ZENVIA_BASE_URL": zenvia.url,
        "AGNOZYS_REMINDER_RETRY_DELAYS": "0,0",
    }
    try:
        sweep(rq_app)
        run_workers(env, redis_url)
        first_round = len(zenvia.requests)
        zenvia.status = 200
        # The failures used up every attempt: the SMS ends as failed.
        assert statuses() == {"sent": 1, "failed": 1}
    finally:
        zenvia.stop()

    assert first_round == 3
    with tenancy.unscoped():
        failed = db.session.execute(
            select(Event).where(
                Event.invoice_id == invoice.id, Event.type == "reminder.failed"
            )
        ).scalar_one()
    assert failed.data["channel"] == "sms"
    assert "Zenvia respondeu 503" in failed.data["reason"]
    assert failed.data["attempts"] == 3


def test_rq_cron_config_registers_the_daily_ladder() -> None:
    import importlib

    from rq import cron

    import agnozys.cron

    before = len(cron._job_data_registry)
    importlib.reload(agnozys.cron)
    registered = cron._job_data_registry[before:]

    (daily,) = [job for job in registered if job["args"] == ("ladder.run", {})]
    assert daily["cron"] == "0 9 * * *"
    assert daily["func"].__module__ + "." + daily["func"].__name__ == (
        "agnozys.jobs.execute"
    )
    (recover,) = [job for job in registered if job["args"] == ("ladder.recover", {})]
    assert recover["interval"] == 600


def test_skipped_when_paid_between_sweep_and_worker(
    rq_app: Flask,
    worker_env: dict[str, str],
    redis_url: str,
    debtors: Callable[..., list[Invoice]],
) -> None:
    (invoice,) = debtors(1)
    sweep(rq_app)
    with tenancy.unscoped():
        db.session.execute(
            Invoice.__table__.update()
            .where(Invoice.__table__.c.id == invoice.id)
            .values(status="paid")
        )
        db.session.commit()

    run_workers(worker_env, redis_url)

    assert outbox_keys() == []
    assert statuses() == {str(ReminderStatus.SKIPPED.value): 2}
