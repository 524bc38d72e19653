"""The access blockers: signed webhooks on suspend and on proof of payment.

A local merchant endpoint (``access_receiver``) checks every signature;
its script makes it fail, hang or accept, to see retries and order.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from helpers import today
from sqlalchemy import select, update

from agnozys import jobs, plugins, signatures, tenancy
from agnozys.extensions import db
from agnozys.models import Invoice, InvoiceStatus, PendingJob, utcnow
from agnozys.models.subscriptions import AccessDelivery, Subscription
from agnozys.services import access
from agnozys.services import subscriptions as service
from agnozys.services.invoices import figures
from agnozys.views.sandbox import event_body
from tests.access_receiver import SECRET, Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config: dict[str, Any], receiver: Receiver) -> dict[str, Any]:
    return {
        **app_config,
        "AGNOZYS_ACCESS_BLOCKER": "webhook",
        "AGNOZYS_ACCESS_WEBHOOK_URL": receiver.url,
        "AGNOZYS_ACCESS_WEBHOOK_SECRET": SECRET,
        "AGNOZYS_ACCESS_WEBHOOK_TIMEOUT": 2,  # a busy machine still answers in time
        # Long enough that no stall of a busy machine makes a retry due on
        # its own: the tests run retries with run_due_retries().
        "AGNOZYS_ACCESS_RETRY_DELAYS": (5, 10, 15),
    }


def subscribe_and_suspend(
    org: Any, customer: Any, days_ago: int, *, interval: str = "month"
) -> Subscription:
    """Subscribe ``customer`` from ``days_ago``, issue what is due, suspend."""
    with tenancy.scope(org.id):
        plan = service.create_plan(
            {"name": "Plano", "amount": "150.00", "interval": interval}, actor="t"
        )
        subscription = service.create_subscription(
            {
                "customer_id": customer.public_id,
                "plan_id": plan.public_id,
                "start_date": (today(org) - timedelta(days=days_ago)).isoformat(),
            },
            organization=org,
            actor="t",
        )
    service.issue_due()
    with tenancy.scope(org.id):
        service.suspend_subscription(subscription.public_id, actor="user:ana@x")
    return subscription


@pytest.fixture
def suspended(org: Any, make_customer: Any) -> Subscription:
    """A yearly subscription 40 days overdue, just suspended."""
    customer = make_customer(org, name="Academia Forte", external_id="crm-77")
    return subscribe_and_suspend(org, customer, 40, interval="year")


def deliveries() -> list[AccessDelivery]:
    db.session.expire_all()
    with tenancy.unscoped():
        return list(
            db.session.execute(
                select(AccessDelivery).order_by(AccessDelivery.id)
            ).scalars()
        )


def run_due_retries() -> None:
    """Make every delayed job due and run it, as the timer or RQ would."""
    db.session.execute(update(PendingJob).values(not_before=utcnow()))
    db.session.commit()
    jobs.dispatch_pending(timedelta(0))


def unpaid(subscription: Subscription) -> list[Invoice]:
    with tenancy.unscoped():
        return list(
            db.session.execute(
                select(Invoice).where(
                    Invoice.subscription_id == subscription.id,
                    Invoice.status == InvoiceStatus.PENDING,
                )
            ).scalars()
        )


def pay_by_gateway(client: Any, invoice: Invoice) -> None:
    """Deliver the sandbox PSP's signed payment webhook for ``invoice``."""
    with tenancy.unscoped():
        invoice = db.session.get(Invoice, invoice.id)
        body = event_body(
            invoice.gateway_charge_id, figures(invoice).amount_due, utcnow()
        )
    response = client.post(
        "/webhooks/sandbox",
        data=body,
        headers={
            "Content-Type": "application/json",
            signatures.HEADER: signatures.sign("sandbox-test-secret", body),
        },
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def test_suspend_posts_signed_access_blocked(
    suspended: Subscription, receiver: Receiver
) -> None:
    assert receiver.bad_signatures == 0
    [event] = receiver.accepted
    [delivery] = deliveries()
    assert event == {
        "id": delivery.public_id,
        "type": "access.blocked",
        "customer": {"id": suspended.customer.public_id, "external_id": "crm-77"},
        "subscription_id": suspended.public_id,
        "at": event["at"],
    }
    assert event["at"].endswith("Z")
    assert delivery.status == "delivered"
    assert [(a.ok, a.status_code) for a in delivery.attempt_log] == [(True, 200)]


def test_payment_webhook_unblocks(
    suspended: Subscription, receiver: Receiver, client: Any
) -> None:
    [invoice] = unpaid(suspended)
    pay_by_gateway(client, invoice)
    assert receiver.types() == ["access.blocked", "access.unblocked"]
    with tenancy.unscoped():
        assert db.session.get(Subscription, suspended.id).status == "active"


def test_accepted_proof_unblocks(
    suspended: Subscription, receiver: Receiver, org: Any
) -> None:
    proofs = pytest.importorskip("agnozys.services.proofs")
    [invoice] = unpaid(suspended)
    with tenancy.scope(org.id):
        proof = proofs.upload_proof(
            db.session.get(Invoice, invoice.id),
            io.BytesIO(b"%PDF-1.4 comprovante"),
            "pix.pdf",
            actor="customer",
        )
        proofs.accept_proof(invoice.public_id, proof.public_id, actor="user:ana@x")
    assert receiver.types() == ["access.blocked", "access.unblocked"]


def test_no_unblock_while_an_overdue_invoice_is_unpaid(
    org: Any, receiver: Receiver, client: Any, make_customer: Any
) -> None:
    # Two monthly periods overdue: paying one is not enough.
    subscription = subscribe_and_suspend(org, make_customer(org), 40)
    first, second = sorted(unpaid(subscription), key=lambda i: i.due_date)
    pay_by_gateway(client, first)
    assert receiver.types() == ["access.blocked"]
    pay_by_gateway(client, second)
    assert receiver.types() == ["access.blocked", "access.unblocked"]


def test_retries_after_500_and_silence_then_succeeds(
    org: Any, receiver: Receiver, make_customer: Any
) -> None:
    receiver.script = [500, "hang"]
    subscribe_and_suspend(org, make_customer(org), 31, interval="year")
    [delivery] = deliveries()
    assert delivery.status == "pending"
    assert delivery.attempts == 1
    # The first retry is due within 30 seconds (here 5 s by config).
    assert delivery.next_attempt_at - utcnow() < timedelta(seconds=30)

    run_due_retries()  # no answer this time
    run_due_retries()  # now it answers 200
    [delivery] = deliveries()
    attempts = [(a.ok, a.status_code, bool(a.error)) for a in delivery.attempt_log]
    assert attempts == [(False, 500, True), (False, None, True), (True, 200, False)]
    assert "Sem resposta" in delivery.attempt_log[1].error
    assert delivery.status == "delivered"
    assert receiver.types() == ["access.blocked"]


def test_default_first_retry_is_within_thirty_seconds() -> None:
    assert access.RETRY_DELAYS[0] <= 30
    assert list(access.RETRY_DELAYS) == sorted(access.RETRY_DELAYS)


def test_gives_up_after_the_delays_then_staff_retry(
    suspended: Subscription, receiver: Receiver, org: Any, client: Any
) -> None:
    [invoice] = unpaid(suspended)
    receiver.script = [503, 503, 503, 503]
    with tenancy.unscoped():
        sub = db.session.get(Subscription, suspended.id)
        org.auto_reactivate = False
        db.session.commit()
    pay_by_gateway(client, invoice)
    with tenancy.scope(org.id):
        service.reactivate_subscription(sub.public_id, actor="t")
    for _ in range(3):
        run_due_retries()
    blocked, unblocked = deliveries()
    assert blocked.status == "delivered"
    assert unblocked.status == "failed"
    assert [a.status_code for a in unblocked.attempt_log] == [503] * 4
    assert not db.session.execute(select(PendingJob)).first()

    with tenancy.scope(org.id):
        with pytest.raises(service.Conflict):
            access.retry_delivery(blocked.public_id, actor="t")  # superseded
        access.retry_delivery(unblocked.public_id, actor="user:ana@x")
    assert deliveries()[1].status == "delivered"
    assert receiver.types() == ["access.blocked", "access.unblocked"]


def test_unblock_waits_for_the_block_it_undoes(
    org: Any, receiver: Receiver, make_customer: Any, client: Any
) -> None:
    receiver.script = [500]
    subscription = subscribe_and_suspend(org, make_customer(org), 35, interval="year")
    [invoice] = unpaid(subscription)
    pay_by_gateway(client, invoice)
    # The unblock went out only after the pending block was delivered.
    assert receiver.types() == ["access.blocked", "access.unblocked"]
    assert [d.status for d in deliveries()] == ["delivered", "delivered"]


def test_in_process_timer_retries_without_redis(
    make_app: Any, org: Any, receiver: Receiver, make_customer: Any
) -> None:
    receiver.script = [500]
    timer_app = make_app(
        AGNOZYS_JOB_TIMER=True,
        AGNOZYS_JOB_TIMER_SECONDS=0.1,
        AGNOZYS_ACCESS_RETRY_DELAYS=(0.2,),
    )
    try:
        with timer_app.app_context():
            subscribe_and_suspend(org, make_customer(org), 35)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(receiver.accepted) < 1:
                time.sleep(0.1)
        # The receiver answers before the job writes the attempt down.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            db.session.rollback()
            if [d.attempts for d in deliveries()] == [2]:
                break
            time.sleep(0.1)
    finally:
        timer_app.extensions["agnozys_job_timer"].set()
    assert receiver.types() == ["access.blocked"]
    assert [d.attempts for d in deliveries()] == [2]


def test_webhook_blocker_requires_url_and_secret(make_app: Any) -> None:
    with pytest.raises(plugins.PluginError) as caught:
        make_app(AGNOZYS_ACCESS_WEBHOOK_URL=None, AGNOZYS_ACCESS_WEBHOOK_SECRET="")
    message = str(caught.value)
    assert "AGNOZYS_ACCESS_WEBHOOK_URL" in message
    assert "AGNOZYS_ACCESS_WEBHOOK_SECRET" in message
    assert "defina" in message


def test_log_blocker_confirms(make_app: Any, org: Any, caplog: Any) -> None:
    import logging

    from agnozys.hookspecs import AccessChange

    log_app = make_app(AGNOZYS_ACCESS_BLOCKER="log")
    change = AccessChange(
        delivery_id="dlv_x",
        type="access.blocked",
        organization_id=org.id,
        customer_id="cus_x",
        customer_external_id="crm-1",
        subscription_id="sub_x",
        at=utcnow(),
    )
    with log_app.app_context(), caplog.at_level(logging.INFO):
        assert plugins.hook().agnozys_block_access(change=change) is True
        assert plugins.hook().agnozys_unblock_access(change=change) is True
    assert "access.blocked" in caplog.text and "crm-1" in caplog.text


@pytest.mark.redis
def test_rq_mode_schedules_retries_with_enqueue_at(
    make_app: Any, org: Any, receiver: Receiver, make_customer: Any
) -> None:
    import os

    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        pytest.skip("REDIS_TEST_URL not set")
    connection = Redis.from_url(url)
    connection.flushdb()
    receiver.script = [500]
    rq_app = make_app(REDIS_URL=url)
    with rq_app.app_context():
        subscribe_and_suspend(org, make_customer(org), 35)
        queue = Queue(jobs.QUEUE_NAME, connection=connection)
        # The commit woke a drain, which hands the delivery job to RQ; run
        # both here as a worker would.
        [drain] = queue.jobs
        drain.delete()
        jobs.execute(*drain.args)
        [job] = [j for j in queue.jobs if j.args[0] == "access.deliver"]
        jobs.execute(*job.args)
        registry = ScheduledJobRegistry(queue=queue)
        [scheduled_id] = registry.get_job_ids()
        when = registry.get_scheduled_time(scheduled_id)
        assert when - utcnow() < timedelta(seconds=30)
        retry = queue.fetch_job(scheduled_id)
        assert retry.args[0] == "access.deliver"
        jobs.execute(*retry.args)
    connection.flushdb()
    assert receiver.types() == ["access.blocked"]
    assert [d.attempts for d in deliveries()] == [2]


def test_concurrent_jobs_send_each_delivery_once(
    suspended: Subscription, receiver: Receiver, app: Any, is_postgres: bool
) -> None:
    if not is_postgres:
        pytest.skip("row locks need PostgreSQL")
    [delivery] = deliveries()
    delivery_id = delivery.id
    with tenancy.unscoped():
        db.session.execute(update(AccessDelivery).values(status="pending", attempts=1))
        db.session.commit()
    receiver.accepted.clear()

    def run() -> None:
        with app.app_context():
            jobs.execute("access.deliver", {"delivery_id": delivery_id})

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert receiver.types() == ["access.blocked"]
    assert [d.attempts for d in deliveries()] == [2]
