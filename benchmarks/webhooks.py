"""Measure webhook ingestion on PostgreSQL under gunicorn.

Seeds one organization with open invoices, each with a sandbox charge, and
starts gunicorn (``wsgi:app``) on it. Then 16 concurrent senders post
signed ``payment.confirmed`` webhooks to ``POST /webhooks/sandbox``, one
new event per invoice, and the script counts confirmed payments per second
(a 200 whose payment is ``confirmed``, and checked afterwards in the
database: as many payments as invoices paid). The same senders then hit a
trivial route of the same server (``GET /webhooks/sandbox``, no database)
for the same time. Goal: ingestion at least half the trivial rate.

Usage::

    python benchmarks/webhooks.py                      # throwaway cluster
    python benchmarks/webhooks.py --database-url postgresql+psycopg://...
    python benchmarks/webhooks.py --seconds 20 --workers 2 --threads 8  # default 4 x 4

With ``--database-url`` the database should be empty (``flask db upgrade``
is run on it). Without ``--redis-url`` the ``invoice.paid`` job runs
in-process after each commit, inside the webhook's request, as it would in
a deployment without Redis. With it, the server hands the job to RQ as in
production; ``--worker`` also runs one ``rq worker`` on the same machine
during the measurement (otherwise the jobs wait in Redis, as they would
for workers on other hosts; the Redis database given is flushed).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _common import free_port, throwaway_cluster  # noqa: E402

SECRET = "benchmark-sandbox-secret-0123456789"
AMOUNT = 15_000  # R$ 150,00, due in the future: no late charges
SENDERS = 16


def seed(database_url: str, invoices: int) -> list[str]:
    """Create the schema and the open invoices; return their charge ids."""
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "wsgi"}
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "-m", "flask", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    from agnozys import clock, create_app
    from agnozys.extensions import db
    from agnozys.models import Customer, Invoice, InvoiceStatus, Organization

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "AGNOZYS_SANDBOX_SECRET": SECRET,
            "REDIS_URL": None,
            "AGNOZYS_JOB_TIMER": False,
        }
    )
    charges = []
    with app.app_context():
        org = Organization(name=f"Benchmark Webhooks {uuid.uuid4().hex[:6]}")
        db.session.add(org)
        db.session.flush()
        customer = Customer(organization_id=org.id, name="Pagador", search_name="")
        db.session.add(customer)
        db.session.flush()
        due = clock.today(org.timezone) + timedelta(days=10)
        for number in range(1, invoices + 1):
            charge = f"sbx_bench_{org.id}_{number}"
            charges.append(charge)
            db.session.add(
                Invoice(
                    organization_id=org.id,
                    number=number,
                    customer_id=customer.id,
                    description="Benchmark",
                    status=InvoiceStatus.PENDING,
                    amount=AMOUNT,
                    fine_bp=200,
                    interest_bp=100,
                    due_date=due,
                    original_due_date=due,
                    gateway_charge_id=charge,
                )
            )
        org.invoice_seq = invoices
        db.session.commit()
        db.engine.dispose()
    return charges


def server_env(database_url: str, redis_url: str | None, port: int) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AGNOZYS_SANDBOX_SECRET": SECRET,
        "AGNOZYS_BASE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


@contextlib.contextmanager
def background(
    command: list[str], env: dict[str, str], log_name: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m <command>`` from the repository, logging to test-output/."""
    with open(ROOT / "test-output" / log_name, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextlib.contextmanager
def rq_worker(database_url: str, redis_url: str) -> Iterator[None]:
    """One ``rq worker`` draining the jobs the webhooks enqueue."""
    command = ["rq.cli", "worker", "-w", "agnozys.worker.SimpleWorker"]
    env = server_env(database_url, redis_url, 0)
    with background(
        [*command, "--url", redis_url, "agnozys"], env, "bench-webhooks-worker.log"
    ):
        yield


@contextlib.contextmanager
def gunicorn(
    database_url: str, workers: int, threads: int, redis_url: str | None = None
) -> Iterator[int]:
    port = free_port()
    command = ["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--threads", str(threads), "--log-level", "warning", "wsgi:app"]
    env = server_env(database_url, redis_url, port)
    with background(command, env, "bench-webhooks-gunicorn.log"):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/webhooks/sandbox")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start; see test-output/")
        yield port


