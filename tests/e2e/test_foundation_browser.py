"""Issue 2 in a real browser: log in, Cobranças, filter, sort, invoice, payment link.

Runs against the demo data ``flask demo`` loads (see tests/e2e/conftest.py).
The screenshots it takes are the README's (docs/screenshots/).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from agnozys.demo import DEMO_EMAIL, DEMO_ORG, DEMO_PASSWORD

PHONE = {"width": 390, "height": 844}


def brl(text: str) -> Decimal:
    """Read ``R$ 1.234,56`` back into a number."""
    match = re.search(r"R\$\s*([\d.]+,\d{2})", text)
    assert match, f"no BRL amount in {text!r}"
    return Decimal(match.group(1).replace(".", "").replace(",", "."))


def open_cobrancas(page) -> None:
    """Reach Financeiro > Cobranças the way a person does, from the menu."""
    if "/cobrancas" in page.url:
        return
    nav = page.get_by_role("navigation", name="Navegação principal")
    link = nav.get_by_role("link", name="Cobranças", exact=True)
    if not link.is_visible():
        nav.locator("summary", has_text="Financeiro").click()
    link.click()
    page.wait_for_url(re.compile(r"/cobrancas/?(\?.*)?$"))


def rows(page):
    return page.locator("#invoice-list tbody tr.invoice-row")


@pytest.fixture
def staff_page(page, login):
    login(page, DEMO_EMAIL, DEMO_PASSWORD)
    return page


def test_login_page_then_demo_owner_reaches_cobrancas(
    page, login, screenshot, publish_screenshot
):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("button", name="Entrar")).to_be_visible()
    publish_screenshot(screenshot(page, "login"))

    login(page, DEMO_EMAIL, DEMO_PASSWORD)
    expect(page.locator("header")).to_contain_text(DEMO_ORG)
    open_cobrancas(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Cobranças")
    expect(rows(page).first).to_be_visible()
    assert int(page.get_by_test_id("invoice-count").inner_text().replace(".", "")) > 0
    expect(page.get_by_test_id("invoice-total")).to_contain_text("R$ ")


def test_filter_overdue_then_sort_by_amount_swaps_the_table_and_pushes_the_url(
    staff_page, screenshot, publish_screenshot
):
    page = staff_page
    open_cobrancas(page)
    all_count = page.get_by_test_id("invoice-count").inner_text()
    # A marker that a full page load would wipe: proves htmx swapped the table.
    page.evaluate("window.__agnozysMarker = 'kept'")

    page.get_by_role("navigation", name="Filtrar por situação").get_by_role(
        "link", name="Vencidas"
    ).click()
    page.wait_for_url(re.compile(r"status=overdue"))

    tab = page.get_by_role("link", name="Vencidas", exact=True)
    expect(tab).to_have_attribute("aria-current", "true")
    expect(rows(page).first).to_be_visible()
    badges = rows(page).locator(".badge").all_inner_texts()
    assert badges and set(badges) == {"Vencida"}
    assert page.get_by_test_id("invoice-count").inner_text() != all_count
    assert page.evaluate("window.__agnozysMarker") == "kept"

    page.locator("th").filter(has_text="Valor").get_by_role("link").click()
    page.wait_for_url(re.compile(r"sort=-amount"))
    assert "status=overdue" in page.url
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Valor")
    amounts = [brl(t) for t in rows(page).locator("td:nth-child(5)").all_inner_texts()]
    assert len(amounts) > 1 and amounts == sorted(amounts, reverse=True)
    assert page.evaluate("window.__agnozysMarker") == "kept"
    publish_screenshot(screenshot(page, "cobrancas", full_page=False))

    # Back restores the previous state (Vencidas by due date); forward redoes.
    page.go_back()
    page.wait_for_url(re.compile(r"status=overdue(?!.*sort=)"))
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Vencimento")
    expect(page.get_by_role("link", name="Vencidas", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    page.go_forward()
    page.wait_for_url(re.compile(r"sort=-amount"))
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Valor")

    # A reload shows the same state from the URL alone.
    page.reload()
    expect(page.get_by_role("link", name="Vencidas", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    reloaded = [brl(t) for t in rows(page).locator("td:nth-child(5)").all_inner_texts()]
    assert reloaded == amounts


def test_search_by_customer_name_narrows_the_list(staff_page):
    page = staff_page
    open_cobrancas(page)
    name = rows(page).first.locator("td:nth-child(2) a").inner_text()

    page.get_by_label("Buscar por cliente ou CPF/CNPJ").fill(name)
    page.get_by_role("button", name="Buscar").click()
    page.wait_for_url(re.compile(r"q="))

    expect(rows(page).first).to_be_visible()
    customers = set(rows(page).locator("td:nth-child(2) a").all_inner_texts())
    assert customers == {name}


def test_invoice_page_and_its_payment_link_on_a_phone(
    staff_page, new_page, live_server, screenshot, publish_screenshot
):
    page = staff_page
    page.goto("/cobrancas/?status=overdue&sort=-amount")
    first = rows(page).first
    number = first.locator("td:first-child a").inner_text()
    first.locator("td:first-child a").click()
    page.wait_for_url(re.compile(r"/cobrancas/inv_"))

    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Cobrança nº {number}"
    )
    expect(page.locator("h1 .badge")).to_have_text("Vencida")
    amount_due = page.get_by_test_id("amount-due").inner_text()
    due_day = (
        page.locator("section[aria-labelledby=details-title] dt")
        .filter(has_text=re.compile(r"^Vencimento$"))
        .locator("xpath=following-sibling::dd[1]")
        .inner_text()
    )
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4}", due_day)
    link = page.locator("#payment-url").input_value()
    assert link.startswith(live_server.url + "/pay/")
    expect(page.get_by_role("button", name="Copiar link")).to_be_visible()
    expect(page.locator("ol.timeline li").first).to_be_visible()
    publish_screenshot(screenshot(page, "invoice"))

    phone = new_page(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    phone.goto(link)

    expect(phone.locator(".pay-merchant")).to_have_text(DEMO_ORG)
    expect(phone.locator(".pay-status .badge")).to_have_text("Vencida")
    expect(phone.get_by_test_id("amount-due")).to_have_text(amount_due)
    expect(phone.get_by_test_id("due-date")).to_have_text(due_day)
    assert re.fullmatch(r"R\$ \d{1,3}(\.\d{3})*,\d{2}", amount_due)
    # Reads well on a phone: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    publish_screenshot(screenshot(phone, "payment-link-phone"))


def test_filters_and_sorting_work_without_javascript(new_page, login):
    page = new_page(java_script_enabled=False)
    login(page, DEMO_EMAIL, DEMO_PASSWORD)
    page.goto("/cobrancas/")

    page.get_by_role("link", name="Vencidas", exact=True).click()
    page.wait_for_url(re.compile(r"status=overdue"))
    page.locator("th").filter(has_text="Valor").get_by_role("link").click()
    page.wait_for_url(re.compile(r"sort=-amount"))

    badges = rows(page).locator(".badge").all_inner_texts()
    assert badges and set(badges) == {"Vencida"}
    amounts = [brl(t) for t in rows(page).locator("td:nth-child(5)").all_inner_texts()]
    assert amounts == sorted(amounts, reverse=True)
