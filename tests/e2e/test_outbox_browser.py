"""Caixa de saída in a real browser: today's reminders, readable in place."""

from __future__ import annotations

from typing import Any

import pytest

from agnozys import clock, tenancy
from agnozys.extensions import db
from agnozys.models import Customer

expect: Any = None
try:  # the harness skips every test when Playwright is missing
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    pass

NAME = "Maria Aparecida dos Santos Figueiredo"


@pytest.fixture(scope="module")
def live_server_setup() -> Any:
    def setup(app: Any) -> dict[str, str]:
        from agnozys.demo import load_demo
        from agnozys.services import ladder
        from agnozys.services.customers import search_key
        from agnozys.services.invoices import new_invoice

        org, _ = load_demo()
        with tenancy.scope(org.id):
            customer = Customer(
                organization_id=org.id,
                name=NAME,
                search_name=search_key(NAME),
                email="maria.figueiredo@example.com",
            )
            db.session.add(customer)
            db.session.flush()
            new_invoice(
                organization=org,
                customer=customer,
                amount=34_990,
                due_date=clock.today(org.timezone),
                description="Mensalidade Plano Anual com personal trainer",
                fine_bp=org.fine_bp,
                interest_bp=org.interest_bp,
                actor="system",
            )
            db.session.commit()
        ladder.run_ladder()  # today's reminders, sent through the outbox
        return {}

    return setup


def test_a_reminder_wraps_inside_its_card(
    page: Any, login: Any, screenshot: Any
) -> None:
    login(page)
    page.set_viewport_size({"width": 800, "height": 900})
    page.goto("/caixa-de-saida")
    message = page.get_by_test_id("outbox-message").filter(has_text=NAME).first
    expect(message).to_contain_text("Pague pelo link")
    body = message.locator(".outbox-text")
    card, text = message.bounding_box(), body.bounding_box()
    assert card and text
    assert text["x"] + text["width"] <= card["x"] + card["width"]
    assert body.evaluate("el => el.scrollWidth <= el.clientWidth")
    screenshot(page, "outbox-reminder")
