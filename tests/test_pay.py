"""The public payment link /pay/<token>: what the customer sees, no login."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from helpers import today
from sqlalchemy import func, select

from agnozys import hookimpl, tenancy
from agnozys.extensions import db
from agnozys.hookspecs import PaymentOption
from agnozys.models import Event, InvoiceStatus


def opened_events(invoice) -> int:
    with tenancy.unscoped():
        return db.session.execute(
            select(func.count(Event.id)).where(
                Event.invoice_id == invoice.id, Event.type == "link.opened"
            )
        ).scalar_one()


@pytest.fixture
def pending_invoice(org, make_customer, make_invoice):
    customer = make_customer(org, name="Nina Castro")
    return make_invoice(
        org, customer, amount=123_456, due_in=5, description="Mensalidade de abril"
    )


def pay(client, invoice):
    return client.get(f"/pay/{invoice.payment_token}")


def test_pending_invoice_shows_organization_amount_and_date(client, pending_invoice):
    response = pay(client, pending_invoice)
    assert response.status_code == 200
    html = response.text
    assert "Escola Aurora" in html
    assert "Mensalidade de abril" in html
    assert '<span class="badge badge-pending">Pendente</span>' in html
    assert 'data-testid="amount-due">R$ 1.234,56<' in html
    due = (today() + timedelta(days=5)).strftime("%d/%m/%Y")
    assert f'data-testid="due-date">{due}<' in html
    assert 'class="page-pay"' in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert 'lang="pt-BR"' in html


def test_overdue_invoice_shows_late_charges(client, overdue_invoice):
    html = pay(client, overdue_invoice).text
    assert '<span class="badge badge-overdue">Vencida</span>' in html
    assert 'data-testid="amount-due">R$ 1.033,33<' in html
    assert "R$ 20,00" in html and "R$ 13,33" in html


def test_link_keeps_the_token_private(client, pending_invoice):
    response = pay(client, pending_invoice)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]
    assert "noindex" in response.headers["X-Robots-Tag"]


@pytest.mark.parametrize(
    "token",
    [
        secrets.token_urlsafe(24),
        "x",
        "a" * 200,
        "%3Cscript%3E",
        "' OR 1=1 --",
    ],
)
def test_unknown_token_answers_404_in_portuguese(client, pending_invoice, token):
    response = client.get(f"/pay/{token}")
    assert response.status_code == 404
    assert "Link de pagamento não encontrado" in response.text
    assert "Escola Aurora" not in response.text
    assert "Nina Castro" not in response.text


def test_paid_invoice_shows_a_receipt(client, org, pending_invoice):
    with tenancy.scope(org.id):
        pending_invoice.status = InvoiceStatus.PAID
        pending_invoice.paid_at = datetime(2030, 3, 4, 15, 30, tzinfo=UTC)
        pending_invoice.paid_amount = 123_456
        pending_invoice.payment_method = "pix"
        db.session.commit()
    html = pay(client, pending_invoice).text
    assert "Recibo de pagamento" in html
    assert '<span class="badge badge-paid">Paga</span>' in html
    assert "R$ 1.234,56" in html
    assert "04/03/2030 12:30" in html  # São Paulo time
    assert "Pix" in html
    assert "Valor a pagar hoje" not in html


def test_canceled_invoice_lists_its_agreement_parts(
    client, org, make_customer, make_invoice
):
    customer = make_customer(org)
    original = make_invoice(org, customer, amount=100_000, due_in=-40)
    parts = [
        make_invoice(
            org,
            customer,
            amount=amount,
            due_in=due_in,
            description=f"Acordo Parte {n}",
            agreement_id=9,
        )
        for n, (amount, due_in) in enumerate([(51_667, 0), (51_666, 30)], start=1)
    ]
    with tenancy.scope(org.id):
        original.status = InvoiceStatus.CANCELED
        original.cancel_reason = "agreement"
        original.replaced_by_agreement_id = 9
        db.session.commit()
    html = pay(client, original).text
    assert '<span class="badge badge-canceled">Cancelada</span>' in html
    assert "substituída por um acordo" in html
    for part in parts:
        assert f'href="/pay/{part.payment_token}"' in html
    assert "Acordo Parte 1" in html and "R$ 516,67" in html
    assert "Acordo Parte 2" in html and "R$ 516,66" in html
    assert html.index("Acordo Parte 1") < html.index("Acordo Parte 2")
    assert (today() + timedelta(days=30)).strftime("%d/%m/%Y") in html


def test_canceled_invoice_without_agreement_says_nothing_is_due(
    client, org, pending_invoice
):
    with tenancy.scope(org.id):
        pending_invoice.status = InvoiceStatus.CANCELED
        db.session.commit()
    html = pay(client, pending_invoice).text
    assert "foi cancelada e não precisa ser paga" in html
    assert "Valor a pagar hoje" not in html


def test_opening_the_link_is_recorded_once_an_hour(client, org, pending_invoice):
    pay(client, pending_invoice)
    pay(client, pending_invoice)
    assert opened_events(pending_invoice) == 1
    with tenancy.unscoped():
        event = db.session.execute(
            select(Event).where(Event.type == "link.opened")
        ).scalar_one()
        assert event.actor == "customer:link"
        event.at = event.at - timedelta(hours=2)
        db.session.commit()
    pay(client, pending_invoice)
    assert opened_events(pending_invoice) == 2


def test_staff_preview_is_not_recorded_as_opened(staff, pending_invoice):
    assert pay(staff, pending_invoice).status_code == 200
    assert opened_events(pending_invoice) == 0


def test_other_organizations_staff_see_the_public_page_only(
    client, auth, other_org, pending_invoice
):
    from helpers import make_user

    make_user(other_org, "owner", "dono@concorrente.test")
    auth.login("dono@concorrente.test")
    html = pay(client, pending_invoice).text
    assert "Mensalidade de abril" in html
    # The public page never shows the staff bar of whoever is logged in.
    assert "Concorrente Ltda" not in html
    assert opened_events(pending_invoice) == 1


def test_html_in_description_comes_out_escaped(
    client, org, make_customer, make_invoice
):
    invoice = make_invoice(
        org, make_customer(org), description="<script>alert(1)</script>"
    )
    html = pay(client, invoice).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


class FakeGateway:
    @hookimpl
    def agnozys_gateway_payment_options(self, request):
        return [
            PaymentOption(
                kind="pix",
                title="Pix copia e cola",
                data={"code": f"PIX-{request.amount_due}"},
            ),
            PaymentOption(
                kind="link",
                title="Cartão",
                data={"url": "javascript:alert(1)", "label": "Pagar"},
            ),
            PaymentOption(
                kind="button",
                title="Checkout",
                data={"url": "https://psp.example/checkout/1"},
            ),
        ]


def test_gateway_payment_options_are_shown(app, client, pending_invoice):
    app.extensions["agnozys_plugins"].register(FakeGateway(), name="fake-gateway")
    html = pay(client, pending_invoice).text
    assert "Como pagar" in html
    assert "Pix copia e cola" in html
    assert 'data-copy="PIX-123456"' in html
    assert 'href="https://psp.example/checkout/1"' in html
    assert "javascript:alert" not in html


def test_no_payment_options_for_a_paid_invoice(app, client, org, pending_invoice):
    app.extensions["agnozys_plugins"].register(FakeGateway(), name="fake-gateway")
    with tenancy.scope(org.id):
        pending_invoice.status = InvoiceStatus.PAID
        db.session.commit()
    html = pay(client, pending_invoice).text
    assert "Como pagar" not in html
