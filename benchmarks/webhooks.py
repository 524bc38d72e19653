"""Measure webhook ingestion on PostgreSQL under gunicorn.

Seeds one organization with open invoices, each with a sandbox charge, and
starts gunicorn (``wsgi:app``) on it. Then 16 concurrent senders post
signed ``payment.confirmed`` webhooks to ``POST /webhooks/sandbox``, one
new event per invoice, and the script counts confirmed payments per second
(a 200 whose payment is ``confirmed``, and checked afterwards in the
database: as many payments as invoices paid). The same senders then hit a
trivial route of the same server (``GET /webhooks/sandbox``, no database)
for the same time. The two loads alternate for a few rounds, and the
median ratio is the figure. Goal: ingestion at least half the trivial rate.

Everything runs on this machine, PostgreSQL and the senders included, so
the script also prints the CPU time every process spent per request,
split by role: what a payment costs beyond a trivial request, and where.

Usage::

    python benchmarks/webhooks.py                      # throwaway cluster
    python benchmarks/webhooks.py --database-url postgresql+psycopg://...
    python benchmarks/webhooks.py --rounds 5 --workers 2 --threads 8  # default 4 x 4

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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
    analyze(database_url)
    return charges


def analyze(database_url: str) -> None:
    """Give the planner the statistics a live database has.

    Autovacuum gathers them about a minute after a bulk load; the
    measurement starts sooner. Without them PostgreSQL takes the freshly
    seeded ``invoices`` for a tiny table and finds each charge by scanning
    every open invoice, which a production database never does.
    """
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


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
) -> Iterator[tuple[int, int]]:
    """Start gunicorn on a free port; yield the port and the arbiter's pid."""
    port = free_port()
    command = ["gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    command += ["--threads", str(threads), "--log-level", "warning", "wsgi:app"]
    env = server_env(database_url, redis_url, port)
    with background(command, env, "bench-webhooks-gunicorn.log") as process:
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
        yield port, process.pid


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
    parser.add_argument("--seconds", type=float, default=5, help="per route and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--invoices", type=int, default=30_000)
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
        # Signed before the clock starts: a PSP signs on its own machines,
        # and here the senders share the server's two cores. The timestamps
        # stay well inside the five-minute window.
        queues = [[signed(c) for c in charges[i::SENDERS]] for i in range(SENDERS)]

        def pay(conn: http.client.HTTPConnection, index: int) -> bool | None:
            if not queues[index]:
                return None  # ran out of invoices: stop this sender
            body, headers = queues[index].pop()
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
        rounds = []
        with gunicorn(url, args.workers, args.threads, args.redis_url) as server:
            port, server_pid = server
            # Warm both routes so imports and pools are not measured.
            run(port, 1, trivial)
            # Alternate the two loads, so a slow spell of this shared
            # machine weighs on both rates alike.
            for number in range(1, args.rounds + 1):
                pay_round = measured(port, args.seconds, pay, server_pid)
                trivial_round = measured(port, args.seconds, trivial, server_pid)
                rounds.append((pay_round, trivial_round))
                print(
                    f"  round {number}: {pay_round.rate:7.1f} payments/s, "
                    f"trivial {trivial_round.rate:7.1f} requests/s, "
                    f"ratio {pay_round.rate / trivial_round.rate:.2f}",
                    flush=True,
                )

        stored = count_confirmed(url)
        confirmed = sum(p.good for p, _ in rounds)
        failed = sum(p.bad for p, _ in rounds)
        ratios = sorted(p.rate / t.rate for p, t in rounds)
        print()
        print(
            f"gunicorn {args.workers} workers x {args.threads} threads, "
            f"{SENDERS} concurrent senders, {args.rounds} rounds of "
            f"{args.seconds:.0f} s per route"
        )
        if not args.redis_url:
            jobs = "invoice.paid job in-process, inside each request (no Redis)"
        elif args.worker:
            jobs = "jobs to RQ, one rq worker on this machine meanwhile"
        else:
            jobs = "jobs to RQ, no worker on this machine meanwhile"
        print(f"  jobs              : {jobs}")
        pay_rate = median([p.rate for p, _ in rounds])
        trivial_rate = median([t.rate for _, t in rounds])
        print(f"  webhook ingestion : {pay_rate:8.1f} confirmed payments/s (median)")
        print(f"                      ({confirmed} confirmed, {failed} not)")
        print(f"  trivial route     : {trivial_rate:8.1f} requests/s (median)")
        print(
            f"  ratio             : {median(ratios):8.2f} median of rounds, "
            f"{ratios[0]:.2f} to {ratios[-1]:.2f} (goal >= 0.50)"
        )
        print("  CPU per request, ms (both cores, every process on the machine):")
        for label, phase in (("payment", 0), ("trivial", 1)):
            spent = CpuSplit.total(r[phase].cpu for r in rounds)
            count = sum(r[phase].good for r in rounds)
            print(f"    {label:8s}: {spent.per(count)}")
        print(f"  payments in the database: {stored} (must equal {confirmed})")
        if stored != confirmed or failed:
            sys.exit("mismatch between answers and the database")


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass(frozen=True)
class CpuSplit:
    """CPU seconds spent by the server, PostgreSQL, the senders and the rest."""

    server: float = 0.0
    postgres: float = 0.0
    senders: float = 0.0
    other: float = 0.0

    @classmethod
    def read(cls, server_pid: int) -> CpuSplit:
        """Sum user and system time of every process now alive, by role (Linux)."""
        ticks = os.sysconf("SC_CLK_TCK")
        spent = dict.fromkeys(("server", "postgres", "senders", "other"), 0.0)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue  # ended meanwhile
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            pid, parent = int(entry), int(fields[1])
            seconds = (int(fields[11]) + int(fields[12])) / ticks
            if server_pid in (pid, parent):
                role = "server"
            elif name == "postgres":
                role = "postgres"
            elif pid == os.getpid():
                role = "senders"
            else:
                role = "other"
            spent[role] += seconds
        return cls(**spent)

    def __sub__(self, other: CpuSplit) -> CpuSplit:
        return CpuSplit(
            self.server - other.server,
            self.postgres - other.postgres,
            self.senders - other.senders,
            self.other - other.other,
        )

    @classmethod
    def total(cls, splits: Iterable[CpuSplit]) -> CpuSplit:
        result = cls()
        for split in splits:
            result = CpuSplit(
                result.server + split.server,
                result.postgres + split.postgres,
                result.senders + split.senders,
                result.other + split.other,
            )
        return result

    def per(self, count: int) -> str:
        def ms(value: float) -> str:
            return f"{1000 * value / max(count, 1):.2f}"

        whole = self.server + self.postgres + self.senders + self.other
        return (
            f"{ms(whole)} in all: gunicorn {ms(self.server)}, PostgreSQL "
            f"{ms(self.postgres)}, senders {ms(self.senders)}, other {ms(self.other)}"
        )


@dataclass(frozen=True)
class Round:
    good: int
    bad: int
    seconds: float
    cpu: CpuSplit

    @property
    def rate(self) -> float:
        return self.good / self.seconds


def measured(port: int, seconds: float, work: Any, server_pid: int) -> Round:
    """One :func:`run`, with the CPU every process spent meanwhile."""
    before = CpuSplit.read(server_pid)
    good, bad, elapsed = run(port, seconds, work)
    return Round(good, bad, elapsed, CpuSplit.read(server_pid) - before)


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
