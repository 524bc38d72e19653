"""Helpers the tests import by name: ``from helpers import today``.

They live here, not in conftest.py, because ``tests/e2e`` has a conftest
of its own and two modules named ``conftest`` cannot both be imported.
"""

from __future__ import annotations

from datetime import date
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
