"""Time the Cobranças list against the raw SQL it runs, on a big book.

Seeds 1,000,000 invoices over 100,000 customers (``flask seed``'s loader) on
PostgreSQL, logs in through the real form and requests the list's common
views through the Flask test client, recording every SQL statement each
request sends. For each view it prints the median server time per request
(the whole page, and the htmx fragment a filter/sort/page click asks for)
beside the median time of the same statements, with the same parameters,
run raw on a DBAPI cursor, and their ratio.

Usage::

    python benchmarks/list_views.py                 # throwaway cluster
    python benchmarks/list_views.py --database-url postgresql+psycopg://...
    python benchmarks/list_views.py --invoices 100000 --customers 10000

Without ``--database-url`` it starts a private PostgreSQL 15 cluster in a
temporary folder (``initdb`` as the ``postgres`` user when run as root) and
removes it at the end; ``--keep`` leaves it running and prints its URL, so
a second run with ``--database-url`` skips the seeding. A database that
already holds the benchmark organization is reused as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import (  # noqa: E402
    Recorder,
    explain_statements,
    median_ms,
    throwaway_cluster,
    time_raw,
    time_requests,
)

ORG = "Benchmark Cobranças"
EMAIL = "bench@agnozys.test"
PASSWORD = "benchmark-senha"


@dataclass
class View:
    label: str
    query: str
    expect: str


VIEWS = [
    View("Vencidas, maior valor, página 1", "status=overdue&sort=-amount", "Vencid"),
    View(
        "Vencidas, maior valor, página 200",
        "status=overdue&sort=-amount&page=200",
        "Vencid",
    ),
    View("Todas, vencimento, página 1", "sort=due_date", "Todas"),
    View("Todas, vencimento, página 200", "sort=due_date&page=200", "Todas"),
    View("Todas, vencimento desc., página 1", "sort=-due_date", "Todas"),
    View("Busca por nome (1 palavra)", "q=oliveira", "Todas"),
    View("Busca por nome (2 palavras)", "q=helena+falc%C3%A3o", "Todas"),
    View("Busca por CPF (prefixo)", "q=123.45", "Todas"),
]


# --- a throwaway PostgreSQL cluster ---------------------------------------------


# --- preparing the data ---------------------------------------------------------


def prepare(app: Any, customers: int, invoices: int) -> None:
    """Migrate, then seed the benchmark organization unless it exists."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from agnozys.extensions import db
    from agnozys.models import Organization, Role, User
    from agnozys.seed import find_or_create_org, seed

    with app.app_context():
        upgrade()
        existing = db.session.execute(
            select(Organization).where(Organization.name == ORG)
        ).scalar_one_or_none()
        if existing is not None and existing.invoice_seq:
            print(f"Reusing {ORG}: {existing.invoice_seq} invoices already there.")
            return
        org = find_or_create_org(ORG)
        user = User(organization_id=org.id, email=EMAIL, role=Role.OWNER, name="Bench")
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
        print(f"Seeding {customers} customers and {invoices} invoices...")
        result = seed(
            org,
            customers,
            invoices,
            seed_value=2026,
            progress=lambda m: print("  " + m, flush=True),
        )
        print(f"Seeded in {result.seconds:.0f} s.")


# --- measuring ------------------------------------------------------------------


def measure(app: Any, repeat: int, explain: bool) -> list[dict[str, Any]]:
    from sqlalchemy import event

    from agnozys.extensions import db

    client = app.test_client()
    response = client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"login failed: {response.status_code}")
    recorder = Recorder()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", recorder)
    results = []
    for view in VIEWS:
        url = "/cobrancas/?" + view.query
        htmx = {"HX-Request": "true", "HX-Current-URL": "http://localhost/cobrancas/"}
        # Warm caches and plans, then capture one request's SQL.
        time_requests(client, url, {}, view.expect, 2)
        time_requests(client, url, htmx, "<table", 1)
        recorder.statements, recorder.on = [], True
        time_requests(client, url, htmx, "<table", 1)
        recorder.on = False
        statements = list(recorder.statements)

        page = time_requests(client, url, {}, view.expect, repeat)
        fragment = time_requests(client, url, htmx, "<table", repeat)
        raw = time_raw(engine, statements, repeat)
        row = {
            "view": view.label,
            "page_ms": median_ms(page),
            "htmx_ms": median_ms(fragment),
            "sql_ms": median_ms(raw),
            "queries": len(statements),
        }
        row["ratio"] = row["htmx_ms"] / row["sql_ms"]
        row["page_ratio"] = row["page_ms"] / row["sql_ms"]
        results.append(row)
        print(
            f"  {view.label}: {row['htmx_ms']:.1f} ms vs SQL {row['sql_ms']:.1f} ms",
            flush=True,
        )
        if explain:
            explain_statements(engine, statements)
    return results


def report(results: list[dict[str, Any]], customers: int, invoices: int) -> None:
    print(
        f"\nCobranças list, {invoices:,} invoices over {customers:,} customers "
        "(median of each; ratio = htmx request / raw SQL)\n"
    )
    header = "| view | page (ms) | htmx (ms) | raw SQL (ms) | queries | ratio |"
    print(header)
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in results:
        print(
            f"| {row['view']} | {row['page_ms']:.1f} | {row['htmx_ms']:.1f} | "
            f"{row['sql_ms']:.1f} | {row['queries']} | {row['ratio']:.2f} |"
        )
    worst = max(row["ratio"] for row in results)
    by_label = {row["view"]: row for row in results}
    print(f"\nWorst ratio: {worst:.2f} (goal <= 1.5)")
    for first, deep in (
        ("Vencidas, maior valor, página 1", "Vencidas, maior valor, página 200"),
        ("Todas, vencimento, página 1", "Todas, vencimento, página 200"),
    ):
        print(
            f"Page 200 / page 1, {first.split(',')[0]}: "
            f"{by_label[deep]['htmx_ms'] / by_label[first]['htmx_ms']:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", help="use this database (else a throwaway cluster)"
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="leave the cluster running")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE")
    args = parser.parse_args()

    os.environ.pop("REDIS_URL", None)
    from agnozys import create_app

    with contextlib.ExitStack() as stack:
        url = args.database_url or stack.enter_context(throwaway_cluster(args.keep))
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "benchmark",
                "WTF_CSRF_ENABLED": False,
                "REDIS_URL": None,
                # Nothing to dispatch here; the timer would outlive the cluster.
                "AGNOZYS_JOB_TIMER": False,
            }
        )
        prepare(app, args.customers, args.invoices)
        print(f"Measuring ({args.repeat} requests per view)...")
        results = measure(app, args.repeat, args.explain)
        report(results, args.customers, args.invoices)
        with app.app_context():
            from agnozys.extensions import db

            db.engine.dispose()


if __name__ == "__main__":
    main()
