"""Negotiation services and API: reschedule, agreement, cancel, resend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from helpers import today
from sqlalchemy import func, select

from agnozys import plugins, tenancy
from agnozys.extensions import db
from agnozys.hookspecs import (
    ChargeRequest,
    InvoiceNotice,
    Message,
    SendResult,
    hookimpl,
)
from agnozys.models import Agreement, Event, Invoice, InvoiceStatus, utcnow
from agnozys.services import Conflict, ValidationFailed, negotiation


class Spy:
    """A plugin that remembers what the core told it."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.rescheduled: list[InvoiceNotice] = []
        self.canceled: list[InvoiceNotice] = []
        self.charge_updates: list[ChargeRequest] = []
        self.charge_cancels: list[ChargeRequest] = []

    @hookimpl
    def agnozys_send_message(self, message: Message) -> SendResult:
        self.messages.append(message)
        return SendResult(notifier="spy")

    # Gateway hooks stop at the first answer: returning None lets the
    # configured gateway answer after the spy has looked.
    @hookimpl
    def agnozys_gateway_update_charge(self, request: ChargeRequest) -> None:
        self.charge_updates.append(request)

    @hookimpl
    def agnozys_gateway_cancel_charge(self, request: ChargeRequest) -> None:
        self.charge_cancels.append(request)

    @hookimpl
    def agnozys_invoice_rescheduled(self, notice: InvoiceNotice) -> None:
        self.rescheduled.append(notice)

    @hookimpl
    def agnozys_invoice_canceled(self, notice: InvoiceNotice) -> None:
        self.canceled.append(notice)


@pytest.fixture
def spy(app: Any) -> Spy:
    found = Spy()
    plugins.manager().register(found, name="test-spy")
    return found


def day(offset: int) -> str:
    return (today() + timedelta(days=offset)).isoformat()


def events(invoice: Invoice, type: str | None = None) -> list[Event]:
    with tenancy.unscoped():
        query = select(Event).where(Event.invoice_id == invoice.id).order_by(Event.id)
        if type:
            query = query.where(Event.type == type)
        return list(db.session.execute(query).scalars())


def reload(invoice: Invoice) -> Invoice:
    db.session.expire_all()
    with tenancy.unscoped():
        found = db.session.get(Invoice, invoice.id)
    assert found is not None
    return found


def snapshot(invoice: Invoice) -> tuple[Any, ...]:
    """Everything an action could change, to prove a refusal changed nothing."""
    fresh = reload(invoice)
    with tenancy.unscoped():
        counts = (
            db.session.scalar(select(func.count()).select_from(Invoice)),
            db.session.scalar(select(func.count()).select_from(Agreement)),
            db.session.scalar(select(func.count()).select_from(Event)),
        )
    return (
        fresh.status,
        fresh.due_date,
        fresh.frozen_fine,
        fresh.frozen_interest,
        fresh.fine_settled,
        fresh.version,
        fresh.cancel_reason,
        counts,
    )


def error_of(response: Any) -> dict[str, Any]:
    payload = response.get_json()
    assert "error" in payload, payload
    return payload["error"]


# --- reschedule ---------------------------------------------------------------


def test_reschedule_freezes_fine_and_interest_until_the_new_date(
    api: Any, overdue_invoice: Invoice, spy: Spy
) -> None:
    url = overdue_invoice.payment_token
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/reschedule",
        json={"due_date": day(5)},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["due_date"] == day(5)
    assert body["original_due_date"] == day(-40)
    assert (body["amount"], body["fine"], body["interest"]) == (
        "1000.00",
        "20.00",
        "15.00",
    )
    assert body["amount_due"] == "1035.00"
    assert body["payment_url"].endswith("/pay/" + url)

    (event,) = events(overdue_invoice, "invoice.rescheduled")
    assert event.data["old_due_date"] == day(-40)
    assert event.data["new_due_date"] == day(5)
    assert event.data["old_amount_due"] == "1033.33"
    assert event.data["new_amount_due"] == "1035.00"
    assert event.data["waive"] == "none"
    assert event.actor.startswith("token:")
    assert not events(overdue_invoice, "fees.waived")
    assert [n.data["new_due_date"] for n in spy.rescheduled] == [day(5)]


