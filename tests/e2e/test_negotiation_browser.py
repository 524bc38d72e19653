"""Negotiation in a real browser: live preview, split editor, payment links."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from agnozys import clock, tenancy
from agnozys.extensions import db
from agnozys.models import Customer

expect: Any = None
PlaywrightError: Any = Exception
try:  # the harness skips every test when Playwright is missing
    from playwright.sync_api import Error as PlaywrightError
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
                ("instant", "Inês Imediata"),
                ("late", "Lauro Lento"),
                ("hurry", "Helena Apressada"),
                ("double", "Davi Duplo"),
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


# Runs in the browser: the moment the editor's date field is inserted, set it
# and fire `change`, as a user (or autofill) acting at once would. The observer
# runs right after the swap's task, before any timer, so it catches the field
# before a delayed htmx settle would have wired it.
TYPE_ON_ARRIVAL = """(value) => {
  new MutationObserver((records, observer) => {
    const field = document.querySelector(
      '[data-testid=reschedule-editor] input[name=due_date]');
    if (!field) return;
    observer.disconnect();
    field.value = value;
    field.dispatchEvent(new Event('change', {bubbles: true}));
  }).observe(document.body, {childList: true, subtree: true});
}"""


def test_editor_reacts_to_a_date_typed_the_moment_it_opens(
    page: Any, live_server: Any, login: Any
) -> None:
    data = live_server.data["instant"]
    login(page)
    page.goto(f"/cobrancas/{data['id']}")
    page.evaluate(TYPE_ON_ARRIVAL, day(live_server, 5).isoformat())
    page.get_by_role("link", name="Atualizar vencimento").click()
    expect(page.get_by_test_id("reschedule-editor")).to_be_visible()
    expect(page.get_by_test_id("preview-total")).to_have_text("R$ 1.035,00")


def test_a_late_answer_for_an_older_choice_does_not_overwrite_the_preview(
    page: Any, live_server: Any, login: Any
) -> None:
    """On a slow line the preview for the date alone may answer after the one
    for date plus waiver; the staff member must still see the waiver."""
    data = live_server.data["late"]
    held: list[Any] = []

    def hold_unwaived(route: Any) -> None:
        if "waive=interest" in route.request.url:
            route.continue_()
        else:
            held.append(route)

    login(page)
    page.goto(f"/cobrancas/{data['id']}")
    page.get_by_role("link", name="Atualizar vencimento").click()
    editor = page.get_by_test_id("reschedule-editor")
    expect(editor).to_be_visible()
    page.route("**/vencimento/previa?*", hold_unwaived)

    editor.get_by_label("Nova data de vencimento").fill(day(live_server, 5).isoformat())
    editor.get_by_label("Juros", exact=True).check()
    expect(page.get_by_test_id("preview-total")).to_have_text("R$ 1.020,00")
    assert held, "the date-only preview request was never sent"

    for route in held:  # the older answers finally arrive
        with contextlib.suppress(PlaywrightError):  # htmx may have dropped it
            route.continue_()
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    expect(page.get_by_test_id("preview-total")).to_have_text("R$ 1.020,00")
    expect(page.get_by_test_id("preview-interest")).to_contain_text("isentos")


def test_confirming_while_a_preview_is_still_loading_creates_the_agreement(
    page: Any, live_server: Any, login: Any
) -> None:
    """The click on Confirmar must not wait behind, or be lost to, a preview
    that is still on its way."""
    data = live_server.data["hurry"]
    held: list[Any] = []
    login(page)
    page.goto(f"/cobrancas/{data['id']}")
    page.get_by_role("link", name="Acordo", exact=True).click()
    editor = page.locator(".agreement-form")
    expect(editor.get_by_test_id("part-amount")).to_have_count(2)
    page.route("**/acordo?*", lambda route: held.append(route))  # re-render, held

    editor.get_by_label("Juros", exact=True).check()
    editor.get_by_label("Nada", exact=True).check()  # changed her mind
    page.wait_for_function("() => document.querySelector('.htmx-request')")
    editor.get_by_test_id("agreement-confirm").click()
    expect(page.locator(".flash-success")).to_contain_text("Acordo criado: 2 parcelas")
    assert held, "the re-render request was never sent"
    for route in held:
        with contextlib.suppress(PlaywrightError):
            route.continue_()
    expect(page.locator(".flash-success")).to_contain_text("Acordo criado: 2 parcelas")


def test_a_double_click_on_confirmar_saves_once_without_a_conflict(
    page: Any, live_server: Any, login: Any
) -> None:
    data = live_server.data["double"]
    login(page)
    page.goto(f"/cobrancas/{data['id']}")
    page.get_by_role("link", name="Atualizar vencimento").click()
    editor = page.get_by_test_id("reschedule-editor")
    editor.get_by_label("Nova data de vencimento").fill(day(live_server, 5).isoformat())
    expect(page.get_by_test_id("preview-total")).to_have_text("R$ 1.035,00")

    editor.get_by_role("button", name="Confirmar novo vencimento").dblclick()
    expect(page.locator(".flash-success")).to_contain_text("Vencimento atualizado")
    expect(page.locator(".flash-error")).to_have_count(0)
    expect(page.locator(".timeline")).to_contain_text("Vencimento atualizado")
    assert page.locator(".timeline li", has_text="Vencimento atualizado").count() == 1
