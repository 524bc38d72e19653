"""The sandbox gateway: a fake PSP that pays from the payment link."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import Event, Invoice, InvoiceStatus


def test_payment_link_shows_the_sandbox_button(
    client: Any, overdue_invoice: Invoice
) -> None:
    page = client.get(f"/pay/{overdue_invoice.payment_token}").get_data(as_text=True)
    assert "Pagar (sandbox)" in page
    assert f'action="/pay/{overdue_invoice.payment_token}/sandbox"' in page


def test_sandbox_button_pays_through_a_signed_webhook_and_shows_receipt(
    client: Any, overdue_invoice: Invoice
) -> None:
    token = overdue_invoice.payment_token
    response = client.post(f"/pay/{token}/sandbox")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/pay/{token}")
    page = client.get(f"/pay/{token}").get_data(as_text=True)
    assert "Recibo de pagamento" in page
    assert "R$ 1.033,33" in page

    db.session.refresh(overdue_invoice)
    assert overdue_invoice.status == InvoiceStatus.PAID
    assert overdue_invoice.payment_method == "sandbox"
    with tenancy.unscoped():
        received = db.session.execute(
            select(Event).where(
                Event.invoice_id == overdue_invoice.id,
                Event.type == "payment.received",
            )
        ).scalar_one()
    assert received.actor == "gateway:sandbox"
    assert received.data["amount"] == "1033.33"


def test_pressing_twice_pays_once(client: Any, overdue_invoice: Invoice) -> None:
    token = overdue_invoice.payment_token
    client.post(f"/pay/{token}/sandbox")
    client.post(f"/pay/{token}/sandbox")
    with tenancy.unscoped():
        types = list(
            db.session.execute(
                select(Event.type).where(Event.invoice_id == overdue_invoice.id)
            ).scalars()
        )
    assert types.count("payment.received") == 1
    assert "payment.flagged" not in types


def test_staff_see_the_payment_on_the_invoice_timeline(
    staff: Any, overdue_invoice: Invoice
) -> None:
    staff.post(f"/pay/{overdue_invoice.payment_token}/sandbox")
    page = staff.get(f"/cobrancas/{overdue_invoice.public_id}").get_data(as_text=True)
    assert "Pagamento recebido" in page
    assert "Gateway (sandbox)" in page


def test_sandbox_button_needs_csrf_token(
    make_app: Any, overdue_invoice: Invoice
) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        response = app.test_client().post(
            f"/pay/{overdue_invoice.payment_token}/sandbox"
        )
        assert response.status_code == 400
        db.session.remove()


def test_sandbox_route_is_gone_with_another_gateway(
    make_app: Any, overdue_invoice: Invoice
) -> None:
    app = make_app(
        AGNOZYS_GATEWAY="pix",
        AGNOZYS_PIX_KEY="52998224725",
        AGNOZYS_PIX_MERCHANT_NAME="Aurora",
        AGNOZYS_PIX_MERCHANT_CITY="Sao Paulo",
    )
    with app.app_context():
        client = app.test_client()
        token = overdue_invoice.payment_token
        assert client.post(f"/pay/{token}/sandbox").status_code == 404
        page = client.get(f"/pay/{token}").get_data(as_text=True)
        assert "Pagar (sandbox)" not in page
        assert "data:image/svg+xml" in page
        assert "br.gov.bcb.pix" in page
        db.session.remove()


def test_unknown_token_is_404(client: Any) -> None:
    assert client.post("/pay/" + "x" * 32 + "/sandbox").status_code == 404


def test_staff_of_another_organization_can_still_use_a_link(
    client: Any, auth: Any, other_org: Any, overdue_invoice: Invoice
) -> None:
    from tests.conftest import make_user

    auth.login(make_user(other_org, "owner", "dono@concorrente.test"))
    response = client.post(f"/pay/{overdue_invoice.payment_token}/sandbox")
    assert response.status_code == 303
    db.session.refresh(overdue_invoice)
    assert overdue_invoice.status == InvoiceStatus.PAID