@pytest.mark.parametrize(
    ("waive", "amount_due", "fine", "interest"),
    [
        ("all", "1000.00", "0.00", "0.00"),
        ("interest", "1020.00", "20.00", "0.00"),
        ("fine", "1015.00", "0.00", "15.00"),
    ],
)
def test_reschedule_with_a_waiver_drops_it_and_records_the_waiver(
    api: Any,
    overdue_invoice: Invoice,
    waive: str,
    amount_due: str,
    fine: str,
    interest: str,
) -> None:
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/reschedule",
        json={"due_date": day(5), "waive": waive},
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["amount_due"], body["fine"], body["interest"]) == (
        amount_due,
        fine,
        interest,
    )
    (waived,) = events(overdue_invoice, "fees.waived")
    assert waived.data["waive"] == waive


def test_rescheduled_invoice_runs_interest_again_after_the_new_date_passes(
    app: Any, org: Any, overdue_invoice: Invoice
) -> None:
    with tenancy.scope(org.id):
        negotiation.reschedule_invoice(
            overdue_invoice.public_id, {"due_date": day(0)}, actor="test"
        )
    from agnozys.services.invoices import figures

    invoice = reload(overdue_invoice)
    now = figures(invoice, today())
    assert (now.fine, now.interest, now.amount_due) == (2_000, 1_333, 103_333)
    later = figures(invoice, today() + timedelta(days=30))
    # One more month at 1% on the principal; the fine stays 20.00.
    assert (later.fine, later.interest) == (2_000, 1_333 + 1_000)


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"due_date": "PAST"}, "due_date", "hoje ou uma data futura"),
        ({"due_date": "2027-02-30"}, "due_date", "Data inexistente"),
        ({"due_date": "30/12/2027"}, "due_date", "AAAA-MM-DD"),
        ({}, "due_date", "AAAA-MM-DD"),
        ({"due_date": "FUTURE", "waive": "everything"}, "waive", "isentar"),
    ],
)
def test_reschedule_refuses_bad_input_and_changes_nothing(
    api: Any,
    overdue_invoice: Invoice,
    payload: dict[str, str],
    field: str,
    message: str,
) -> None:
    payload = {
        k: {"PAST": day(-1), "FUTURE": day(3)}.get(v, v) for k, v in payload.items()
    }
    before = snapshot(overdue_invoice)
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/reschedule", json=payload
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert message in error["fields"][field]
    assert snapshot(overdue_invoice) == before


def test_reschedule_to_today_is_allowed(api: Any, overdue_invoice: Invoice) -> None:
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/reschedule", json={"due_date": day(0)}
    )
    assert response.status_code == 200
    assert response.get_json()["amount_due"] == "1033.33"


def test_body_that_is_not_json_answers_400(api: Any, overdue_invoice: Invoice) -> None:
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/reschedule",
        data="due_date=2030-01-01",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


# --- final invoices, unknown ids ----------------------------------------------


def mark_paid(invoice: Invoice) -> None:
    with tenancy.unscoped():
        fresh = db.session.get(Invoice, invoice.id)
        assert fresh is not None
        fresh.status = InvoiceStatus.PAID
        fresh.paid_at = utcnow()
        fresh.paid_amount = 103_333
        db.session.commit()


@pytest.mark.parametrize("state", ["paid", "canceled"])
@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("reschedule", {"due_date": "FUTURE"}),
        ("agreement", {"installments": 2, "first_due_date": "FUTURE"}),
        ("cancel", {"reason": "teste"}),
        ("resend", None),
    ],
)
def test_paid_and_canceled_invoices_are_final(
    api: Any,
    org: Any,
    overdue_invoice: Invoice,
    state: str,
    action: str,
    payload: dict[str, Any] | None,
) -> None:
    if state == "paid":
        mark_paid(overdue_invoice)
    else:
        with tenancy.scope(org.id):
            negotiation.cancel_invoice(overdue_invoice.public_id, actor="test")
    if payload:
        payload = {k: day(3) if v == "FUTURE" else v for k, v in payload.items()}
    before = snapshot(overdue_invoice)
    response = api.post(f"/invoices/{overdue_invoice.public_id}/{action}", json=payload)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "invoice_final"
    assert ("paga" if state == "paid" else "cancelada") in error["message"]
    assert snapshot(overdue_invoice) == before


