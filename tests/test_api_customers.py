"""POST /customers and GET /customers/{id}: shapes, normalisation, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from agnozys.extensions import db
from agnozys.models import Customer

CUSTOMER_KEYS = {"id", "name", "email", "phone", "document", "external_id"}


def customer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Customer))


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


def test_create_customer_answers_201_with_the_customer(api):
    response = api.post(
        "/customers",
        json={
            "name": "  Ana Souza  ",
            "email": "ana@exemplo.com.br",
            "phone": "(11) 98765-4321",
            "document": "529.982.247-25",
            "external_id": "erp-42",
        },
    )

    assert response.status_code == 201
    customer = response.get_json()
    assert set(customer) == CUSTOMER_KEYS
    assert customer["id"].startswith("cus_")
    assert customer == {
        "id": customer["id"],
        "name": "Ana Souza",
        "email": "ana@exemplo.com.br",
        "phone": "5511987654321",
        "document": "52998224725",
        "external_id": "erp-42",
    }
    assert response.headers["Location"] == f"/api/v1/customers/{customer['id']}"


def test_created_customer_reads_back_the_same(api):
    created = api.post("/customers", json={"name": "Bruno"}).get_json()

    response = api.get(f"/customers/{created['id']}")

    assert response.status_code == 200
    assert response.get_json() == created
    assert created["email"] is None and created["document"] is None


def test_customer_id_is_opaque_not_the_row_number(api):
    created = api.post("/customers", json={"name": "Bruno"}).get_json()
    row = db.session.execute(
        select(Customer).where(Customer.public_id == created["id"])
    ).scalar_one()

    assert created["id"] != str(row.id)
    assert str(row.id) not in created["id"].removeprefix("cus_")[:2]
    assert api.get(f"/customers/{row.id}").status_code == 404


def test_cnpj_is_checked_and_stored_as_digits(api):
    response = api.post(
        "/customers", json={"name": "Loja Ltda", "document": "11.222.333/0001-81"}
    )

    assert response.status_code == 201
    assert response.get_json()["document"] == "11222333000181"


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert('x')</script>",
        '<img src=x onerror="alert(1)">',
        "Robert'); DROP TABLE customers;--",
        "{{ 7 * 7 }} {% raw %}",
        "José da Conceição & Filhos <Ltda>",
    ],
)
def test_hostile_names_are_stored_as_text_and_come_back_exactly(api, name):
    response = api.post("/customers", json={"name": name})

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    created = response.get_json()
    assert created["name"] == name
    assert api.get(f"/customers/{created['id']}").get_json()["name"] == name
    assert customer_count() == 1


def test_external_id_is_unique_within_the_organization(api):
    assert api.post("/customers", json={"name": "A", "external_id": "x1"}).status_code
    response = api.post("/customers", json={"name": "B", "external_id": "x1"})

    error = assert_error(response, 422, "validation_failed")
    assert list(error["fields"]) == ["external_id"]
    assert customer_count() == 1


def test_another_organization_may_reuse_an_external_id(api, other_api):
    assert api.post("/customers", json={"name": "A", "external_id": "x1"}).status_code
    response = other_api.post("/customers", json={"name": "B", "external_id": "x1"})

    assert response.status_code == 201


BAD_FIELDS = [
    ("name", None),
    ("name", ""),
    ("name", "   "),
    ("name", 123),
    ("name", ["Ana"]),
    ("name", {"first": "Ana"}),
    ("name", True),
    ("name", "A" * 201),
    ("name", "Ana\x00Souza"),
    ("name", "Ana\x1b[31m"),
    ("email", "não-é-email"),
    ("email", "ana@"),
    ("email", "<script>@x.com"),
    ("email", 42),
    ("email", "a" * 250 + "@x.com"),
    ("phone", "abc"),
    ("phone", "123"),
    ("phone", "(11) 88765-4321"),
    ("phone", "(01) 98765-4321"),
    ("phone", 11987654321),
    ("phone", "9" * 31),
    ("phone", "(١١) ٩٨٧٦٥-٤٣٢١"),
    ("document", "529.982.247-24"),
    ("document", "111.111.111-11"),
    ("document", "11.222.333/0001-82"),
    ("document", "1234567890"),
    ("document", "529982247x5"),
    ("document", "٥٢٩.٩٨٢.٢٤٧-٢٥"),
    ("document", 52998224725),
    ("document", "5" * 31),
    ("external_id", 7),
    ("external_id", "x" * 101),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_each_bad_field_is_named_and_nothing_is_written(api, field, value):
    payload = {"name": "Ana", field: value}

    response = api.post("/customers", json=payload)

    error = assert_error(response, 422, "validation_failed")
    assert list(error["fields"]) == [field]
    assert error["fields"][field]
    assert customer_count() == 0


def test_missing_name_is_named(api):
    error = assert_error(
        api.post("/customers", json={"email": "a@b.com"}), 422, "validation_failed"
    )

    assert list(error["fields"]) == ["name"]


def test_every_bad_field_is_reported_at_once(api):
    response = api.post(
        "/customers",
        json={
            "name": "",
            "email": "x",
            "phone": "1",
            "document": "1",
            "external_id": 1,
        },
    )

    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {"name", "email", "phone", "document", "external_id"}
    assert customer_count() == 0


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("{name: 'Ana'}", "application/json"),
        ('{"name": "Ana"', "application/json"),
        ('[{"name": "Ana"}]', "application/json"),
        ('"Ana"', "application/json"),
        ("null", "application/json"),
        ("42", "application/json"),
        (b"\xff\xfe{", "application/json"),
        ("name=Ana", "application/x-www-form-urlencoded"),
        ("[" * 100_000 + "]" * 100_000, "application/json"),
    ],
    ids=[
        "js-object",
        "truncated",
        "array",
        "string",
        "null",
        "number",
        "not-utf8",
        "form",
        "deeply-nested",
    ],
)
def test_a_body_that_is_not_a_json_object_answers_400(api, data, content_type):
    response = api.post("/customers", data=data, content_type=content_type)

    assert_error(response, 400, "invalid_json")
    assert customer_count() == 0


def test_unknown_customer_answers_404(api):
    error = assert_error(api.get("/customers/cus_0000000000000000"), 404, "not_found")

    assert error["fields"] == {}