def signed(charge: str) -> tuple[bytes, dict[str, str]]:
    from agnozys import signatures

    body = json.dumps(
        {
            "id": "evt_" + uuid.uuid4().hex,
            "type": "payment.confirmed",
            "data": {
                "charge_id": charge,
                "amount": f"{AMOUNT // 100}.{AMOUNT % 100:02d}",
                "paid_at": datetime.now(UTC).isoformat(),
            },
        }
    ).encode()
    headers = {
        signatures.HEADER: signatures.sign(SECRET, body),
        "Content-Type": "application/json",
    }
    return body, headers


def run(port: int, seconds: float, work: Any) -> tuple[int, int, float]:
    """Run ``work(conn)`` in 16 threads for ``seconds``; count good and bad."""
    good = [0] * SENDERS
    bad = [0] * SENDERS
    stop = threading.Event()
    start = threading.Barrier(SENDERS + 1)

    def sender(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        while not stop.is_set():
            try:
                ok = work(conn, index)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = None
            if ok is None:
                break
            if ok:
                good[index] += 1
            else:
                bad[index] += 1
        conn.close()

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    stop.wait(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    return sum(good), sum(bad), time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--redis-url", help="hand jobs to RQ (database is flushed)")
    parser.add_argument(
        "--worker", action="store_true", help="run an rq worker meanwhile"
    )
    args = parser.parse_args()
    if args.worker and not args.redis_url:
        parser.error("--worker needs --redis-url")
    if args.redis_url:
        from redis import Redis

        Redis.from_url(args.redis_url).flushdb()
    (ROOT / "test-output").mkdir(exist_ok=True)

    with contextlib.ExitStack() as stack:
        url = args.database_url or stack.enter_context(throwaway_cluster(False))
        print(f"Seeding {args.invoices} open invoices ...", flush=True)
        charges = seed(url, args.invoices)
        queues = [charges[i::SENDERS] for i in range(SENDERS)]

        def pay(conn: http.client.HTTPConnection, index: int) -> bool | None:
            if not queues[index]:
                return None  # ran out of invoices: stop this sender
            body, headers = signed(queues[index].pop())
            conn.request("POST", "/webhooks/sandbox", body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            return (
                response.status == 200
                and json.loads(payload)["payments"][0]["status"] == "confirmed"
            )

        def trivial(conn: http.client.HTTPConnection, index: int) -> bool:
            conn.request("GET", "/webhooks/sandbox")
            response = conn.getresponse()
            response.read()
            return response.status == 200

        if args.worker:
            stack.enter_context(rq_worker(url, args.redis_url))
        with gunicorn(url, args.workers, args.threads, args.redis_url) as port:
            # Warm both routes so imports and pools are not measured.
            run(port, 1, trivial)
            confirmed, failed, paid_secs = run(port, args.seconds, pay)
            served, _, trivial_secs = run(port, args.seconds, trivial)

        stored = count_confirmed(url)
        pay_rate = confirmed / paid_secs
        trivial_rate = served / trivial_secs
        print()
        print(
            f"gunicorn {args.workers} workers x {args.threads} threads, "
            f"{SENDERS} concurrent senders, {args.seconds:.0f} s each"
        )
        if not args.redis_url:
            jobs = "invoice.paid job in-process, inside each request (no Redis)"
        elif args.worker:
            jobs = "jobs to RQ, one rq worker on this machine meanwhile"
        else:
            jobs = "jobs to RQ, no worker on this machine meanwhile"
        print(f"  jobs              : {jobs}")
        print(f"  webhook ingestion : {pay_rate:8.1f} confirmed payments/s")
        print(f"                      ({confirmed} confirmed, {failed} not)")
        print(f"  trivial route     : {trivial_rate:8.1f} requests/s")
        print(f"  ratio             : {pay_rate / trivial_rate:8.2f} (goal >= 0.50)")
        print(f"  payments in the database: {stored} (must equal {confirmed})")
        if stored != confirmed or failed:
            sys.exit("mismatch between answers and the database")


def count_confirmed(database_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(
            text(
                "SELECT count(*) FROM payments p JOIN invoices i "
                "ON i.id = p.invoice_id WHERE p.status = 'confirmed' "
                "AND i.status = 'paid'"
            )
        ).scalar_one()
    engine.dispose()
    return int(count)


if __name__ == "__main__":
    main()