@pytest.mark.parametrize("action", ["reschedule", "agreement", "cancel", "resend"])
def test_unknown_and_other_organizations_invoices_answer_404(
    api: Any, other_api: Any, overdue_invoice: Invoice, action: str
) -> None:
    assert api.post(f"/invoices/inv_nope/{action}", json={}).status_code == 404
    before = snapshot(overdue_invoice)
    response = other_api.post(
        f"/invoices/{overdue_invoice.public_id}/{action}",
        json={"due_date": day(3), "installments": 2, "first_due_date": day(3)},
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert snapshot(overdue_invoice) == before


def test_actions_need_a_token(client: Any, overdue_invoice: Invoice) -> None:
    response = client.post(
        f"/api/v1/invoices/{overdue_invoice.public_id}/cancel", json={}
    )
    assert response.status_code == 401


# --- agreements ---------------------------------------------------------------


def test_agreement_with_explicit_parts_cancels_the_original_and_creates_the_parts(
    api: Any, overdue_invoice: Invoice, spy: Spy
) -> None:
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/agreement",
        json={
            "parts": [
                {"amount": "533.33", "due_date": day(0)},
                {"amount": "500.00", "due_date": day(30)},
            ]
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"].startswith("agr_")
    assert body["original_invoice_id"] == overdue_invoice.public_id
    parts = body["invoices"]
    assert [p["amount"] for p in parts] == ["533.33", "500.00"]
    assert [p["due_date"] for p in parts] == [day(0), day(30)]
    assert [p["description"] for p in parts] == [
        "Acordo Parte 1/2 — Mensalidade",
        "Acordo Parte 2/2 — Mensalidade",
    ]
    assert {p["agreement_id"] for p in parts} == {body["id"]}
    assert all(p["status"] == "pending" for p in parts)
    assert len({p["payment_url"] for p in parts}) == 2

    original = api.get(f"/invoices/{overdue_invoice.public_id}").get_json()
    assert original["status"] == "canceled"
    assert original["replaced_by"] == [p["id"] for p in parts]
    fresh = reload(overdue_invoice)
    assert fresh.cancel_reason == "agreement"
    assert [e.type for e in events(overdue_invoice)][-2:] == [
        "agreement.created",
        "invoice.canceled",
    ]
    (created,) = events(overdue_invoice, "agreement.created")
    assert created.data["total"] == "1033.33"
    assert [p["amount"] for p in created.data["parts"]] == ["533.33", "500.00"]
    assert [n.data["reason"] for n in spy.canceled] == ["agreement"]


def test_agreement_by_installments_splits_evenly_monthly_leftover_on_part_one(
    api: Any, overdue_invoice: Invoice
) -> None:
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/agreement",
        json={"installments": 3, "first_due_date": "2030-01-31"},
    )
    assert response.status_code == 201
    parts = response.get_json()["invoices"]
    assert [p["amount"] for p in parts] == ["344.45", "344.44", "344.44"]
    assert [p["due_date"] for p in parts] == ["2030-01-31", "2030-02-28", "2030-03-31"]
    assert parts[2]["description"] == "Acordo Parte 3/3 — Mensalidade"


def test_agreement_by_installments_with_an_interval_in_days(
    api: Any, overdue_invoice: Invoice
) -> None:
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/agreement",
        json={
            "installments": 2,
            "first_due_date": day(1),
            "interval_days": 15,
            "waive": "all",
        },
    )
    assert response.status_code == 201
    parts = response.get_json()["invoices"]
    assert [p["amount"] for p in parts] == ["500.00", "500.00"]
    assert [p["due_date"] for p in parts] == [day(1), day(16)]
    (waived,) = events(overdue_invoice, "fees.waived")
    assert (waived.data["fine"], waived.data["interest"]) == ("20.00", "13.33")


def test_agreement_waiving_interest_must_add_up_to_principal_plus_fine(
    api: Any, overdue_invoice: Invoice
) -> None:
    path = f"/invoices/{overdue_invoice.public_id}/agreement"
    wrong = api.post(
        path,
        json={
            "waive": "interest",
            "parts": [{"amount": "1033.33", "due_date": day(1)}],
        },
    )
    assert wrong.status_code == 422
    assert "R$ 1.020,00" in error_of(wrong)["fields"]["parts"]
    right = api.post(
        path,
        json={
            "waive": "interest",
            "parts": [{"amount": "1020.00", "due_date": day(1)}],
        },
    )
    assert right.status_code == 201


def test_agreement_after_a_reschedule_uses_the_frozen_charges(
    api: Any, overdue_invoice: Invoice
) -> None:
    api.post(
        f"/invoices/{overdue_invoice.public_id}/reschedule",
        json={"due_date": day(5), "waive": "fine"},
    )
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/agreement",
        json={"installments": 2, "first_due_date": day(5)},
    )
    assert response.status_code == 201
    parts = response.get_json()["invoices"]
    # Principal 1000.00 + interest frozen to day +5 (15.00); the fine was waived.
    assert [p["amount"] for p in parts] == ["507.50", "507.50"]


