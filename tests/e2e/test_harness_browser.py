"""The browser harness itself: server up, demo loaded, login works."""

from __future__ import annotations


def test_login_page_shows_the_form_in_portuguese(page, screenshot):
    page.goto("/login")
    assert page.locator("h1").inner_text() == "Agnozys"
    assert page.get_by_label("Senha").is_visible()
    assert screenshot(page, "harness-login").exists()


def test_demo_owner_can_log_in_and_wrong_password_is_refused(page, login):
    login(page, "dona@demo.agnozys.com.br", "senha-errada")
    assert "E-mail ou senha incorretos." in page.content()
    login(page)
    assert "/login" not in page.url
    assert "Academia Movimento" in page.locator("header").inner_text()
