"""Pagamentos a conciliar: flagged payments are listed until staff resolve them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from agnozys import signatures, tenancy
from agnozys.extensions import db
from agnozys.models import Invoice, InvoiceStatus
from agnozys.models.payments import Payment

SECRET = "sandbox-test-secret"


def deliver(client: Any, charge_id: str, amount: str, event_id: str) -> Any:
    body = json.dumps(
        {
            "id": event_id,
            "type": "payment.confirmed",
            "data": {
                "charge_id": charge_id,
                "amount": amount,
                "paid_at": datetime.now(UTC).isoformat(),
            },
        }
    ).encode()
    return client.post(
        "/webhooks/sandbox",
        data=body,
        headers={signatures.HEADER: signatures.sign(SECRET, body)},
    )


@pytest.fixture
def flagged(client: Any, org: Any, make_customer: Any, make_invoice: Any) -> Payment:
    invoice = make_invoice(org, make_customer(org, name="Paulo Pagou Menos"))
    db.session.refresh(invoice)
    deliver(client, invoice.gateway_charge_id, "10.00", "evt_short")
    with tenancy.unscoped():
        return db.session.query(Payment).one()


def test_flagged_payment_is_listed_with_its_reason(
    staff: Any, flagged: Payment
) -> None:
    page = staff.get("/conciliacao/").get_data(as_text=True)
    assert "Paulo Pagou Menos" in page
    assert "Valor diferente do devido" in page
    assert "R$ 10,00" in page
    assert "R$ 1.000,00" in page


def test_resolving_removes_it_from_the_list_and_notes_the_timeline(
    staff: Any, flagged: Payment
) -> None:
    response = staff.post(
        f"/conciliacao/{flagged.public_id}/resolver",
        data={"resolution": "refund", "note": "Pix devolvido"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Pagamento conciliado." in page
    assert "Nenhum pagamento a conciliar." in page
    db.session.refresh(flagged)
    assert flagged.status.value == "resolved"
    assert flagged.resolution == "refund"
    assert flagged.resolved_by.startswith("user:")
    invoice_page = staff.get(f"/cobrancas/{flagged.invoice.public_id}")
    assert "Pagamento conciliado" in invoice_page.get_data(as_text=True)


def test_resolution_must_be_chosen(staff: Any, flagged: Payment) -> None:
    response = staff.post(
        f"/conciliacao/{flagged.public_id}/resolver", data={"resolution": ""}
    )
    assert response.status_code == 422
    assert "Escolha estorno ou crédito." in response.get_data(as_text=True)


def test_htmx_resolve_answers_the_list_fragment(staff: Any, flagged: Payment) -> None:
    response = staff.post(
        f"/conciliacao/{flagged.public_id}/resolver",
        data={"resolution": "credit"},
        headers={"HX-Request": "true"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="reconciliation-list">')
    assert "Nenhum pagamento a conciliar." in page


def test_other_organizations_never_see_it(
    client: Any, auth: Any, other_org: Any, flagged: Payment
) -> None:
    from helpers import make_user

    auth.login(make_user(other_org, "owner", "dono@concorrente.test"))
    page = client.get("/conciliacao/").get_data(as_text=True)
    assert "Paulo Pagou Menos" not in page
    response = client.post(
        f"/conciliacao/{flagged.public_id}/resolver", data={"resolution": "refund"}
    )
    assert response.status_code == 404


def test_viewer_sees_but_cannot_resolve(
    client: Any, auth: Any, viewer: Any, flagged: Payment
) -> None:
    auth.login(viewer)
    page = client.get("/conciliacao/").get_data(as_text=True)
    assert "Paulo Pagou Menos" in page
    assert "Marcar conciliado" not in page
    response = client.post(
        f"/conciliacao/{flagged.public_id}/resolver", data={"resolution": "refund"}
    )
    assert response.status_code == 403


def test_canceled_invoice_payment_is_listed(
    staff: Any, client: Any, org: Any, make_customer: Any, make_invoice: Any
) -> None:
    invoice: Invoice = make_invoice(org, make_customer(org, name="Cancelado Pagou"))
    with tenancy.unscoped():
        invoice.status = InvoiceStatus.CANCELED
        db.session.commit()
    deliver(client, invoice.gateway_charge_id, "1000.00", "evt_late")
    page = staff.get("/conciliacao/").get_data(as_text=True)
    assert "Cancelado Pagou" in page
    assert "Cobrança cancelada" in page
