"""The plans and subscriptions API, and the payment-versus-suspension race."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from helpers import make_api, today
from sqlalchemy import select

from agnozys import signatures, tenancy
from agnozys.extensions import db
from agnozys.models import Invoice, InvoiceStatus, utcnow
from agnozys.models.payments import Payment
from agnozys.models.subscriptions import AccessDelivery, Subscription
from agnozys.services import subscriptions as service
from agnozys.services.invoices import figures
from agnozys.views.sandbox import event_body


def new_subscription(api: Any, customer: Any, start: Any) -> dict[str, Any]:
    plan = api.post(
        "/plans", json={"name": "Plano Escola", "amount": "450.00", "interval": "month"}
    )
    assert plan.status_code == 201, plan.get_json()
    response = api.post(
        "/subscriptions",
        json={
            "customer_id": customer.public_id,
            "plan_id": plan.get_json()["id"],
            "start_date": start.isoformat(),
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_plan_and_subscription_issue_first_invoice(
    api: Any, org: Any, make_customer: Any
) -> None:
    customer = make_customer(org)
    plan = api.post(
        "/plans", json={"name": "Plano Escola", "amount": "450.00", "interval": "year"}
    )
    assert plan.status_code == 201
    body = plan.get_json()
    assert body["id"].startswith("pln_")
    assert (body["amount"], body["interval"]) == ("450.00", "year")

    start = today(org) + timedelta(days=5)
    created = api.post(
        "/subscriptions",
        json={
            "customer_id": customer.public_id,
            "plan_id": body["id"],
            "start_date": start.isoformat(),
        },
    ).get_json()
    assert created["id"].startswith("sub_")
    assert created["status"] == "active"
    assert created["customer_id"] == customer.public_id
    assert (
        created["next_billing_date"] == start.replace(year=start.year + 1).isoformat()
    )

    invoices = api.get(f"/invoices?customer_id={customer.public_id}").get_json()
    [invoice] = invoices["items"]
    assert invoice["subscription_id"] == created["id"]
    assert invoice["due_date"] == start.isoformat()
    assert invoice["amount"] == "450.00"


def test_invalid_plan_and_subscription_name_fields(api: Any) -> None:
    plan = api.post("/plans", json={"name": "X", "amount": 10.5, "interval": "day"})
    assert plan.status_code == 422
    assert set(plan.get_json()["error"]["fields"]) == {"amount", "interval"}
    sub = api.post("/subscriptions", json={"customer_id": "cus_nope"})
    assert sub.status_code == 422
    assert set(sub.get_json()["error"]["fields"]) == {
        "customer_id",
        "plan_id",
        "start_date",
    }


def test_list_filters_by_status_and_overdue_days(
    api: Any, org: Any, make_customer: Any
) -> None:
    late = new_subscription(api, make_customer(org), today(org) - timedelta(days=20))
    new_subscription(api, make_customer(org), today(org))
    listing = api.get("/subscriptions").get_json()
    assert listing["total"] == 2
    assert listing["items"][0]["id"] == late["id"]  # oldest debt first
    overdue = api.get("/subscriptions?overdue_days_gte=20").get_json()
    assert [s["id"] for s in overdue["items"]] == [late["id"]]
    assert api.get("/subscriptions?overdue_days_gte=21").get_json()["total"] == 0
    assert api.get("/subscriptions?status=suspended").get_json()["total"] == 0
    bad = api.get("/subscriptions?status=paused&overdue_days_gte=x")
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"status", "overdue_days_gte"}


def test_suspend_then_reactivate_refused_until_paid(
    api: Any, org: Any, make_customer: Any
) -> None:
    sub = new_subscription(api, make_customer(org), today(org) - timedelta(days=40))
    suspended = api.post(f"/subscriptions/{sub['id']}/suspend", json={"reason": "x"})
    assert suspended.status_code == 200
    assert suspended.get_json()["status"] == "suspended"
    again = api.post(f"/subscriptions/{sub['id']}/suspend")
    assert again.status_code == 409

    refused = api.post(f"/subscriptions/{sub['id']}/reactivate")
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "unpaid_invoices"
    assert "comprovante aceito" in error["message"]

    org.auto_reactivate = False
    db.session.commit()
    with tenancy.unscoped():
        invoice = db.session.execute(select(Invoice)).scalar_one()
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = utcnow()
        db.session.commit()
    back = api.post(f"/subscriptions/{sub['id']}/reactivate")
    assert back.status_code == 200
    assert back.get_json()["status"] == "active"


def test_other_organization_gets_404(
    api: Any, other_api: Any, org: Any, make_customer: Any
) -> None:
    sub = new_subscription(api, make_customer(org), today(org) - timedelta(days=40))
    assert other_api.post(f"/subscriptions/{sub['id']}/suspend").status_code == 404
    assert other_api.get("/subscriptions").get_json()["total"] == 0
    foreign = other_api.post(
        "/subscriptions",
        json={
            "customer_id": sub["customer_id"],
            "plan_id": sub["plan_id"],
            "start_date": today(org).isoformat(),
        },
    )
    assert foreign.status_code == 422


def test_routes_need_a_token(client: Any) -> None:
    assert client.get("/api/v1/subscriptions").status_code == 401
    assert client.post("/api/v1/plans", json={}).status_code == 401


# --- the race ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("auto_reactivate", [True, False])
def test_payment_and_suspend_together_end_consistent(
    app: Any,
    org: Any,
    make_customer: Any,
    is_postgres: bool,
    auto_reactivate: bool,
) -> None:
    if not is_postgres:
        pytest.skip("needs PostgreSQL row locks")
    org.auto_reactivate = auto_reactivate
    db.session.commit()
    token_client = app.test_client()
    api = make_api(token_client, org)
    outcomes = set()
    for round_ in range(6):
        customer = make_customer(org)
        sub = new_subscription(api, customer, today(org) - timedelta(days=35))
        with tenancy.unscoped():
            invoice = db.session.execute(
                select(Invoice).where(Invoice.customer_id == customer.id)
            ).scalar_one()
            amount = figures(invoice).amount_due
            body = event_body(invoice.gateway_charge_id or "", amount, utcnow())
        barrier = threading.Barrier(2)
        answers: dict[str, int] = {}

        def pay(
            barrier: Any = barrier, body: bytes = body, answers: Any = answers
        ) -> None:
            client = app.test_client()
            barrier.wait()
            response = client.post(
                "/webhooks/sandbox",
                data=body,
                headers={
                    "Content-Type": "application/json",
                    signatures.HEADER: signatures.sign("sandbox-test-secret", body),
                },
            )
            answers["pay"] = response.status_code

        def suspend(
            sub_id: str = sub["id"], barrier: Any = barrier, answers: Any = answers
        ) -> None:
            client = app.test_client()
            barrier.wait()
            response = client.post(
                f"/api/v1/subscriptions/{sub_id}/suspend", headers=api.headers
            )
            answers["suspend"] = response.status_code

        threads = [threading.Thread(target=pay), threading.Thread(target=suspend)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers["pay"] == 200
        assert answers["suspend"] in (200, 409)

        db.session.expire_all()
        with tenancy.unscoped():
            subscription = db.session.execute(
                select(Subscription).where(Subscription.public_id == sub["id"])
            ).scalar_one()
            paid = db.session.get(Invoice, invoice.id)
            payments = (
                db.session.execute(
                    select(Payment).where(Payment.invoice_id == invoice.id)
                )
                .scalars()
                .all()
            )
            sent = db.session.execute(
                select(AccessDelivery.type, AccessDelivery.status)
                .where(AccessDelivery.subscription_id == subscription.id)
                .order_by(AccessDelivery.id)
            ).all()
        assert paid.status == "paid" and len(payments) == 1, f"round {round_}"
        last = sent[-1][0] if sent else None
        assert all(status == "delivered" for _, status in sent)
        if subscription.status == "active":
            # Never blocked with everything paid.
            assert last in (None, "access.unblocked"), sent
            outcomes.add("active" if not sent else "reactivated")
        else:
            assert not auto_reactivate, "suspended although paid and auto on"
            assert last == "access.blocked"
            with tenancy.scope(org.id):
                service.reactivate_subscription(sub["id"], actor="t")
            outcomes.add("suspended")
    assert outcomes
