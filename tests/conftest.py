"""Shared fixtures: an app per test on one database, staff, tokens, data.

The suite runs on SQLite by default and on PostgreSQL when
``AGNOZYS_TEST_DATABASE_URL`` is set (``.ci/run`` does both). The schema
is created once per run; every test starts from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from helpers import (  # tests/ is on sys.path, see helpers.py
    VALID_CPFS,
    Api,
    Auth,
    _reset_schema,
    make_api,
    make_user,
    today,
)

from agnozys import create_app, tenancy
from agnozys.extensions import db
from agnozys.models import Customer, Invoice, Organization, Role, User


def database_url(tmp_root: Path) -> str:
    url = os.environ.get("AGNOZYS_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_root / "agnozys-test.sqlite3")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture
def is_postgres(db_url: str) -> bool:
    return db_url.startswith("postgresql")


@pytest.fixture
def app_config(db_url: str, tmp_path: Path) -> dict[str, Any]:
    """The configuration every test app starts from; override per test."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        "AGNOZYS_SANDBOX_SECRET": "sandbox-test-secret",
        "AGNOZYS_BASE_URL": "http://agnozys.test",
        "AGNOZYS_UPLOAD_DIR": str(tmp_path / "uploads"),
        "REDIS_URL": None,
    }


@pytest.fixture
def make_app(app_config: dict[str, Any]) -> Iterator[Callable[..., Flask]]:
    """Build an app with configuration overrides, on the clean test database."""
    built: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        app = create_app({**app_config, **overrides})
        built.append(app)
        return app

    yield build
    # Close each app's pooled connections now rather than whenever the
    # garbage collector reaches the app: PostgreSQL refuses clients past
    # max_connections, and a test that opens twenty at once met the
    # leftovers of the tests before it.
    for app in built:
        with app.app_context():
            for engine in db.engines.values():
                engine.dispose()


def _fresh_g() -> None:
    # Test requests reuse the fixture's app context, so `g` would carry the
    # previous request's user, API token and CSRF token into the next one,
    # even from another client; production starts every request empty.
    for name in list(vars(g)):
        delattr(g, name)


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    app = make_app()
    _reset_schema(app)
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_g)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


# --- organizations and people ----------------------------------------------


def _make_org(name: str) -> Organization:
    org = Organization(name=name)
    db.session.add(org)
    db.session.commit()
    return org


@pytest.fixture
def org(app: Flask) -> Organization:
    return _make_org("Escola Aurora")


@pytest.fixture
def other_org(app: Flask) -> Organization:
    return _make_org("Concorrente Ltda")


@pytest.fixture
def owner(org: Organization) -> User:
    return make_user(org, Role.OWNER, "dona@aurora.test")


@pytest.fixture
def agent(org: Organization) -> User:
    return make_user(org, Role.AGENT, "agente@aurora.test")


@pytest.fixture
def viewer(org: Organization) -> User:
    return make_user(org, Role.VIEWER, "leitura@aurora.test")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def staff(client: FlaskClient, auth: Auth, owner: User) -> FlaskClient:
    """A client logged in as the organization's owner."""
    auth.login(owner)
    return client


@pytest.fixture
def api(client: FlaskClient, org: Organization) -> Api:
    return make_api(client, org)


@pytest.fixture
def other_api(client: FlaskClient, other_org: Organization) -> Api:
    return make_api(client, other_org)


# --- data --------------------------------------------------------------------


@pytest.fixture
def make_customer(app: Flask) -> Callable[..., Customer]:
    from agnozys.services.customers import search_key

    counter = iter(range(1, 10**6))

    def build(organization: Organization, **values: Any) -> Customer:
        n = next(counter)
        values.setdefault("name", f"Cliente {n}")
        values.setdefault("email", f"cliente{n}@example.com")
        customer = Customer(
            organization_id=organization.id,
            search_name=search_key(values["name"]),
            **values,
        )
        db.session.add(customer)
        db.session.commit()
        return customer

    return build


@pytest.fixture
def make_invoice(app: Flask) -> Callable[..., Invoice]:
    """Create an invoice through the real service, due ``due_in`` days away."""
    from agnozys.services.invoices import new_invoice

    def build(
        organization: Organization,
        customer: Customer,
        amount: int = 100_000,
        due_in: int = 10,
        description: str = "Mensalidade",
        **values: Any,
    ) -> Invoice:
        with tenancy.scope(organization.id):
            invoice = new_invoice(
                organization=organization,
                customer=customer,
                amount=amount,
                due_date=today(organization) + timedelta(days=due_in),
                description=description,
                fine_bp=values.pop("fine_bp", organization.fine_bp),
                interest_bp=values.pop("interest_bp", organization.interest_bp),
                actor="test",
            )
            for name, value in values.items():
                setattr(invoice, name, value)
            db.session.commit()
        return invoice

    return build


@pytest.fixture
def overdue_invoice(
    org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
) -> Invoice:
    """R$ 1.000,00 due 40 days ago, the DOMAIN.md example."""
    customer = make_customer(org, name="Maria Devedora", document=VALID_CPFS[0])
    return make_invoice(org, customer, amount=100_000, due_in=-40)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real Redis database, empty before and after the test."""
    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("REDIS_TEST_URL is not set in CI")
        pytest.skip("REDIS_TEST_URL not set (a real Redis is needed)")
    from redis import Redis

    connection = Redis.from_url(url)
    connection.flushdb()
    yield url
    connection.flushdb()
