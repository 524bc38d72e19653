"""The Pareto call list and the Painel in a real browser, with screenshots."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from agnozys import tenancy
from agnozys.demo import load_demo
from agnozys.extensions import db
from agnozys.models import Event, Invoice, InvoiceStatus, utcnow

expect: Any = None
try:  # the harness skips every test when Playwright is missing
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover
    pass


@pytest.fixture(scope="module")
def live_server_setup() -> Any:
    """The demo, with a history: invoices issued weeks ago, levers that worked."""

    def setup(app: Any) -> dict[str, Any]:
        org, _ = load_demo()
        now = utcnow()
        with tenancy.scope(org.id):
            db.session.execute(
                update(Invoice).values(created_at=now - timedelta(days=120))
            )
            pending = list(
                db.session.execute(
                    select(Invoice)
                    .where(Invoice.status == InvoiceStatus.PENDING)
                    .where(Invoice.due_date < (now - timedelta(days=20)).date())
                    .order_by(Invoice.id)
                    .limit(4)
                ).scalars()
            )
            # Four overdue invoices paid this week, one per lever.
            for index, invoice in enumerate(pending):
                paid_at = now - timedelta(hours=2 + index)
                lever = ("reminder.sent", "invoice.rescheduled", None, None)[index]
                if lever:
                    db.session.add(
                        Event(
                            organization_id=org.id,
                            invoice_id=invoice.id,
                            customer_id=invoice.customer_id,
                            type=lever,
                            at=paid_at - timedelta(days=1),
                        )
                    )
                if index == 2:
                    invoice.agreement_id = 1
                if index == 3:
                    invoice.subscription_id = 999
                    db.session.add(
                        Event(
                            organization_id=org.id,
                            subscription_id=999,
                            customer_id=invoice.customer_id,
                            type="subscription.suspended",
                            at=paid_at - timedelta(minutes=25),
                        )
                    )
                invoice.status = InvoiceStatus.PAID
                invoice.paid_at = paid_at
                invoice.paid_amount = invoice.amount
            db.session.commit()
        return {"org_id": org.id}

    return setup


def test_pareto_page_shows_the_call_list_and_chart(
    page, login, screenshot, publish_screenshot
):
    login(page)
    page.goto("/relatorios/pareto")

    assert page.locator("h1").inner_text() == "Quem ligar primeiro"
    chart = page.locator("[data-testid=pareto-chart]")
    assert chart.is_visible()
    assert "grupo dos 80%" in chart.locator("desc").text_content()
    rows = page.locator("[data-testid=pareto-row]")
    assert rows.count() >= 1
    assert "Ligar · grupo dos 80%" in rows.first.inner_text()

    path = screenshot(page, "reports-pareto")
    publish_screenshot(path)


def test_log_a_contact_without_leaving_the_pareto_page(page, login, screenshot):
    login(page)
    page.goto("/relatorios/pareto")
    url = page.url
    first = page.locator("[data-testid=pareto-row]").first

    first.get_by_text("Registrar contato").click()
    first.get_by_label("Resultado").select_option("no_answer")
    first.get_by_role("button", name="Salvar contato").click()

    first.get_by_text("Contato registrado.").wait_for()
    assert (
        "Ligação · Sem resposta"
        in first.locator("[data-testid=last-contact]").inner_text()
    )
    assert page.url == url
    screenshot(page, "reports-pareto-contact", full_page=False)


def test_painel_shows_levers_and_trend(page, login, screenshot, publish_screenshot):
    login(page)
    page.goto("/")

    assert page.url.rstrip("/").endswith("/painel")
    assert page.locator("[data-testid=figure-overdue]").is_visible()
    assert "R$" in page.locator("[data-testid=lever-reminder]").inner_text()
    assert "25 min" in page.locator("[data-testid=suspension-median]").inner_text()
    assert page.locator("[data-testid=trend-chart]").is_visible()

    path = screenshot(page, "reports-painel")
    publish_screenshot(path)

    page.locator("[data-testid=lever-reminder]").click()
    # count() would not wait for the new page; the expectation does.
    expect(page.locator("[data-testid=figure-row]")).to_have_count(1)


def test_aging_page(page, login, screenshot, publish_screenshot):
    login(page)
    page.goto("/relatorios/aging")

    assert page.locator("[data-testid=aging-chart]").is_visible()
    assert page.locator("[data-testid=aging-row]").count() == 4
    path = screenshot(page, "reports-aging")
    publish_screenshot(path)
