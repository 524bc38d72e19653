"""GET /api/v1/openapi.json is valid OpenAPI 3.1 and matches the real routes."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

PREFIX = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client) -> dict[str, Any]:
    response = client.get(PREFIX + "/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def routes(app) -> set[tuple[str, str]]:
    """Return (path template, method) for every route of the api blueprint."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        assert path.startswith(PREFIX)
        for method in rule.methods - IGNORED_METHODS:
            found.add((path.removeprefix(PREFIX), method.lower()))
    return found


def documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_document_needs_no_token_and_is_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    validate(document)


def test_every_route_is_documented(app, document):
    missing = routes(app) - documented(document)

    assert not missing, f"routes missing from OPENAPI_PATHS: {sorted(missing)}"


def test_every_documented_operation_is_a_route(app, document):
    extra = documented(document) - routes(app)

    assert not extra, f"documented but not routed: {sorted(extra)}"


def test_every_operation_declares_its_path_parameters(document):
    for path, operations in document["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, operation in operations.items():
            declared = {
                p["name"] for p in operation.get("parameters", []) if p["in"] == "path"
            }
            assert declared == names, f"{method.upper()} {path}"


def test_every_operation_names_its_errors_with_the_error_schema(document):
    public = {("/openapi.json", "get")}
    for path, method in documented(document):
        operation = document["paths"][path][method]
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), f"{method} {path}"
        if (path, method) not in public:
            assert "401" in responses, f"{method.upper()} {path} lacks 401"
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, code


def test_operations_with_a_body_document_400_and_422(document):
    for path, method in documented(document):
        operation = document["paths"][path][method]
        body = operation.get("requestBody", {}).get("content", {})
        if "application/json" in body:
            assert {"400", "422"} <= set(operation["responses"]), f"{method} {path}"


def test_operation_ids_are_unique(document):
    ids = [
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
        if "operationId" in operation
    ]

    assert len(ids) == len(set(ids))


def conforms(document: dict[str, Any], schema_name: str, value: Any) -> None:
    """Validate a real answer against the documented schema."""
    schema = {
        "$ref": f"#/components/schemas/{schema_name}",
        "components": document["components"],
    }
    jsonschema.Draft202012Validator(schema).validate(value)


def test_real_answers_match_their_documented_schemas(
    document, api, org, overdue_invoice
):
    customer = api.post("/customers", json={"name": "Ana", "document": "52998224725"})
    conforms(document, "Customer", customer.get_json())

    invoice = api.post(
        "/invoices",
        json={
            "customer_id": customer.get_json()["id"],
            "amount": "10.00",
            "due_date": "2030-01-31",
        },
    )
    conforms(document, "Invoice", invoice.get_json())
    conforms(
        document,
        "Invoice",
        api.get(f"/invoices/{overdue_invoice.public_id}").get_json(),
    )
    conforms(document, "InvoicePage", api.get("/invoices").get_json())
    events = api.get(f"/invoices/{overdue_invoice.public_id}/events")
    conforms(document, "EventList", events.get_json())


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/invoices", {"headers": {"Authorization": "Bearer nope"}}),
        ("POST", "/customers", {"data": "[]", "content_type": "application/json"}),
        ("POST", "/customers", {"json": {"name": ""}}),
        ("GET", "/customers/cus_x", {}),
        ("GET", "/invoices?page=0", {}),
    ],
)
def test_real_errors_match_the_error_schema(document, api, method, path, kwargs):
    response = api.request(method, path, **kwargs)

    assert response.status_code >= 400
    conforms(document, "Error", response.get_json())
