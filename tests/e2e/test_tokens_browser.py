"""Configurações > Tokens da API in a real browser: create, use, revoke."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from playwright.sync_api import expect

from agnozys.demo import DEMO_EMAIL, DEMO_PASSWORD


def api_status(base_url: str, secret: str) -> int:
    request = urllib.request.Request(
        base_url + "/api/v1/invoices?per_page=1",
        headers={"Authorization": f"Bearer {secret}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.load(response)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_owner_creates_a_token_uses_it_and_revokes_it(
    live_server, page, login, screenshot
):
    login(page, DEMO_EMAIL, DEMO_PASSWORD)
    nav = page.get_by_role("navigation", name="Navegação principal")
    nav.locator("summary", has_text="Configurações").click()
    nav.get_by_role("link", name="Tokens da API").click()
    page.wait_for_url(re.compile(r"/configuracoes/tokens$"))
    page.evaluate("window.__agnozysMarker = 'kept'")

    page.get_by_label("Nome").fill("ERP da escola")
    page.get_by_role("button", name="Criar token").click()

    secret_box = page.locator("#new-token")
    expect(secret_box).to_be_visible()
    secret = secret_box.input_value()
    assert secret.startswith("agz_")
    # htmx swapped the card in place: no page load happened.
    assert page.evaluate("window.__agnozysMarker") == "kept"
    row = page.locator("tbody tr", has_text="ERP da escola")
    expect(row).to_contain_text("Ativo")
    screenshot(page, "settings-tokens")
    assert api_status(live_server.url, secret) == 200

    page.reload()
    expect(page.locator("#new-token")).to_have_count(0)
    assert secret not in page.content()

    page.once("dialog", lambda dialog: dialog.accept())
    row = page.locator("tbody tr", has_text="ERP da escola")
    row.get_by_role("button", name="Revogar").click()

    expect(row).to_contain_text("Revogado")
    assert api_status(live_server.url, secret) == 401