def parts_payload(*amounts: str, due: int = 1) -> dict[str, Any]:
    return {"parts": [{"amount": a, "due_date": day(due)} for a in amounts]}


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (parts_payload("500.00", "500.00"), "parts", "R$ 1.000,00"),
        (parts_payload("500.00", "533.334"), "parts[1].amount", "duas casas"),
        (parts_payload("0.00", "1033.33"), "parts[0].amount", "maior que zero"),
        (parts_payload("-10.00", "1043.33"), "parts[0].amount", "negativo"),
        (parts_payload("1033.33", due=-1), "parts[0].due_date", "hoje ou"),
        (
            {"parts": [{"amount": "1033.33", "due_date": "2030-13-01"}]},
            "parts[0].due_date",
            "Data inexistente",
        ),
        (parts_payload(*(["43.05"] * 25)), "parts", "24"),
        ({"parts": []}, "parts", "ao menos uma"),
        ({"installments": 25, "first_due_date": "FUTURE"}, "installments", "24"),
        ({"installments": 0, "first_due_date": "FUTURE"}, "installments", "24"),
        (
            {"installments": "dois", "first_due_date": "FUTURE"},
            "installments",
            "inteiro",
        ),
        ({"installments": 2, "first_due_date": "PAST"}, "first_due_date", "hoje ou"),
        (
            {"installments": 2, "first_due_date": "FUTURE", "interval_days": 0},
            "interval_days",
            "1 a 366",
        ),
        ({}, "parts", "número de parcelas"),
        (
            {"installments": 2, "first_due_date": "FUTURE", "waive": "tudo"},
            "waive",
            "isentar",
        ),
    ],
)
def test_agreement_refuses_bad_input_and_changes_nothing(
    api: Any,
    overdue_invoice: Invoice,
    payload: dict[str, Any],
    field: str,
    message: str,
) -> None:
    payload = {
        k: {"PAST": day(-1), "FUTURE": day(3)}.get(v, v) if isinstance(v, str) else v
        for k, v in payload.items()
    }
    before = snapshot(overdue_invoice)
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/agreement", json=payload
    )
    assert response.status_code == 422, response.get_json()
    error = error_of(response)
    assert message in error["fields"][field], error
    assert snapshot(overdue_invoice) == before


def test_amounts_given_as_json_numbers_with_three_decimals_are_refused(
    api: Any, overdue_invoice: Invoice
) -> None:
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/agreement",
        data='{"parts": [{"amount": 533.334, "due_date": "DAY"}]}'.replace(
            "DAY", day(1)
        ),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert "parts[0].amount" in error_of(response)["fields"]


def test_an_invoice_is_split_only_once(api: Any, overdue_invoice: Invoice) -> None:
    path = f"/invoices/{overdue_invoice.public_id}/agreement"
    first = api.post(path, json={"installments": 2, "first_due_date": day(1)})
    assert first.status_code == 201
    second = api.post(path, json={"installments": 2, "first_due_date": day(1)})
    assert second.status_code == 409
    with tenancy.unscoped():
        assert db.session.scalar(select(func.count()).select_from(Agreement)) == 1


def test_agreement_parts_can_be_split_again(api: Any, overdue_invoice: Invoice) -> None:
    made = api.post(
        f"/invoices/{overdue_invoice.public_id}/agreement",
        json={"installments": 2, "first_due_date": day(1)},
    ).get_json()
    part = made["invoices"][1]
    again = api.post(
        f"/invoices/{part['id']}/agreement",
        json={"installments": 2, "first_due_date": day(40)},
    )
    assert again.status_code == 201
    assert [p["amount"] for p in again.get_json()["invoices"]] == ["258.33", "258.33"]


# --- cancel, resend -----------------------------------------------------------


