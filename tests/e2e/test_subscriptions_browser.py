"""The panic button in a real browser: contact, suspend, pay, access back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agnozys import clock, tenancy
from agnozys.demo import load_demo
from agnozys.extensions import db
from agnozys.models import Customer, Invoice
from agnozys.services import subscriptions as service
from agnozys.services.customers import search_key
from tests.access_receiver import SECRET, Receiver

expect: Any = None
try:  # the harness skips every test when Playwright is missing
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    pass

NAME = "Academia Panico Teste"


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """The merchant's endpoint; the live server posts access changes to it."""
    server = Receiver().start()
    saved = {k: os.environ.get(k) for k in ("AGNOZYS_ACCESS_BLOCKER",)}
    os.environ["AGNOZYS_ACCESS_BLOCKER"] = "webhook"
    os.environ["AGNOZYS_ACCESS_WEBHOOK_URL"] = server.url
    os.environ["AGNOZYS_ACCESS_WEBHOOK_SECRET"] = SECRET
    yield server
    for name in ("AGNOZYS_ACCESS_WEBHOOK_URL", "AGNOZYS_ACCESS_WEBHOOK_SECRET"):
        os.environ.pop(name, None)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    server.stop()


@pytest.fixture(scope="module")
def live_server_setup(receiver: Receiver) -> Any:
    def setup(app: Any) -> dict[str, Any]:
        org, _ = load_demo()
        today = clock.today(org.timezone)
        with tenancy.scope(org.id):
            customer = Customer(
                organization_id=org.id,
                name=NAME,
                search_name=search_key(NAME),
                email="panico@example.com",
                external_id="crm-panico",
            )
            db.session.add(customer)
            db.session.commit()
            plan = service.create_plan(
                {"name": "Plano Anual", "amount": "1200.00", "interval": "year"},
                actor="demo",
            )
            subscription = service.create_subscription(
                {
                    "customer_id": customer.public_id,
                    "plan_id": plan.public_id,
                    "start_date": (today - timedelta(days=45)).isoformat(),
                },
                organization=org,
                actor="demo",
            )
            return {
                "customer": customer.public_id,
                "subscription": subscription.public_id,
            }

    return setup


def test_contact_suspend_pay_and_access_comes_back(
    page: Any, login: Any, live_server: Any, receiver: Receiver, screenshot: Any
) -> None:
    data = live_server.data
    login(page)

    # A call nobody answered, logged inline on the customer page.
    page.goto(f"/clientes/{data['customer']}")
    contacts = page.locator("#contatos")
    contacts.locator("select[name=channel]").select_option("call")
    contacts.locator("select[name=outcome]").select_option("no_answer")
    contacts.locator("input[name=note]").fill("Caixa postal")
    contacts.get_by_role("button", name="Registrar contato").click()
    page.locator("#contatos [role=status]").wait_for()
    assert "Sem resposta" in page.locator("[data-testid=contacts]").inner_text()

    # Still a candidate: suspend it from the list, through the confirmation.
    page.goto("/assinaturas")
    row = page.locator("[data-testid=candidates] tr", has_text=NAME)
    row.get_by_role("link", name="Suspender").click()
    expect(page.get_by_text("O que vai acontecer")).to_be_visible()
    assert (
        "Webhook assinado" in page.locator("[data-testid=suspend-effects]").inner_text()
    )
    page.get_by_role("button", name="Confirmar suspensão").click()
    page.get_by_text("Assinatura suspensa.").wait_for()
    delivery = page.locator("[data-testid=delivery]").first
    assert "access.blocked" in delivery.inner_text()
    assert "Confirmado" in delivery.inner_text()
    assert "200" in delivery.inner_text()
    screenshot(page, "subscription-suspended")
    assert receiver.types() == ["access.blocked"]
    assert receiver.accepted[0]["customer"]["external_id"] == "crm-panico"

    # The customer pays through the sandbox PSP on the payment link.
    with live_server.app_context(), tenancy.unscoped():
        token = db.session.execute(
            select(Invoice.payment_token).where(
                Invoice.description.like("Plano Anual%")
            )
        ).scalar_one()
    page.goto(f"/pay/{token}")
    page.get_by_role("button", name="Pagar (sandbox)").click()
    page.wait_for_load_state()

    page.goto(f"/assinaturas/{data['subscription']}")
    assert "Ativa" in page.locator("h1").inner_text()
    first = page.locator("[data-testid=delivery]").first
    assert "access.unblocked" in first.inner_text()
    assert "Confirmado" in first.inner_text()
    assert receiver.types() == ["access.blocked", "access.unblocked"]
    screenshot(page, "subscription-reactivated")
