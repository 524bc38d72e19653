"""Gateway webhooks: signature first, one payment per event, nothing dropped."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from agnozys import signatures, tenancy
from agnozys.extensions import db
from agnozys.models import Event, Invoice, InvoiceStatus
from agnozys.models.payments import Payment
from agnozys.services.payments import PAID_HANDLERS

SECRET = "sandbox-test-secret"


def event(
    charge_id: str, amount: str = "1000.00", event_id: str = "evt_1", **extra: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "payment.confirmed",
        "data": {
            "charge_id": charge_id,
            "amount": amount,
            "paid_at": datetime.now(UTC).isoformat(),
            **extra,
        },
    }


def deliver(
    client: Any,
    payload: Any,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    raw: bytes | None = None,
) -> Any:
    body = raw if raw is not None else json.dumps(payload).encode()
    header = signatures.sign(secret, body, timestamp)
    return client.post(
        "/webhooks/sandbox",
        data=body,
        headers={signatures.HEADER: header, "Content-Type": "application/json"},
    )


@pytest.fixture
def invoice(org: Any, make_customer: Any, make_invoice: Any) -> Invoice:
    customer = make_customer(org, name="Carla Pagadora")
    invoice = make_invoice(org, customer, amount=100_000, due_in=10)
    db.session.refresh(invoice)
    assert invoice.gateway_charge_id.startswith("sbx_")
    return invoice


def payments() -> list[Payment]:
    with tenancy.unscoped():
        return list(db.session.execute(select(Payment)).scalars())


def events_of(invoice: Invoice) -> list[str]:
    with tenancy.unscoped():
        return [
            e.type
            for e in db.session.execute(
                select(Event).where(Event.invoice_id == invoice.id).order_by(Event.id)
            ).scalars()
        ]


def test_valid_webhook_marks_invoice_paid(client: Any, invoice: Invoice) -> None:
    response = deliver(client, event(invoice.gateway_charge_id))
    assert response.status_code == 200
    assert response.json["payments"][0]["status"] == "confirmed"
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.paid_amount == 100_000
    assert invoice.payment_method == "sandbox"
    assert invoice.paid_at is not None
    assert "payment.received" in events_of(invoice)
    [payment] = payments()
    assert payment.public_id.startswith("pay_")
    assert payment.status.value == "confirmed"


def test_paid_invoice_runs_listener_hook_and_paid_handlers(
    client: Any, invoice: Invoice
) -> None:
    seen: list[int] = []
    PAID_HANDLERS.append(lambda inv: seen.append(inv.id))
    try:
        deliver(client, event(invoice.gateway_charge_id))
    finally:
        PAID_HANDLERS.pop()
    assert seen == [invoice.id]


def test_bad_signature_is_rejected_before_reading(
    client: Any, invoice: Invoice
) -> None:
    response = deliver(client, event(invoice.gateway_charge_id), secret="x" * 20)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_signature"
    # Not even a malformed body is read when the signature is wrong.
    response = deliver(client, None, raw=b"{not json", secret="y" * 20)
    assert response.status_code == 401
    assert payments() == []


def test_missing_signature_is_rejected(client: Any, invoice: Invoice) -> None:
    response = client.post(
        "/webhooks/sandbox", data=json.dumps(event(invoice.gateway_charge_id))
    )
    assert response.status_code == 401
    assert "ausente" in response.json["error"]["message"]


def test_stale_timestamp_is_rejected(client: Any, invoice: Invoice) -> None:
    old = int(time.time()) - 301
    response = deliver(client, event(invoice.gateway_charge_id), timestamp=old)
    assert response.status_code == 401
    assert "5 minutos" in response.json["error"]["message"]
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PENDING


def test_malformed_json_is_a_400(client: Any, invoice: Invoice) -> None:
    response = deliver(client, None, raw=b'{"id": "evt_1", ')
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"
    response = deliver(client, {"id": "evt_2", "type": "payment.confirmed"})
    assert response.status_code == 400
    assert payments() == []


def test_unknown_gateway_is_a_404(client: Any) -> None:
    body = b"{}"
    response = client.post(
        "/webhooks/nope", data=body, headers={signatures.HEADER: "t=1,v1=00"}
    )
    assert response.status_code == 404


def test_other_event_types_are_acknowledged_and_ignored(
    client: Any, invoice: Invoice
) -> None:
    response = deliver(client, {"id": "evt_9", "type": "charge.viewed", "data": {}})
    assert response.status_code == 200
    assert response.json["received"] == 0


def test_unknown_charge_is_kept_and_flagged(client: Any, invoice: Invoice) -> None:
    response = deliver(client, event("sbx_nobody_knows"))
    assert response.status_code == 200
    [payment] = payments()
    assert payment.status.value == "flagged"
    assert payment.flag_reason.value == "unknown_charge"
    assert payment.organization_id is None


def test_same_event_twice_is_one_payment(client: Any, invoice: Invoice) -> None:
    payload = event(invoice.gateway_charge_id)
    first = deliver(client, payload)
    second = deliver(client, payload)
    assert first.status_code == second.status_code == 200
    assert second.json["payments"][0]["duplicate"] is True
    assert first.json["payments"][0]["id"] == second.json["payments"][0]["id"]
    assert len(payments()) == 1
    assert events_of(invoice).count("payment.received") == 1
    assert "payment.flagged" not in events_of(invoice)


def test_payment_for_paid_invoice_is_flagged(client: Any, invoice: Invoice) -> None:
    deliver(client, event(invoice.gateway_charge_id, event_id="evt_a"))
    response = deliver(client, event(invoice.gateway_charge_id, event_id="evt_b"))
    assert response.json["payments"][0]["status"] == "flagged"
    flagged = [p for p in payments() if p.status.value == "flagged"]
    assert [p.flag_reason.value for p in flagged] == ["invoice_paid"]
    assert "payment.flagged" in events_of(invoice)


def test_payment_for_canceled_invoice_is_flagged(client: Any, invoice: Invoice) -> None:
    with tenancy.unscoped():
        invoice.status = InvoiceStatus.CANCELED
        db.session.commit()
    response = deliver(client, event(invoice.gateway_charge_id))
    assert response.status_code == 200
    [payment] = payments()
    assert payment.flag_reason.value == "invoice_canceled"
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.CANCELED
    assert "payment.flagged" in events_of(invoice)


@pytest.mark.parametrize("amount", ["999.99", "1000.01", "500.00"])
def test_wrong_amount_is_flagged_and_invoice_stays_open(
    client: Any, invoice: Invoice, amount: str
) -> None:
    deliver(client, event(invoice.gateway_charge_id, amount=amount))
    [payment] = payments()
    assert payment.flag_reason.value == "wrong_amount"
    assert payment.expected_amount == 100_000
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PENDING


def test_overdue_invoice_needs_late_charges_on_the_payment_day(
    client: Any, overdue_invoice: Invoice
) -> None:
    db.session.refresh(overdue_invoice)
    charge = overdue_invoice.gateway_charge_id
    deliver(client, event(charge, amount="1000.00", event_id="evt_short"))
    deliver(client, event(charge, amount="1033.33", event_id="evt_full"))
    db.session.refresh(overdue_invoice)
    assert overdue_invoice.status == InvoiceStatus.PAID
    assert overdue_invoice.paid_amount == 103_333
    assert (overdue_invoice.frozen_fine, overdue_invoice.frozen_interest) == (
        2_000,
        1_333,
    )
    reasons = sorted(str(p.flag_reason) for p in payments())
    assert reasons == ["None", "wrong_amount"]


def test_payment_dated_yesterday_is_checked_against_yesterdays_amount(
    client: Any, overdue_invoice: Invoice
) -> None:
    db.session.refresh(overdue_invoice)
    payload = event(overdue_invoice.gateway_charge_id, amount="1033.00")
    payload["data"]["paid_at"] = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    deliver(client, payload)
    db.session.refresh(overdue_invoice)
    assert overdue_invoice.status == InvoiceStatus.PAID


def settled_record(client: Any, invoice: Invoice, amount: str) -> dict[str, Any]:
    """Pay ``invoice`` by webhook; return what the payment left behind."""
    version = invoice.version
    seen: list[int] = []
    PAID_HANDLERS.append(lambda inv: seen.append(inv.id))
    try:
        payload = event(invoice.gateway_charge_id, amount=amount, event_id="evt_x")
        response = deliver(client, payload)
    finally:
        PAID_HANDLERS.pop()
    assert response.status_code == 200
    db.session.refresh(invoice)
    [payment] = payments()
    with tenancy.unscoped():
        [received] = db.session.execute(
            select(Event).where(
                Event.invoice_id == invoice.id, Event.type == "payment.received"
            )
        ).scalars()
    return {
        "answer": response.json["payments"][0]["id"] == payment.public_id,
        "invoice": (
            invoice.status,
            invoice.version - version,
            invoice.fine_settled,
            invoice.payment_method,
        ),
        "payment": (
            payment.status.value,
            payment.organization_id == invoice.organization_id,
            payment.invoice_id == invoice.id,
            payment.amount == payment.expected_amount == invoice.paid_amount,
            payment.method,
            payment.raw["id"],
            payment.received_at is not None,
        ),
        "event": (
            received.actor,
            received.customer_id == invoice.customer_id,
            sorted(received.data),
            received.data["payment_id"] == payment.public_id,
        ),
        "paid job ran": seen == [invoice.id],
    }


def test_on_time_and_late_payments_leave_the_same_record(
    client: Any, invoice: Invoice, overdue_invoice: Invoice
) -> None:
    # On PostgreSQL the on-time payment takes the one-statement path and
    # the late one the general path: users must not tell them apart.
    on_time = settled_record(client, invoice, "1000.00")
    with tenancy.unscoped():
        db.session.execute(Payment.__table__.delete())
        db.session.commit()
    late = settled_record(client, overdue_invoice, "1033.33")
    assert on_time == late
    assert on_time["invoice"] == (InvoiceStatus.PAID, 1, True, "sandbox")
    assert invoice.paid_amount == 100_000
    assert overdue_invoice.paid_amount == 103_333
    assert on_time["paid job ran"] and on_time["answer"]


def test_on_time_payment_must_include_frozen_charges(
    client: Any, org: Any, make_customer: Any, make_invoice: Any
) -> None:
    rescheduled = make_invoice(
        org, make_customer(org), amount=100_000, due_in=5, frozen_fine=2_000
    )
    charge = rescheduled.gateway_charge_id
    deliver(client, event(charge, amount="1000.00", event_id="evt_principal"))
    db.session.refresh(rescheduled)
    assert rescheduled.status == InvoiceStatus.PENDING
    deliver(client, event(charge, amount="1020.00", event_id="evt_all"))
    db.session.refresh(rescheduled)
    assert rescheduled.status == InvoiceStatus.PAID
    assert (rescheduled.frozen_fine, rescheduled.paid_amount) == (2_000, 102_000)
    flags = sorted(str(p.flag_reason) for p in payments())
    assert flags == ["None", "wrong_amount"]


@pytest.mark.postgres
def test_same_event_twenty_times_concurrently_is_one_payment(
    app: Any, invoice: Invoice, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("needs PostgreSQL row locks")
    payload = event(invoice.gateway_charge_id, event_id="evt_storm")
    body = json.dumps(payload).encode()
    header = signatures.sign(SECRET, body)
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            with app.app_context():
                client = app.test_client()
                barrier.wait()
                response = client.post(
                    "/webhooks/sandbox", data=body, headers={signatures.HEADER: header}
                )
                statuses.append(response.status_code)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert statuses == [200] * 20
    db.session.expire_all()
    assert len(payments()) == 1
    with tenancy.unscoped():
        received = db.session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.invoice_id == invoice.id, Event.type == "payment.received")
        )
    assert received == 1
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PAID


def test_webhook_url_answers_a_reachability_check(client: Any) -> None:
    assert client.get("/webhooks/sandbox").json == {
        "gateway": "sandbox",
        "active": True,
    }
    assert client.get("/webhooks/pix").status_code == 404


@pytest.mark.postgres
def test_two_different_events_for_one_invoice_at_once_pay_it_once(
    app: Any, invoice: Invoice, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("needs PostgreSQL row locks")
    barrier = threading.Barrier(8)
    statuses: list[str] = []

    def send(number: int) -> None:
        body = json.dumps(event(invoice.gateway_charge_id, event_id=f"evt_{number}"))
        header = signatures.sign(SECRET, body.encode())
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            response = client.post(
                "/webhooks/sandbox", data=body, headers={signatures.HEADER: header}
            )
            statuses.append(response.json["payments"][0]["status"])
            db.session.remove()

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == ["confirmed"] + ["flagged"] * 7
    db.session.expire_all()
    reasons = [p.flag_reason.value for p in payments() if p.flag_reason]
    assert reasons == ["invoice_paid"] * 7


def test_on_time_statement_settles_once_and_only_on_postgres(
    app: Any, invoice: Invoice, is_postgres: bool
) -> None:
    from agnozys.hookspecs import PaymentEvent
    from agnozys.services import on_time

    def paying(event_id: str, amount: int = 100_000) -> PaymentEvent:
        return PaymentEvent(
            event_id=event_id,
            charge_id=invoice.gateway_charge_id,
            amount=amount,
            paid_at=datetime.now(UTC),
            gateway="sandbox",
            raw={"id": event_id},
        )

    # A wrong amount matches nothing: left to the general path.
    assert on_time.settle(paying("evt_a", amount=99_999)) is None
    payment = on_time.settle(paying("evt_b"))
    if not is_postgres:
        assert payment is None
        return
    assert payment is not None and payment.status.value == "confirmed"
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PAID
    # The same event again, or another one for the paid invoice: nothing.
    assert on_time.settle(paying("evt_b")) is None
    assert on_time.settle(paying("evt_c")) is None
    assert [p.event_id for p in payments()] == ["evt_b"]
    assert events_of(invoice).count("payment.received") == 1
