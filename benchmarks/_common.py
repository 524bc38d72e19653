"""What the benchmark scripts share: PostgreSQL set-up, timing and SQL capture.

Each script is run as ``python benchmarks/<name>.py``, so this folder is
on ``sys.path`` and they import from here directly.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_bin() -> Path:
    for candidate in [
        "/usr/lib/postgresql/15/bin",
        *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True),
    ]:
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    sys.exit("PostgreSQL server binaries not found (apt-get install postgresql)")


@contextlib.contextmanager
def throwaway_cluster(keep: bool) -> Iterator[str]:
    """Start a private PostgreSQL cluster; yield its URL."""
    pg = pg_bin()
    work = Path(tempfile.mkdtemp(prefix="agnozys-bench."))
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(work, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    data = work / "data"
    subprocess.run(
        [
            *as_postgres,
            str(pg / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {work} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off "
        "-c shared_buffers=1GB -c work_mem=32MB -c maintenance_work_mem=512MB "
        "-c max_wal_size=4GB -c checkpoint_timeout=30min"
    )
    subprocess.run(
        [
            *as_postgres,
            str(pg / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(work / "postgres.log"),
            "-w",
            "-o",
            options,
            "start",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [
            str(pg / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            "postgres",
            "-q",
            "-c",
            "CREATE DATABASE agnozys_bench",
        ],
        check=True,
    )
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/agnozys_bench"
    try:
        yield url
    finally:
        if keep:
            print(
                f"\nCluster kept running: {url}\n  data: {data}\n  stop: "
                f"{' '.join(as_postgres)} {pg / 'pg_ctl'} -D {data} stop"
            )
        else:
            subprocess.run(
                [
                    *as_postgres,
                    str(pg / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "immediate",
                    "stop",
                ],
                stdout=subprocess.DEVNULL,
            )
            shutil.rmtree(work, ignore_errors=True)


def ensure_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"),
            {"n": target.database},
        ).first()
        if not found:
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


class Recorder:
    """Keeps the SQL statements the app sends while recording is on."""

    def __init__(self) -> None:
        self.on = False
        self.statements: list[tuple[str, Any]] = []

    def __call__(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if self.on:
            self.statements.append((statement, parameters))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def time_requests(
    client: Any, url: str, headers: dict[str, str], expect: str, repeat: int
) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        elapsed = time.perf_counter() - started
        if response.status_code != 200 or expect.encode() not in response.data:
            raise SystemExit(f"{url}: unexpected answer {response.status_code}")
        samples.append(elapsed)
    return samples


def time_raw(
    engine: Any, statements: list[tuple[str, Any]], repeat: int
) -> list[float]:
    """Run the captured statements on a bare DBAPI cursor, as the app did."""
    samples = []
    raw = engine.raw_connection()
    try:
        for _ in range(repeat):
            cursor = raw.cursor()
            started = time.perf_counter()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            samples.append(time.perf_counter() - started)
            cursor.close()
            raw.rollback()
    finally:
        raw.close()
    return samples


def explain_statements(engine: Any, statements: list[tuple[str, Any]]) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = "\n".join("      " + r[0] for r in cursor.fetchall())
            print("    " + " ".join(statement.split())[:160] + "\n" + plan)
        raw.rollback()
    finally:
        raw.close()
