"""Payments in a real browser: the sandbox button, comprovante upload and accept."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
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

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


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
            for key, name, days in (
                ("sandbox", "Paula Paga Agora", -40),
                ("proof", "Quitéria Comprovante", 3),
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
                    due_date=today + timedelta(days=days),
                    description=f"Mensalidade {key}",
                    fine_bp=200,
                    interest_bp=100,
                    actor="system",
                )
                made[key] = {"id": invoice.public_id, "token": invoice.payment_token}
            db.session.commit()
        return made

    return setup


def test_customer_pays_with_the_sandbox_button_and_sees_the_receipt(
    page: Any, live_server: Any, screenshot: Callable[..., Path]
) -> None:
    invoice = live_server.data["sandbox"]
    page.goto(f"/pay/{invoice['token']}")
    expect(page.get_by_test_id("amount-due")).to_have_text("R$ 1.033,33")
    screenshot(page, "payments-link-sandbox")

    page.get_by_role("button", name="Pagar (sandbox)").click()
    expect(page.get_by_role("heading", name="Recibo de pagamento")).to_be_visible()
    expect(page.locator(".receipt")).to_contain_text("R$ 1.033,33")
    assert page.url.endswith(f"/pay/{invoice['token']}")
    screenshot(page, "payments-receipt")


def test_staff_see_the_sandbox_payment_on_the_timeline(
    page: Any, live_server: Any, login: Callable[..., None]
) -> None:
    invoice = live_server.data["sandbox"]
    login(page)
    page.goto(f"/cobrancas/{invoice['id']}")
    expect(page.locator("body")).to_contain_text("Pagamento recebido")
    expect(page.locator("body")).to_contain_text("Gateway (sandbox)")


def test_customer_uploads_a_comprovante_and_staff_accept_it(
    new_page: Callable[..., Any],
    live_server: Any,
    login: Callable[..., None],
    screenshot: Callable[..., Path],
    tmp_path: Path,
) -> None:
    invoice = live_server.data["proof"]
    receipt = tmp_path / "comprovante.pdf"
    receipt.write_bytes(PDF)

    customer = new_page()
    customer.goto(f"/pay/{invoice['token']}")
    customer.get_by_label("Arquivo do comprovante").set_input_files(str(receipt))
    customer.get_by_role("button", name="Enviar comprovante").click()
    expect(customer.locator(".flashes")).to_contain_text("Comprovante recebido")
    expect(customer.locator(".proof-status")).to_contain_text("Aguardando análise")
    screenshot(customer, "payments-proof-uploaded")

    staff = new_page()
    login(staff)
    staff.goto(f"/cobrancas/{invoice['id']}")
    expect(staff.locator("#comprovantes")).to_contain_text("comprovante.pdf")
    screenshot(staff, "payments-proof-staff")
    staff.get_by_role("button", name="Aceitar e marcar paga").click()
    expect(staff.locator(".flashes")).to_contain_text(
        "Comprovante aceito: a cobrança está paga."
    )
    expect(staff.locator("body")).to_contain_text("Comprovante aceito")

    customer.reload()
    expect(customer.get_by_role("heading", name="Recibo de pagamento")).to_be_visible()
    expect(customer.locator(".receipt")).to_contain_text("R$ 1.000,00")
