"""Negotiation in a real browser: live preview, split editor, payment links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
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


@pytest.fixture(scope="module")
def live_server_setup() -> Callable[[Any], Any]:
    def setup(app: Any) -> dict[str, dict[str, str]]:
        from agnozys.demo import load_demo
        from agnozys.services.customers import search_key
        from agnozys.services.invoices import new_invoice

        org, _created = load_demo()
        today = clock.today(org.timezone)
        made: dict[str, dict[str, str]] = {}
        with tenancy.scope(org.id):
            for key, name in (
                ("reschedule", "Maria Remarcada"),
                ("split2", "João Duas Partes"),
                ("split3", "Rita Três Partes"),
                ("row", "Caio Da Lista"),
            ):
                customer = Customer(
                    organization_id=org.id,
                    name=name,
                    search_name=search_key(name),
                    email=f"{key}@example.com",
                )
                db.session.add(customer)
                db.session.flush()
                invoice = new_invoice(
                    organization=org,
                    customer=customer,
                    amount=100_000,
                    due_date=today - timedelta(days=40),
                    description=f"Mensalidade {key}",
                    fine_bp=200,
                    interest_bp=100,
                    actor="system",
                )
                made[key] = {
                    "id": invoice.public_id,
                    "token": invoice.payment_token,
                    "name": name,
                }
            db.session.commit()
        made["today"] = {"iso": today.isoformat()}
        return made

    return setup


def day(live_server: Any, offset: int) -> Any:
    from datetime import date

    return date.fromisoformat(live_server.data["today"]["iso"]) + timedelta(days=offset)


def test_reschedule_with_live_preview_and_waiver(
    page: Any, live_server: Any, login: Any, screenshot: Any
) -> None:
    data = live_server.data["reschedule"]
    new_date = day(live_server, 5)
    login(page)
    page.goto(f"/cobrancas/{data['id']}")
    expect(page.get_by_test_id("amount-due")).to_have_text("R$ 1.033,33")
    page.get_by_role("link", name="Atualizar vencimento").click()
    editor = page.get_by_test_id("reschedule-editor")
    expect(editor).to_be_visible()

    editor.get_by_label("Nova data de vencimento").fill(new_date.isoformat())
    expect(page.get_by_test_id("preview-total")).to_have_text("R$ 1.035,00")
    expect(page.get_by_test_id("preview-fine")).to_contain_text("R$ 20,00")
    expect(page.get_by_test_id("preview-interest")).to_contain_text("R$ 15,00")

    editor.get_by_label("Juros", exact=True).check()
    expect(page.get_by_test_id("preview-total")).to_have_text("R$ 1.020,00")
    expect(page.get_by_test_id("preview-interest")).to_contain_text("isentos")
    screenshot(page, "negotiation-reschedule-preview")

    editor.get_by_role("button", name="Confirmar novo vencimento").click()
    expect(page.locator(".flash-success")).to_contain_text("Vencimento atualizado")
    expect(page.get_by_test_id("amount-due")).to_have_text("R$ 1.020,00")
    expect(page.locator(".timeline")).to_contain_text("juros isentos")

    pay = page.context.new_page()
    pay.goto(f"/pay/{data['token']}")
    expect(pay.get_by_test_id("amount-due")).to_have_text("R$ 1.020,00")
    expect(pay.get_by_test_id("due-date")).to_have_text(new_date.strftime("%d/%m/%Y"))


def test_split_into_two_with_the_prefilled_even_split(
    page: Any, live_server: Any, login: Any
) -> None:
    data = live_server.data["split2"]
    login(page)
    page.goto(f"/cobrancas/{data['id']}")
    page.get_by_role("link", name="Acordo", exact=True).click()
    amounts = page.get_by_test_id("part-amount")
    expect(amounts).to_have_count(2)
    expect(amounts.nth(0)).to_have_value("516,67")
    expect(amounts.nth(1)).to_have_value("516,66")
    confirm = page.get_by_test_id("agreement-confirm")
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.locator(".flash-success")).to_contain_text("Acordo criado: 2 parcelas")

    pay = page.context.new_page()
    pay.goto(f"/pay/{data['token']}")
    expect(pay.locator("body")).to_contain_text("substituída por um acordo")
    expect(pay.locator(".pay-part")).to_have_count(2)
    expect(pay.locator(".pay-part").nth(0)).to_contain_text("R$ 516,67")
    pay.locator(".pay-part").nth(1).click()
    expect(pay.get_by_test_id("amount-due")).to_have_text("R$ 516,66")


def test_split_into_three_with_hand_edited_amounts(
    page: Any, live_server: Any, login: Any, screenshot: Any
) -> None:
    data = live_server.data["split3"]
    login(page)
    page.goto(f"/cobrancas/{data['id']}")
    page.get_by_role("link", name="Acordo", exact=True).click()
    page.get_by_label("Número de parcelas").fill("3")
    page.get_by_label("Número de parcelas").dispatch_event("change")
    amounts = page.get_by_test_id("part-amount")
    expect(amounts).to_have_count(3)
    expect(amounts.nth(0)).to_have_value("344,45")
    confirm = page.get_by_test_id("agreement-confirm")
    expect(confirm).to_be_enabled()

    amounts.nth(0).fill("400,00")
    expect(page.get_by_test_id("agreement-sum")).to_contain_text("passam R$ 55,55")
    expect(page.get_by_test_id("agreement-confirm")).to_be_disabled()
    screenshot(page, "negotiation-agreement-sum-off")

    page.get_by_test_id("part-amount").nth(1).fill("288,89")
    expect(page.get_by_test_id("agreement-sum")).to_contain_text(
        "somam R$ 1.033,33, o valor em aberto"
    )
    expect(page.get_by_test_id("agreement-confirm")).to_be_enabled()
    page.get_by_test_id("agreement-confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("Acordo criado: 3 parcelas")
    expect(page.locator("body")).to_contain_text(
        "Acordo Parte 3/3 — Mensalidade split3"
    )

    pay = page.context.new_page()
    pay.goto(f"/pay/{data['token']}")
    parts = pay.locator(".pay-part")
    expect(parts).to_have_count(3)
    expect(parts.nth(0)).to_contain_text("R$ 400,00")
    expect(parts.nth(1)).to_contain_text("R$ 288,89")
    expect(parts.nth(2)).to_contain_text("R$ 344,44")


def test_reschedule_inline_in_the_list_row(
    page: Any, live_server: Any, login: Any
) -> None:
    data = live_server.data["row"]
    login(page)
    page.goto("/cobrancas/?q=Caio")
    row = page.locator(f"#invoice-{data['id']}")
    expect(row).to_contain_text("R$ 1.033,33")
    row.get_by_role("link", name="Vencimento").click()
    editor = page.get_by_test_id("reschedule-editor")
    expect(editor).to_be_visible()
    editor.get_by_label("Nova data de vencimento").fill(day(live_server, 5).isoformat())
    editor.get_by_label("Tudo (multa e juros)").check()
    expect(page.get_by_test_id("preview-total")).to_have_text("R$ 1.000,00")
    editor.get_by_role("button", name="Confirmar novo vencimento").click()
    row = page.locator(f"#invoice-{data['id']}")
    expect(row).to_contain_text(day(live_server, 5).strftime("%d/%m/%Y"))
    expect(row).to_contain_text("Pendente")
    expect(page.get_by_test_id("reschedule-editor")).to_have_count(0)
