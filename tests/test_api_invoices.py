"""POST/GET /invoices, GET /invoices/{id} and its events over the JSON API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from agnozys import clock, tenancy
from agnozys.extensions import db
from agnozys.models import Event, Invoice, InvoiceStatus
from agnozys.services.timeline import record

INVOICE_KEYS = {
    "id",
    "number",
    "customer_id",
    "subscription_id",
    "description",
    "status",
    "amount",
    "fine",
    "interest",
    "amount_due",
    "due_date",
    "original_due_date",
    "payment_url",
    "gateway_charge_id",
    "agreement_id",
    "replaced_by",
    "paid_at",
}


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert error["message"]
    return error


def day(org: Any, offset: int) -> str:
    return (clock.today(org.timezone) + timedelta(days=offset)).isoformat()


@pytest.fixture
def customer(org, make_customer):
    return make_customer(org, name="Maria Devedora")


def new_invoice(api: Any, customer: Any, **values: Any) -> Any:
    payload = {"customer_id": customer.public_id, "amount": "1000.00"}
    payload.update(values)
    return api.post("/invoices", json=payload)


# --- create -------------------------------------------------------------------


def test_create_invoice_answers_201_with_the_invoice(api, org, customer):
    response = new_invoice(
        api, customer, amount="1234.56", due_date=day(org, 10), description="Aula"
    )

    assert response.status_code == 201
    invoice = response.get_json()
    assert set(invoice) == INVOICE_KEYS
    assert invoice["id"].startswith("inv_")
    assert response.headers["Location"] == f"/api/v1/invoices/{invoice['id']}"
    assert invoice["number"] == 1
    assert invoice["customer_id"] == customer.public_id
    assert invoice["description"] == "Aula"
    assert invoice["status"] == "pending"
    assert (invoice["amount"], invoice["fine"], invoice["interest"]) == (
        "1234.56",
        "0.00",
        "0.00",
    )
    assert invoice["amount_due"] == "1234.56"
    assert invoice["due_date"] == invoice["original_due_date"] == day(org, 10)
    assert invoice["payment_url"].startswith("http://agnozys.test/pay/")
    assert invoice["subscription_id"] is None
    assert invoice["agreement_id"] is None
    assert invoice["replaced_by"] == []
    assert invoice["paid_at"] is None


def test_invoice_numbers_count_up_per_organization(
    api, other_api, org, other_org, customer, make_customer
):
    theirs = make_customer(other_org)
    numbers = [
        new_invoice(api, customer, due_date=day(org, 1)).get_json()["number"],
        new_invoice(other_api, theirs, due_date=day(org, 1)).get_json()["number"],
        new_invoice(api, customer, due_date=day(org, 1)).get_json()["number"],
    ]

    assert numbers == [1, 1, 2]


def test_description_defaults_to_a_one_off(api, org, customer):
    invoice = new_invoice(api, customer, due_date=day(org, 5)).get_json()

    assert invoice["description"] == "Cobrança avulsa"


def test_created_invoice_reads_back_the_same(api, org, customer):
    created = new_invoice(api, customer, due_date=day(org, 3)).get_json()

    response = api.get(f"/invoices/{created['id']}")

    assert response.status_code == 200
    assert response.get_json() == created


def test_domain_late_charge_example_through_the_api(api, org, customer):
    """1.000,00 due 40 days ago, 2% fine, 1% a month: 20.00 + 13.33."""
    created = new_invoice(api, customer, amount="1000.00", due_date=day(org, -40))

    assert created.status_code == 201
    invoice = api.get(f"/invoices/{created.get_json()['id']}").get_json()
    assert invoice["status"] == "overdue"
    assert invoice["amount"] == "1000.00"
    assert invoice["fine"] == "20.00"
    assert invoice["interest"] == "13.33"
    assert invoice["amount_due"] == "1033.33"


def test_a_past_due_date_is_accepted_as_imported_debt(api, customer):
    response = new_invoice(api, customer, due_date="2020-01-15")

    assert response.status_code == 201
    assert response.get_json()["status"] == "overdue"


def test_rates_of_one_invoice_override_the_organization_defaults(api, org, customer):
    created = new_invoice(
        api,
        customer,
        due_date=day(org, -40),
        fine_percent="1.5",
        interest_percent="3",
    ).get_json()

    # 1.5% of 1000.00; 3% a month for 40 days = 40.00.
    assert (created["fine"], created["interest"], created["amount_due"]) == (
        "15.00",
        "40.00",
        "1055.00",
    )
    stored = db.session.execute(
        select(Invoice).where(Invoice.public_id == created["id"])
    ).scalar_one()
    assert (stored.fine_bp, stored.interest_bp) == (150, 300)


def test_zero_rates_mean_no_late_charges(api, org, customer):
    created = new_invoice(
        api, customer, due_date=day(org, -40), fine_percent=0, interest_percent="0"
    ).get_json()

    assert created["status"] == "overdue"
    assert created["amount_due"] == "1000.00"


def test_organization_rates_apply_when_the_invoice_names_none(api, org, customer):
    org.fine_bp, org.interest_bp = 100, 200
    db.session.commit()

    created = new_invoice(api, customer, due_date=day(org, -30)).get_json()

    assert (created["fine"], created["interest"]) == ("10.00", "20.00")


def test_creating_an_invoice_records_who_did_it(api, org, customer):
    created = new_invoice(api, customer, due_date=day(org, 5)).get_json()

    events = api.get(f"/invoices/{created['id']}/events").get_json()["items"]

    assert [e["type"] for e in events] == ["invoice.created"]
    assert events[0]["actor"].startswith("token:agz_")
    assert events[0]["data"]["amount"] == "1000.00"


# --- bad input ------------------------------------------------------------------

BAD_VALUES = [
    ("customer_id", None),
    ("customer_id", ""),
    ("customer_id", 1),
    ("customer_id", ["cus_x"]),
    ("customer_id", "cus_0000000000000000"),
    ("customer_id", "<script>alert(1)</script>"),
    ("amount", None),
    ("amount", ""),
    ("amount", "10.555"),
    ("amount", "1.000"),
    ("amount", "1,50"),
    ("amount", "R$ 10,00"),
    ("amount", "-10.00"),
    ("amount", "0"),
    ("amount", "0.00"),
    ("amount", 10.5),
    ("amount", 10),
    ("amount", True),
    ("amount", "abc"),
    ("amount", "1e3"),
    ("amount", "NaN"),
    ("amount", "Infinity"),
    ("amount", "١٢.٠٠"),
    ("amount", "99999999999999"),
    ("amount", "100000000001.00"),
    ("amount", {"value": "10.00"}),
    ("due_date", None),
    ("due_date", ""),
    ("due_date", "2026-02-30"),
    ("due_date", "30/01/2026"),
    ("due_date", "2026-1-5"),
    ("due_date", "20260130"),
    ("due_date", 20260130),
    ("due_date", "2026-01-30T00:00:00"),
    ("due_date", "1999-12-31"),
    ("due_date", "2101-01-01"),
    ("due_date", "٢٠٢٦-٠١-٣٠"),
    ("description", 123),
    ("description", "x" * 501),
    ("description", "Aula\x00"),
    ("fine_percent", "-1"),
    ("fine_percent", "abc"),
    ("fine_percent", "2.555"),
    ("fine_percent", "101"),
    ("fine_percent", True),
    ("fine_percent", [2]),
    ("interest_percent", "-0.5"),
    ("interest_percent", "1e2"),
    ("interest_percent", 1000),
    ("interest_percent", {"rate": 1}),
]


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_each_bad_field_is_named_and_nothing_is_written(
    api, org, customer, field, value
):
    payload = {
        "customer_id": customer.public_id,
        "amount": "100.00",
        "due_date": day(org, 5),
        field: value,
    }

    response = api.post("/invoices", json=payload)

    error = assert_error(response, 422, "validation_failed")
    assert list(error["fields"]) == [field]
    assert error["fields"][field]
    assert (count(Invoice), count(Event)) == (0, 0)


@pytest.mark.parametrize("missing", ["customer_id", "amount", "due_date"])
def test_each_required_field_is_named_when_missing(api, org, customer, missing):
    payload = {
        "customer_id": customer.public_id,
        "amount": "100.00",
        "due_date": day(org, 5),
    }
    del payload[missing]

    error = assert_error(api.post("/invoices", json=payload), 422, "validation_failed")

    assert list(error["fields"]) == [missing]
    assert count(Invoice) == 0


def test_every_bad_field_is_reported_at_once(api):
    response = api.post(
        "/invoices",
        json={
            "customer_id": "nope",
            "amount": 12.5,
            "due_date": "31/12/2026",
            "description": 5,
            "fine_percent": "x",
            "interest_percent": "-1",
        },
    )

    error = assert_error(response, 422, "validation_failed")
    assert set(error["fields"]) == {
        "customer_id",
        "amount",
        "due_date",
        "description",
        "fine_percent",
        "interest_percent",
    }
    assert "texto" in error["fields"]["amount"]


def test_an_empty_body_names_the_required_fields(api):
    error = assert_error(api.post("/invoices"), 422, "validation_failed")

    assert set(error["fields"]) == {"customer_id", "amount", "due_date"}


@pytest.mark.parametrize(
    "data", ["not json", '[{"amount": "10.00"}]', '"x"', "{", "[" * 50_000]
)
def test_a_body_that_is_not_a_json_object_answers_400(api, data):
    response = api.post("/invoices", data=data, content_type="application/json")

    assert_error(response, 400, "invalid_json")
    assert count(Invoice) == 0


def test_html_in_the_description_comes_back_exactly(api, org, customer):
    text = "<script>alert('x')</script> & <b>negrito</b>"

    created = new_invoice(api, customer, due_date=day(org, 5), description=text)

    assert created.mimetype == "application/json"
    assert created.get_json()["description"] == text


def test_unknown_invoice_answers_404(api):
    assert_error(api.get("/invoices/inv_0000000000000000"), 404, "not_found")
    assert_error(api.get("/invoices/inv_0000000000000000/events"), 404, "not_found")


# --- events -------------------------------------------------------------------


def test_events_come_oldest_first_with_utc_moments(api, org, customer, make_invoice):
    invoice = make_invoice(org, customer, due_in=-3)
    created_at = db.session.scalar(
        select(Event.at).where(Event.invoice_id == invoice.id)
    )
    with tenancy.scope(org.id):
        # Written after invoice.created but dated before it, and two that tie.
        early = record("link.opened", actor="customer", invoice=invoice)
        early.at = created_at - timedelta(hours=2)
        tie = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
        first = record(
            "reminder.sent", actor="system", invoice=invoice, data={"step": 1}
        )
        first.at = tie
        second = record(
            "reminder.failed",
            actor="system",
            invoice=invoice,
            data={"step": 2, "error": "<b>smtp</b>"},
        )
        second.at = tie
        db.session.commit()

    response = api.get(f"/invoices/{invoice.public_id}/events")

    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [e["type"] for e in items] == [
        "link.opened",
        "invoice.created",
        "reminder.sent",
        "reminder.failed",
    ]
    assert items[2] == {
        "type": "reminder.sent",
        "at": "2031-05-01T12:00:00Z",
        "actor": "system",
        "data": {"step": 1},
    }
    assert items[3]["data"]["error"] == "<b>smtp</b>"
    for item in items:
        assert set(item) == {"type", "at", "actor", "data"}
        assert datetime.fromisoformat(item["at"]).utcoffset() == timedelta(0)


def test_events_list_only_that_invoice(api, org, customer, make_invoice):
    mine = make_invoice(org, customer)
    make_invoice(org, customer)

    items = api.get(f"/invoices/{mine.public_id}/events").get_json()["items"]

    assert len(items) == 1


# --- list ---------------------------------------------------------------------


@pytest.fixture
def spread(org, customer, make_customer, make_invoice):
    """Five invoices in every state, with a tie on amount and due date."""
    other = make_customer(org, name="Outro Cliente")
    made = {
        "late": make_invoice(org, customer, amount=50_000, due_in=-40),
        "soon": make_invoice(org, customer, amount=30_000, due_in=5),
        "soon_tie": make_invoice(org, other, amount=30_000, due_in=5),
        "paid": make_invoice(
            org, customer, amount=90_000, due_in=-10, status=InvoiceStatus.PAID
        ),
        "canceled": make_invoice(
            org, other, amount=10_000, due_in=20, status=InvoiceStatus.CANCELED
        ),
    }
    return {name: invoice.public_id for name, invoice in made.items()}


def listed(api: Any, query: str = "") -> list[str]:
    response = api.get("/invoices" + query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


def test_list_defaults_to_due_date_order_and_pages_of_50(api, spread):
    response = api.get("/invoices")

    body = response.get_json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"]) == (5, 1, 50)
    assert [item["id"] for item in body["items"]] == [
        spread["late"],
        spread["paid"],
        spread["soon"],
        spread["soon_tie"],
        spread["canceled"],
    ]
    assert set(body["items"][0]) == INVOICE_KEYS


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", ["soon", "soon_tie"]),
        ("overdue", ["late"]),
        ("paid", ["paid"]),
        ("canceled", ["canceled"]),
    ],
)
def test_list_filters_by_status(api, spread, status, expected):
    response = api.get(f"/invoices?status={status}")

    body = response.get_json()
    assert [item["id"] for item in body["items"]] == [spread[n] for n in expected]
    assert body["total"] == len(expected)
    assert {item["status"] for item in body["items"]} == {status}


def test_overdue_rows_carry_todays_late_charges(api, spread):
    item = api.get("/invoices?status=overdue").get_json()["items"][0]

    # 500.00 forty days late: 10.00 fine, 6.67 interest.
    assert (item["fine"], item["interest"], item["amount_due"]) == (
        "10.00",
        "6.67",
        "516.67",
    )


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("due_date", ["late", "paid", "soon", "soon_tie", "canceled"]),
        ("-due_date", ["canceled", "soon_tie", "soon", "paid", "late"]),
        ("amount", ["canceled", "soon", "soon_tie", "late", "paid"]),
        ("-amount", ["paid", "late", "soon_tie", "soon", "canceled"]),
    ],
)
def test_list_sorts_with_ties_broken_by_id(api, spread, sort, expected):
    assert listed(api, f"?sort={sort}") == [spread[n] for n in expected]


def test_list_filters_by_customer(api, spread, customer):
    ids = listed(api, f"?customer_id={customer.public_id}")

    assert ids == [spread["late"], spread["paid"], spread["soon"]]


def test_filters_combine(api, spread, customer):
    ids = listed(api, f"?customer_id={customer.public_id}&status=pending")

    assert ids == [spread["soon"]]


def test_list_pages_through_the_filter(api, spread):
    order = listed(api, "?sort=amount")

    pages = [
        api.get(f"/invoices?sort=amount&per_page=2&page={n}").get_json()
        for n in (1, 2, 3, 4)
    ]

    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert [p["per_page"] for p in pages] == [2, 2, 2, 2]
    assert [p["page"] for p in pages] == [1, 2, 3, 4]
    assert [[i["id"] for i in p["items"]] for p in pages] == [
        order[0:2],
        order[2:4],
        order[4:5],
        [],
    ]


def test_empty_query_values_mean_the_defaults(api, spread):
    body = api.get("/invoices?status=&sort=&page=&per_page=&customer_id=").get_json()

    assert (body["total"], body["page"], body["per_page"]) == (5, 1, 50)


def test_per_page_reaches_100(api, spread):
    assert api.get("/invoices?per_page=100").get_json()["per_page"] == 100


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=late", "status"),
        ("status=OVERDUE", "status"),
        ("status=<script>", "status"),
        ("sort=name", "sort"),
        ("sort=due", "sort"),
        ("sort=id;drop table invoices", "sort"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=1001", "page"),
        ("page=99999999999999999999", "page"),
        ("page=٢", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=ten", "per_page"),
        ("customer_id=cus_0000000000000000", "customer_id"),
    ],
)
def test_bad_list_parameters_answer_422_naming_the_parameter(api, spread, query, field):
    error = assert_error(api.get(f"/invoices?{query}"), 422, "validation_failed")

    assert list(error["fields"]) == [field]


def test_several_bad_list_parameters_are_named_together(api):
    error = assert_error(
        api.get("/invoices?status=x&sort=y&page=0&per_page=500"),
        422,
        "validation_failed",
    )

    assert set(error["fields"]) == {"status", "sort", "page", "per_page"}


def test_status_follows_the_organization_time_zone(api, org, customer, make_invoice):
    # Kiritimati (UTC+14) is always at least a day ahead of Pago Pago (UTC-11).
    invoice = make_invoice(org, customer)
    invoice.due_date = clock.today("Pacific/Pago_Pago")
    db.session.commit()
    statuses = {}
    for zone in ("Pacific/Pago_Pago", "Pacific/Kiritimati"):
        org.timezone = zone
        db.session.commit()
        statuses[zone] = api.get(f"/invoices/{invoice.public_id}").get_json()["status"]

    assert statuses == {"Pacific/Pago_Pago": "pending", "Pacific/Kiritimati": "overdue"}
    overdue = listed(api, "?status=overdue")
    assert overdue == [invoice.public_id]


# --- ids of related rows (other areas) ---------------------------------------


def test_an_agreement_shows_on_the_original_and_its_parts(api, org, customer):
    original = new_invoice(api, customer, due_date=day(org, -40)).get_json()

    made = api.post(
        f"/invoices/{original['id']}/agreement",
        json={"installments": 2, "first_due_date": day(org, 1)},
    )

    assert made.status_code == 201, made.get_data(as_text=True)
    agreement = made.get_json()
    parts = [part["id"] for part in agreement["invoices"]]
    replaced = api.get(f"/invoices/{original['id']}").get_json()
    assert replaced["status"] == "canceled"
    assert replaced["replaced_by"] == parts
    assert replaced["agreement_id"] is None
    for part in parts:
        shown = api.get(f"/invoices/{part}").get_json()
        assert shown["agreement_id"] == agreement["id"]
        assert shown["replaced_by"] == []


def test_a_subscription_invoice_names_its_subscription(api, org, customer):
    plan = api.post(
        "/plans", json={"name": "Mensal", "amount": "99.90", "interval": "month"}
    ).get_json()
    subscription = api.post(
        "/subscriptions",
        json={
            "customer_id": customer.public_id,
            "plan_id": plan["id"],
            "start_date": day(org, 0),
        },
    ).get_json()

    items = api.get(f"/invoices?customer_id={customer.public_id}").get_json()["items"]

    assert [item["subscription_id"] for item in items] == [subscription["id"]]
    assert items[0]["amount"] == "99.90"
