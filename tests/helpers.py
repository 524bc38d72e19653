"""Helpers the tests import by name: ``from helpers import today``.

They live here, not in conftest.py, because ``tests/e2e`` has a conftest
of its own and two modules named ``conftest`` cannot both be imported.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from agnozys import clock, tenancy
from agnozys.extensions import db
from agnozys.models import ApiToken, Organization, Role, User

PASSWORD = "senha-de-teste-123"
_schema_ready: set[str] = set()


def _reset_schema(app: Flask) -> None:
    with app.app_context():
        url = str(db.engine.url)
        if url not in _schema_ready:
            db.drop_all()
            db.create_all()
            _schema_ready.add(url)
        tables = [t.name for t in db.metadata.sorted_tables]
        if db.engine.dialect.name == "postgresql":
            db.session.execute(
                text(
                    "TRUNCATE "
                    + ", ".join(f'"{t}"' for t in tables)
                    + " RESTART IDENTITY CASCADE"
                )
            )
        else:
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
        db.session.commit()
        db.session.remove()


def make_user(organization: Organization, role: Role | str, email: str) -> User:
    with tenancy.unscoped():
        user = User(
            organization_id=organization.id, email=email, role=Role(role), name=email
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    return user


class Auth:
    """Logs a test client in and out through the real login form."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, user: User | str, password: str = PASSWORD) -> Any:
        email = user if isinstance(user, str) else user.email
        return self.client.post("/login", data={"email": email, "password": password})

    def logout(self) -> Any:
        return self.client.post("/logout")


class Api:
    """A JSON API client bound to one organization's bearer token."""

    def __init__(self, client: FlaskClient, raw_token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {raw_token}"}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(
            "/api/v1" + path, method=method, headers=headers, **kwargs
        )

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        if json is not None:
            kwargs["json"] = json
        return self.request("POST", path, **kwargs)


def make_api(client: FlaskClient, organization: Organization) -> Api:
    token, raw = ApiToken.issue(organization, name="test")
    db.session.add(token)
    db.session.commit()
    return Api(client, raw)


VALID_CPFS = ["52998224725", "11144477735", "39053344705", "15350946056"]
VALID_CNPJ = "11222333000181"


def today(organization: Organization | None = None) -> date:
    return clock.today(organization.timezone if organization else None)


@contextlib.contextmanager
def fresh_database(tmp_dir: Path, prefix: str) -> Iterator[str]:
    """Yield the URL of an empty database of the suite's kind, dropped after.

    A new SQLite file under ``tmp_dir``, or on PostgreSQL a new database
    named ``<prefix>_<random>`` beside ``AGNOZYS_TEST_DATABASE_URL``.
    """
    base = os.environ.get("AGNOZYS_TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_dir / f"{prefix}.sqlite3")
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
