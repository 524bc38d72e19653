"""Time the Pareto and aging reports against the raw SQL they run, on a big book.

Seeds 1,000,000 invoices over 100,000 customers (``flask seed``'s loader)
into a PostgreSQL database, then requests the reports through the Flask
test client (the API as an integration would, and the staff pages),
recording every SQL statement a request sends. For each report it prints
the median server time per request beside the median time of the same
statements, with the same parameters, run raw on a DBAPI cursor (rows
fetched), and their ratio. Goal: ratio <= 1.3 and under 1 s server time.

Usage::

    python benchmarks/reports.py
    python benchmarks/reports.py --database-url postgresql+psycopg://...
    python benchmarks/reports.py --invoices 100000 --customers 10000

The default database is ``agnozys_rep_bench`` on the dev PostgreSQL
(``127.0.0.1:55432``), created when missing. A database that already
holds the benchmark organization is reused as it is, so only the first run
pays for seeding; ``--drop`` removes the database at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import (  # noqa: E402
    Recorder,
    drop_database,
    ensure_database,
    explain_statements,
    time_raw,
    time_requests,
)

ORG = "Benchmark Relatórios"
EMAIL = "bench-relatorios@agnozys.test"
PASSWORD = "benchmark-senha"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:55432/agnozys_rep_bench"

# (label, path, expected text, needs the API token)
CASES = [
    ("Pareto API, every customer", "/api/v1/reports/pareto", '"top_count"', True),
    ("Pareto page, 80% group, page 1", "/relatorios/pareto", "Quem ligar", False),
    (
        "Pareto page, everyone, page 20",
        "/relatorios/pareto?todos=1&page=20",
        "#",
        False,
    ),
    ("Aging API", "/api/v1/reports/aging", '"buckets"', True),
    ("Aging page", "/relatorios/aging", "Aging", False),
    ("Painel", "/painel/", "Painel", False),
]


def prepare(app: Any, customers: int, invoices: int) -> str:
    """Migrate, seed the benchmark organization unless present; return a token."""
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from agnozys.extensions import db
    from agnozys.models import ApiToken, Organization, Role, User
    from agnozys.seed import find_or_create_org, seed

    with app.app_context():
        upgrade()
        org = db.session.execute(
            select(Organization).where(Organization.name == ORG)
        ).scalar_one_or_none()
        if org is None or not org.invoice_seq:
            org = find_or_create_org(ORG)
            user = User(
                organization_id=org.id, email=EMAIL, role=Role.OWNER, name="Bench"
            )
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
            print(f"Seeding {customers:,} customers and {invoices:,} invoices...")
            result = seed(
                org,
                customers,
                invoices,
                seed_value=2026,
                progress=lambda m: print("  " + m, flush=True),
            )
            print(f"Seeded in {result.seconds:.0f} s.")
        else:
            print(f"Reusing {ORG}: {org.invoice_seq:,} invoices already there.")
        token, raw = ApiToken.issue(org, name="benchmark")
        db.session.add(token)
        db.session.commit()
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE invoices")
            )
        return raw


def measure(
    app: Any, token: str, repeat: int, show_plans: bool
) -> list[dict[str, Any]]:
    from sqlalchemy import event

    from agnozys.extensions import db

    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"login failed: {response.status_code}")
    with app.app_context():
        engine = db.engine
    recorder = Recorder()
    event.listen(engine, "before_cursor_execute", recorder)
    bearer = {"Authorization": f"Bearer {token}"}
    results = []
    for label, path, expect, api in CASES:
        headers = bearer if api else {}
        time_requests(client, path, headers, expect, 2)  # warm caches and plans
        recorder.statements, recorder.on = [], True
        time_requests(client, path, headers, expect, 1)
        recorder.on = False
        # Authentication and session lookups are not the report's SQL.
        statements = [
            (s, p)
            for s, p in recorder.statements
            if "FROM users" not in s and "FROM api_tokens" not in s
            and "FROM organizations" not in s
        ]  # fmt: skip
        server = time_requests(client, path, headers, expect, repeat)
        raw = time_raw(engine, statements, repeat)
        row = {
            "label": label,
            "server_ms": statistics.median(server) * 1000,
            "sql_ms": statistics.median(raw) * 1000,
            "queries": len(statements),
        }
        row["ratio"] = row["server_ms"] / row["sql_ms"]
        results.append(row)
        print(
            f"  {label}: server {row['server_ms']:.0f} ms, raw SQL "
            f"{row['sql_ms']:.0f} ms, ratio {row['ratio']:.2f}",
            flush=True,
        )
        if show_plans:
            explain_statements(engine, statements)
    return results


def report(results: list[dict[str, Any]], customers: int, invoices: int) -> None:
    print(
        f"\nReports, {invoices:,} invoices over {customers:,} customers "
        "(median; ratio = server / raw SQL)\n"
    )
    print("| report | server (ms) | raw SQL (ms) | queries | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for row in results:
        print(
            f"| {row['label']} | {row['server_ms']:.0f} | {row['sql_ms']:.0f} | "
            f"{row['queries']} | {row['ratio']:.2f} |"
        )
    print("\nGoal: ratio <= 1.3 and server time < 1000 ms.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE")
    parser.add_argument("--drop", action="store_true", help="drop the database after")
    args = parser.parse_args()

    os.environ.pop("REDIS_URL", None)
    from agnozys import create_app

    ensure_database(args.database_url)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": args.database_url,
            "SECRET_KEY": "benchmark",
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": None,
        }
    )
    try:
        token = prepare(app, args.customers, args.invoices)
        print(f"Measuring ({args.repeat} requests per report)...")
        results = measure(app, token, args.repeat, args.explain)
        report(results, args.customers, args.invoices)
    finally:
        with app.app_context():
            from agnozys.extensions import db

            db.engine.dispose()
        if args.drop:
            drop_database(args.database_url)


if __name__ == "__main__":
    main()
