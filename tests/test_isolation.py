"""One organization's tokens and staff never see, touch or infer another's data.

The route-wide tests walk ``app.url_map``, so routes that other areas add
are held to the same rules without new tests: no answer without a valid
token, and another organization's id answers exactly like an unknown one,
changing nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agnozys import clock, tenancy
from agnozys.extensions import db
from agnozys.models import ApiToken, Role, User, utcnow

PREFIX = "/api/v1"
MARKER = "Cliente Sigiloso Aurora"
PASSWORD = "outra-senha-segura-1"


def row_counts() -> dict[str, int]:
    """Rows per table, to prove that a refused request wrote nothing."""
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if table.name not in {"pending_jobs"}
    }


@pytest.fixture
def ours(api, org) -> dict[str, Any]:
    """Our customer, an overdue invoice and, if the area exists, a subscription."""
    customer = api.post(
        "/customers",
        json={"name": MARKER, "document": "529.982.247-25", "external_id": "seg-1"},
    ).get_json()
    due = (clock.today(org.timezone) - timedelta(days=40)).isoformat()
    invoice = api.post(
        "/invoices",
        json={"customer_id": customer["id"], "amount": "1000.00", "due_date": due},
    ).get_json()
    data = {"customer": customer["id"], "invoice": invoice["id"]}
    plan = api.post(
        "/plans",
        json={"name": "Plano Sigiloso", "amount": "99.90", "interval": "month"},
    )
    if plan.status_code == 201:
        data["plan"] = plan.get_json()["id"]
        subscription = api.post(
            "/subscriptions",
            json={
                "customer_id": customer["id"],
                "plan_id": data["plan"],
                "start_date": clock.today(org.timezone).isoformat(),
            },
        )
        if subscription.status_code == 201:
            data["subscription"] = subscription.get_json()["id"]
    return data


def snapshot(api: Any, ours: dict[str, Any]) -> dict[str, Any]:
    """What we can read of our own data, to compare before and after."""
    invoices = api.get("/invoices?per_page=100").get_json()
    return {
        "customer": api.get(f"/customers/{ours['customer']}").get_json(),
        "invoices": invoices,
        "events": [
            api.get(f"/invoices/{item['id']}/events").get_json()
            for item in invoices["items"]
        ],
        "rows": row_counts(),
    }


def api_rules(app) -> list[Any]:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
        ),
        key=lambda rule: rule.rule,
    )


def methods(rule: Any) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


# --- 401 on every route ---------------------------------------------------------


@pytest.fixture
def revoked_raw(org) -> str:
    token, raw = ApiToken.issue(org, name="antigo")
    token.revoked_at = utcnow()
    db.session.add(token)
    db.session.commit()
    return raw


BAD_CREDENTIALS = {
    "none": None,
    "empty-bearer": "Bearer ",
    "unknown": "Bearer agz_" + "x" * 43,
    "basic": "Basic ZGFuYTpzZW5oYQ==",
    "raw-without-scheme": "RAW",
    "revoked": "REVOKED",
}


@pytest.mark.parametrize("credential", list(BAD_CREDENTIALS))
def test_every_api_route_answers_401_without_a_valid_token(
    app, client, api, ours, revoked_raw, credential
):
    live_raw = api.headers["Authorization"].removeprefix("Bearer ")
    header = BAD_CREDENTIALS[credential]
    if header == "REVOKED":
        header = f"Bearer {revoked_raw}"
    elif header == "RAW":
        header = live_raw
    before = row_counts()

    checked = 0
    for rule in api_rules(app):
        path = re.sub(r"<(?:[^:<>]+:)?[^<>]+>", "x", rule.rule)
        for method in methods(rule):
            headers = {"Authorization": header} if header else {}
            response = client.open(
                path, method=method, headers=headers, json={"name": "X"}
            )
            assert response.status_code == 401, f"{method} {rule.rule}"
            error = response.get_json()["error"]
            assert error["code"] == "unauthorized"
            assert error["message"] and error["fields"] == {}
            checked += 1

    assert checked >= 6
    assert row_counts() == before


def test_a_token_revoked_on_the_settings_page_stops_working(staff, api, ours):
    assert api.get("/invoices").status_code == 200
    token = db.session.scalars(select(ApiToken)).one()

    staff.post(f"/configuracoes/tokens/{token.id}/revogar")

    assert api.get("/invoices").status_code == 401


def test_the_openapi_document_is_the_only_public_route(client):
    assert client.get(PREFIX + "/openapi.json").status_code == 200
    assert client.get(PREFIX + "/invoices").status_code == 401


# --- another organization's token ---------------------------------------------

# (first path segment, parameter name) -> which of our objects fills it.
FILLS = {
    ("invoices", "id"): "invoice",
    ("customers", "id"): "customer",
    ("subscriptions", "id"): "subscription",
    ("plans", "id"): "plan",
    ("cobrancas", "public_id"): "invoice",
    ("clientes", "public_id"): "customer",
    ("assinaturas", "public_id"): "subscription",
    ("relatorios", "public_id"): "customer",
}
BY_NAME = {"invoice_id": "invoice", "customer_id": "customer"}


def fill(rule: Any, ours: dict[str, Any]) -> tuple[str, str] | None:
    """Return the rule's path with our ids, and with unknown ids.

    None when no parameter names one of our objects.
    """
    segment = rule.rule.removeprefix(PREFIX).strip("/").split("/")[0]
    mine = unknown = rule.rule
    named_ours = False
    for match in re.finditer(r"<(?:([^:<>]+):)?([^<>]+)>", rule.rule):
        converter, name = match.groups()
        kind = BY_NAME.get(name) or FILLS.get((segment, name))
        missing = "999999" if converter == "int" else "zzz_0000000000000000"
        value = ours.get(kind) if kind else None
        named_ours = named_ours or value is not None
        mine = mine.replace(match.group(0), value or missing, 1)
        unknown = unknown.replace(match.group(0), missing, 1)
    return (mine, unknown) if named_ours else None


def same_answer(first: Any, second: Any) -> None:
    """Both answers are the same refusal: status, error code and field names."""
    assert first.status_code == second.status_code
    assert first.status_code >= 400
    one, two = first.get_json() or {}, second.get_json() or {}
    if "error" in one or "error" in two:
        assert one["error"]["code"] == two["error"]["code"]
        assert set(one["error"]["fields"]) == set(two["error"]["fields"])


def test_our_ids_answer_another_token_exactly_like_unknown_ids(
    app, api, other_api, ours
):
    before = snapshot(api, ours)

    checked = []
    for rule in api_rules(app):
        paths = fill(rule, ours)
        if paths is None:
            continue
        for method in methods(rule):
            mine = other_api.request(method, paths[0], json={})
            unknown = other_api.request(method, paths[1], json={})
            assert mine.status_code == 404 or method == "POST", paths[0]
            same_answer(mine, unknown)
            checked.append(f"{method} {rule.rule}")

    assert "GET /api/v1/invoices/<id>" in checked
    assert "GET /api/v1/invoices/<id>/events" in checked
    assert "GET /api/v1/customers/<id>" in checked
    assert snapshot(api, ours) == before


def test_another_token_gets_404_on_our_customer_invoice_and_events(other_api, ours):
    for path in (
        f"/customers/{ours['customer']}",
        f"/invoices/{ours['invoice']}",
        f"/invoices/{ours['invoice']}/events",
    ):
        response = other_api.get(path)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
        assert MARKER not in response.get_data(as_text=True)


def test_another_token_cannot_bill_our_customer(api, other_api, org, ours):
    before = snapshot(api, ours)

    response = other_api.post(
        "/invoices",
        json={
            "customer_id": ours["customer"],
            "amount": "10.00",
            "due_date": clock.today(org.timezone).isoformat(),
        },
    )

    assert response.status_code in (404, 422)
    assert "customer_id" in response.get_json()["error"]["fields"]
    assert snapshot(api, ours) == before


def test_another_token_cannot_subscribe_our_customer_to_our_plan(
    api, other_api, org, ours
):
    if "plan" not in ours:
        pytest.skip("the subscriptions API is not there yet")
    before = snapshot(api, ours)

    response = other_api.post(
        "/subscriptions",
        json={
            "customer_id": ours["customer"],
            "plan_id": ours["plan"],
            "start_date": clock.today(org.timezone).isoformat(),
        },
    )

    assert response.status_code in (404, 422)
    assert snapshot(api, ours) == before


def test_filtering_by_our_customer_answers_like_an_unknown_customer(other_api, ours):
    mine = other_api.get(f"/invoices?customer_id={ours['customer']}")
    unknown = other_api.get("/invoices?customer_id=cus_0000000000000000")

    assert mine.status_code == 422
    same_answer(mine, unknown)


def test_another_organization_may_reuse_our_external_id(other_api, ours):
    response = other_api.post("/customers", json={"name": "B", "external_id": "seg-1"})

    assert response.status_code == 201


@pytest.mark.parametrize("query", ["", "?status=overdue", "?sort=-amount", "?page=1"])
def test_lists_and_reports_never_show_our_rows_to_another_token(
    app, other_api, other_org, make_customer, make_invoice, ours, query
):
    theirs = make_customer(other_org, name="Cliente Deles")
    make_invoice(other_org, theirs, due_in=-5)

    for rule in api_rules(app):
        if "GET" not in rule.methods or "<" in rule.rule:
            continue
        response = other_api.get(rule.rule.removeprefix(PREFIX) + query)
        text = response.get_data(as_text=True)
        assert response.status_code in (200, 422), rule.rule
        assert MARKER not in text, rule.rule
        for public_id in ours.values():
            assert public_id not in text, rule.rule

    invoices = other_api.get("/invoices" + query).get_json()
    assert invoices["total"] == 1


# --- another organization's staff ---------------------------------------------


def other_staff(app, other_org) -> FlaskClient:
    with tenancy.unscoped():
        user = User(
            organization_id=other_org.id,
            email="dono@concorrente.test",
            name="Dono Concorrente",
            role=Role.OWNER,
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "dono@concorrente.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def staff_rules(app) -> list[Any]:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if not rule.endpoint.startswith(("api.", "static", "pay.", "sandbox."))
            and rule.arguments
        ),
        key=lambda rule: rule.rule,
    )


def test_other_staff_get_404_on_our_invoice_and_customer_pages(app, other_org, ours):
    if "invoices.show" not in app.view_functions:
        pytest.skip("the staff invoice page is not there yet")
    client = other_staff(app, other_org)

    for path in (
        f"/cobrancas/{ours['invoice']}",
        f"/clientes/{ours['customer']}",
        f"/clientes/{ours['customer']}/editar",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert MARKER not in response.get_data(as_text=True)


def test_other_staff_get_the_same_refusal_for_our_ids_as_for_unknown_ones(
    app, api, other_org, ours
):
    client = other_staff(app, other_org)
    before = snapshot(api, ours)

    checked = []
    for rule in staff_rules(app):
        paths = fill(rule, ours)
        if paths is None:
            continue
        for method in methods(rule):
            mine = client.open(paths[0], method=method, data={"reason": "x"})
            unknown = client.open(paths[1], method=method, data={"reason": "x"})
            assert mine.status_code == unknown.status_code, f"{method} {paths[0]}"
            assert mine.status_code >= 400, f"{method} {paths[0]}"
            assert MARKER not in mine.get_data(as_text=True)
            checked.append(f"{method} {rule.rule}")

    assert len(checked) >= 3
    assert snapshot(api, ours) == before


def test_other_staff_lists_and_searches_never_show_our_rows(
    app, staff, other_org, ours
):
    # The same searches find our customer for our own staff.
    assert MARKER in staff.get("/clientes?q=Sigiloso").get_data(as_text=True)
    assert MARKER in staff.get("/cobrancas?q=52998224725").get_data(as_text=True)
    client = other_staff(app, other_org)

    for rule in app.url_map.iter_rules():
        if (
            "GET" not in rule.methods
            or rule.arguments
            or rule.endpoint.startswith(("api.", "static", "auth."))
        ):
            continue
        for query in ("", "?q=Sigiloso", "?q=52998224725", "?status=overdue"):
            response = client.get(rule.rule + query)
            text = response.get_data(as_text=True)
            assert MARKER not in text, rule.rule + query
            for public_id in ours.values():
                assert public_id not in text, rule.rule + query


def test_other_staff_cannot_revoke_our_tokens(app, api, other_org, ours):
    client = other_staff(app, other_org)
    token = db.session.scalars(select(ApiToken)).one()

    response = client.post(f"/configuracoes/tokens/{token.id}/revogar")

    assert response.status_code == 404
    assert api.get("/invoices").status_code == 200
    page = client.get("/configuracoes/tokens").get_data(as_text=True)
    assert token.prefix not in page