def test_cancel_keeps_the_reason_and_records_it(
    api: Any, overdue_invoice: Invoice, spy: Spy
) -> None:
    response = api.post(
        f"/invoices/{overdue_invoice.public_id}/cancel",
        json={"reason": "Cobrança duplicada"},
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "canceled"
    assert reload(overdue_invoice).cancel_reason == "Cobrança duplicada"
    (event,) = events(overdue_invoice, "invoice.canceled")
    assert event.data == {"reason": "Cobrança duplicada"}
    assert [n.data["reason"] for n in spy.canceled] == ["Cobrança duplicada"]


def test_cancel_without_reason_is_accepted_and_a_huge_reason_is_not(
    api: Any, overdue_invoice: Invoice
) -> None:
    path = f"/invoices/{overdue_invoice.public_id}/cancel"
    too_long = api.post(path, json={"reason": "x" * 501})
    assert too_long.status_code == 422
    assert "reason" in error_of(too_long)["fields"]
    assert api.post(path).status_code == 200


def test_resend_sends_the_link_by_email_and_sms_and_records_it(
    api: Any,
    org: Any,
    make_customer: Callable[..., Any],
    make_invoice: Callable[..., Invoice],
    spy: Spy,
) -> None:
    customer = make_customer(org, email="ana@example.com", phone="5511987654321")
    invoice = make_invoice(org, customer, amount=25_000, due_in=3)
    response = api.post(f"/invoices/{invoice.public_id}/resend")
    assert response.status_code == 202
    assert [(m.channel, m.to) for m in spy.messages] == [
        ("email", "ana@example.com"),
        ("sms", "5511987654321"),
    ]
    assert "R$ 250,00" in spy.messages[0].text
    assert invoice.payment_token in spy.messages[0].text
    (event,) = events(invoice, "link.resent")
    assert event.data["channels"] == ["email", "sms"]


def test_resend_is_recorded_even_when_no_notifier_answers(
    api: Any, overdue_invoice: Invoice
) -> None:
    response = api.post(f"/invoices/{overdue_invoice.public_id}/resend")
    assert response.status_code == 202
    assert len(events(overdue_invoice, "link.resent")) == 1


def test_resend_to_a_customer_without_contact_is_refused(
    api: Any,
    org: Any,
    make_customer: Callable[..., Any],
    make_invoice: Callable[..., Invoice],
) -> None:
    customer = make_customer(org, email=None)
    invoice = make_invoice(org, customer)
    response = api.post(f"/invoices/{invoice.public_id}/resend")
    assert response.status_code == 409
    assert error_of(response)["code"] == "no_contact"
    assert not events(invoice, "link.resent")


# --- services: stale editors --------------------------------------------------


def test_a_stale_editor_gets_a_conflict_and_nothing_changes(
    app: Any, org: Any, overdue_invoice: Invoice
) -> None:
    seen_version = overdue_invoice.version
    with tenancy.scope(org.id):
        negotiation.reschedule_invoice(
            overdue_invoice.public_id, {"due_date": day(3)}, actor="user:a"
        )
        before = snapshot(overdue_invoice)
        with pytest.raises(Conflict) as caught:
            negotiation.make_agreement(
                overdue_invoice.public_id,
                {"installments": 2, "first_due_date": day(3)},
                actor="user:b",
                expected_version=seen_version,
            )
    assert caught.value.code == "stale"
    assert snapshot(overdue_invoice) == before


def test_service_validation_names_the_fields(
    app: Any, org: Any, overdue_invoice: Invoice
) -> None:
    with tenancy.scope(org.id), pytest.raises(ValidationFailed) as caught:
        negotiation.reschedule_invoice(
            overdue_invoice.public_id, {"due_date": "amanhã"}, actor="test"
        )
    assert set(caught.value.fields) == {"due_date"}


def test_openapi_documents_the_negotiation_paths(client: Any) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for action in ("reschedule", "agreement", "cancel", "resend"):
        assert "post" in paths[f"/invoices/{{id}}/{action}"]


def test_plan_parts_for_the_editor_matches_the_api(
    app: Any, overdue_invoice: Invoice
) -> None:
    plan = negotiation.plan_parts(103_333, 2, date(2030, 1, 15))
    assert [(p.amount, p.due_date) for p in plan] == [
        (51_667, date(2030, 1, 15)),
        (51_666, date(2030, 2, 15)),
    ]


def test_gateway_is_told_the_new_amount_and_date_and_about_cancellations(
    api: Any, overdue_invoice: Invoice, spy: Spy
) -> None:
    api.post(
        f"/invoices/{overdue_invoice.public_id}/reschedule",
        json={"due_date": day(5), "waive": "interest"},
    )
    (update,) = spy.charge_updates
    assert (update.amount_due, update.due_date.isoformat()) == (102_000, day(5))
    assert update.charge_id == reload(overdue_invoice).gateway_charge_id
    api.post(
        f"/invoices/{overdue_invoice.public_id}/agreement",
        json={"installments": 2, "first_due_date": day(5)},
    )
    assert [c.invoice_id for c in spy.charge_cancels] == [overdue_invoice.public_id]
