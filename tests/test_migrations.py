"""Migrations build exactly the schema the models describe.

Runs on the database the suite runs on: a fresh SQLite file, or a fresh
PostgreSQL database created beside ``AGNOZYS_TEST_DATABASE_URL``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from helpers import fresh_database
from sqlalchemy import inspect, text

from agnozys import create_app
from agnozys.extensions import db

# Tables Alembic itself owns.
IGNORED_TABLES = {"alembic_version"}


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path, "agnozys_migrations") as url:
        yield url


@pytest.fixture
def fresh_app(fresh_url: str):
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_url, "SECRET_KEY": "x"}
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _include(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name in IGNORED_TABLES)


def schema_differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": False,
                "include_object": _include,
            },
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_head_on_a_fresh_database_matches_the_models(fresh_app):
    upgrade()

    differences = schema_differences()

    assert differences == [], "migrations and models differ:\n" + "\n".join(
        repr(d) for d in differences
    )


def test_every_model_table_exists_after_upgrade(fresh_app):
    upgrade()

    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_downgrade_to_base_and_upgrade_again_leaves_the_same_schema(fresh_app):
    upgrade()
    downgrade(revision="base")

    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert schema_differences() == []


@pytest.mark.postgres
def test_postgresql_gets_the_list_and_search_indexes_the_benchmark_relies_on(
    fresh_app,
):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL-only index options")
    upgrade()

    with db.engine.connect() as conn:
        definitions = dict(
            conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
                    "('ix_customers_search_trgm', 'ix_customers_org_document', "
                    "'ix_invoices_list_due', 'ix_invoices_list_amount')"
                )
            ).all()
        )

    assert (
        "USING gin (search_name gin_trgm_ops)"
        in definitions["ix_customers_search_trgm"]
    )
    assert "varchar_pattern_ops" in definitions["ix_customers_org_document"]
    assert definitions["ix_invoices_list_due"].endswith("INCLUDE (amount)")
    assert definitions["ix_invoices_list_amount"].endswith("INCLUDE (due_date)")
