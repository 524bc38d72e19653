"""Negotiation in the staff UI: editors, htmx fragments, no-JS forms, roles."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from helpers import today
from sqlalchemy import func, select

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import Agreement, Event, Invoice, InvoiceStatus, Organization

HX = {"HX-Request": "true"}


def day(offset: int) -> str:
    return (today() + timedelta(days=offset)).isoformat()


def fresh(invoice: Invoice) -> Invoice:
    db.session.expire_all()
    with tenancy.unscoped():
        found = db.session.get(Invoice, invoice.id)
    assert found is not None
    return found


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def base(invoice: Invoice) -> str:
    return f"/cobrancas/{invoice.public_id}"


# --- Atualizar vencimento -----------------------------------------------------


def test_invoice_page_offers_the_negotiation_actions(
    staff: Any, overdue_invoice: Invoice
) -> None:
    page = text(staff.get(base(overdue_invoice)))
    for label in ("Atualizar vencimento", "Acordo", "Reenviar link", "Cancelar"):
        assert label in page
    assert f'href="{base(overdue_invoice)}/vencimento"' in page


def test_reschedule_editor_fragment_previews_before_saving(
    staff: Any, overdue_invoice: Invoice
) -> None:
    editor = staff.get(f"{base(overdue_invoice)}/vencimento", headers=HX)
    assert editor.status_code == 200
    html = text(editor)
    assert "<html" not in html
    assert 'data-testid="reschedule-editor"' in html
    assert "Nova data de vencimento" in html

    preview = staff.get(
        f"{base(overdue_invoice)}/vencimento/previa?due_date={day(5)}&waive=none",
        headers=HX,
    )
    html = text(preview)
    assert "R$ 20,00" in html and "R$ 15,00" in html
    assert "R$ 1.035,00" in html

    waived = text(
        staff.get(
            f"{base(overdue_invoice)}/vencimento/previa?due_date={day(5)}&waive=interest",
            headers=HX,
        )
    )
    assert "R$ 1.020,00" in waived and "isentos: R$ 15,00" in waived
    # Previewing changed nothing.
    assert fresh(overdue_invoice).due_date == today() - timedelta(days=40)


def test_preview_of_a_past_date_explains_the_problem(
    staff: Any, overdue_invoice: Invoice
) -> None:
    html = text(
        staff.get(
            f"{base(overdue_invoice)}/vencimento/previa?due_date={day(-1)}",
            headers=HX,
        )
    )
    assert "hoje ou uma data futura" in html


def test_confirming_from_a_row_swaps_the_row(
    staff: Any, overdue_invoice: Invoice
) -> None:
    response = staff.post(
        f"{base(overdue_invoice)}/vencimento",
        data={
            "due_date": day(5),
            "waive": "all",
            "ctx": "row",
            "version": overdue_invoice.version,
        },
        headers=HX,
    )
    assert response.status_code == 200
    html = text(response)
    assert html.lstrip().startswith("<tr") or "<tr id=" in html
    assert f'id="invoice-{overdue_invoice.public_id}"' in html
    assert "R$ 1.000,00" in html
    invoice = fresh(overdue_invoice)
    assert invoice.due_date.isoformat() == day(5)
    assert (invoice.frozen_fine, invoice.frozen_interest) == (0, 0)


def test_confirming_on_the_page_sends_htmx_to_the_updated_page(
    staff: Any, overdue_invoice: Invoice
) -> None:
    response = staff.post(
        f"{base(overdue_invoice)}/vencimento",
        data={"due_date": day(5), "waive": "none"},
        headers=HX,
    )
    assert response.headers["HX-Location"] == base(overdue_invoice)
    page = text(staff.get(base(overdue_invoice)))
    assert "Vencimento atualizado" in page
    assert "R$ 1.035,00" in page


def test_without_javascript_the_form_previews_then_saves_and_redirects(
    staff: Any, overdue_invoice: Invoice
) -> None:
    form = text(staff.get(f"{base(overdue_invoice)}/vencimento"))
    assert "<html" in form and 'name="csrf_token"' in form
    preview = staff.post(
        f"{base(overdue_invoice)}/vencimento",
        data={"due_date": day(5), "waive": "fine", "action": "preview"},
    )
    assert "R$ 1.015,00" in text(preview)
    assert fresh(overdue_invoice).frozen_interest == 0
    saved = staff.post(
        f"{base(overdue_invoice)}/vencimento",
        data={"due_date": day(5), "waive": "fine", "action": "save"},
    )
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(base(overdue_invoice))
    assert fresh(overdue_invoice).frozen_interest == 1_500


@pytest.mark.parametrize(
    ("value", "message"),
    [("PAST", "hoje ou uma data futura"), ("2027-02-30", "Data inexistente")],
)
def test_bad_dates_are_shown_next_to_the_field_and_nothing_changes(
    staff: Any, overdue_invoice: Invoice, value: str, message: str
) -> None:
    response = staff.post(
        f"{base(overdue_invoice)}/vencimento",
        data={"due_date": day(-1) if value == "PAST" else value},
    )
    assert response.status_code == 422
    assert message in text(response)
    assert fresh(overdue_invoice).version == overdue_invoice.version


def test_a_stale_editor_is_told_someone_else_changed_the_invoice(
    staff: Any, overdue_invoice: Invoice
) -> None:
    old_version = overdue_invoice.version
    staff.post(f"{base(overdue_invoice)}/vencimento", data={"due_date": day(3)})
    response = staff.post(
        f"{base(overdue_invoice)}/vencimento",
        data={"due_date": day(9), "version": old_version},
        headers=HX,
    )
    assert "alterada por outra pessoa" in text(response)
    assert fresh(overdue_invoice).due_date.isoformat() == day(3)


def test_final_invoices_show_a_clear_message_instead_of_an_editor(
    staff: Any, org: Organization, overdue_invoice: Invoice
) -> None:
    staff.post(f"{base(overdue_invoice)}/cancelar", data={"reason": "Duplicada"})
    editor = text(staff.get(f"{base(overdue_invoice)}/vencimento", headers=HX))
    assert "está cancelada e não pode mais ser alterada" in editor
    response = staff.post(
        f"{base(overdue_invoice)}/vencimento", data={"due_date": day(3)}
    )
    assert response.status_code == 409
    assert "cancelada" in text(response)
    page = text(staff.get(base(overdue_invoice)))
    assert "Atualizar vencimento" not in page


# --- Acordo -------------------------------------------------------------------


def test_agreement_editor_prefills_an_even_monthly_split(
    staff: Any, overdue_invoice: Invoice
) -> None:
    html = text(staff.get(f"{base(overdue_invoice)}/acordo", headers=HX))
    assert 'value="516,67"' in html and 'value="516,66"' in html
    assert f'value="{day(0)}"' in html
    assert "R$ 1.033,33" in html
    assert 'data-testid="agreement-confirm"' in html
    assert "disabled" not in html.split('data-testid="agreement-confirm"')[1][:40]

    three = text(
        staff.get(f"{base(overdue_invoice)}/acordo?count=3&waive=all", headers=HX)
    )
    assert three.count('data-testid="part-amount"') == 3
    assert 'value="333,34"' in three and 'value="333,33"' in three


def test_running_sum_disables_confirm_until_parts_add_up(
    staff: Any, overdue_invoice: Invoice
) -> None:
    url = f"{base(overdue_invoice)}/acordo/soma"
    off = text(
        staff.get(
            url,
            query_string={
                "count": 2,
                "amount_0": "500,00",
                "amount_1": "500,00",
                "due_date_0": day(1),
                "due_date_1": day(30),
            },
            headers=HX,
        )
    )
    assert "faltam R$ 33,33" in off
    assert "disabled" in off.split('data-testid="agreement-confirm"')[1][:40]
    ok = text(
        staff.get(
            url,
            query_string={"count": 2, "amount_0": "533,33", "amount_1": "500,00"},
            headers=HX,
        )
    )
    assert "somam R$ 1.033,33" in ok
    assert "disabled" not in ok.split('data-testid="agreement-confirm"')[1][:40]


def test_confirming_an_agreement_creates_the_parts_and_cancels_the_original(
    staff: Any, overdue_invoice: Invoice
) -> None:
    response = staff.post(
        f"{base(overdue_invoice)}/acordo",
        data={
            "count": 3,
            "waive": "none",
            "amount_0": "433,33",
            "due_date_0": day(0),
            "amount_1": "300,00",
            "due_date_1": day(30),
            "amount_2": "300,00",
            "due_date_2": day(60),
        },
    )
    assert response.status_code == 303
    original = fresh(overdue_invoice)
    assert original.status == InvoiceStatus.CANCELED
    assert original.cancel_reason == "agreement"
    page = text(staff.get(base(overdue_invoice)))
    assert "Acordo criado: 3 parcelas" in page
    assert "Acordo Parte 2/3 — Mensalidade" in page
    assert "acordo" in page


def test_parts_that_do_not_add_up_are_refused_with_the_difference(
    staff: Any, overdue_invoice: Invoice
) -> None:
    response = staff.post(
        f"{base(overdue_invoice)}/acordo",
        data={
            "count": 2,
            "amount_0": "500,00",
            "due_date_0": day(1),
            "amount_1": "500,001",
            "due_date_1": day(-3),
        },
    )
    assert response.status_code == 422
    html = text(response)
    assert "duas casas decimais" in html
    assert "hoje ou uma data futura" in html
    with tenancy.unscoped():
        assert db.session.scalar(select(func.count()).select_from(Agreement)) == 0
    assert fresh(overdue_invoice).status == InvoiceStatus.PENDING


def test_more_than_24_parts_is_refused(staff: Any, overdue_invoice: Invoice) -> None:
    html = text(staff.get(f"{base(overdue_invoice)}/acordo?count=25", headers=HX))
    assert "de 1 a 24 parcelas" in html
    response = staff.post(f"{base(overdue_invoice)}/acordo", data={"count": 25})
    assert response.status_code == 422


# --- Cancelar, Reenviar -------------------------------------------------------


def test_cancel_needs_a_reason_in_the_ui(staff: Any, overdue_invoice: Invoice) -> None:
    response = staff.post(f"{base(overdue_invoice)}/cancelar", data={"reason": ""})
    assert response.status_code == 422
    assert fresh(overdue_invoice).status == InvoiceStatus.PENDING
    done = staff.post(
        f"{base(overdue_invoice)}/cancelar", data={"reason": "Serviço não prestado"}
    )
    assert done.status_code == 303
    assert fresh(overdue_invoice).cancel_reason == "Serviço não prestado"


def test_resend_from_the_page_records_it_on_the_timeline(
    staff: Any, overdue_invoice: Invoice
) -> None:
    response = staff.post(f"{base(overdue_invoice)}/reenviar", headers=HX)
    assert "Link reenviado para" in text(response)
    with tenancy.unscoped():
        types = db.session.scalars(
            select(Event.type).where(Event.invoice_id == overdue_invoice.id)
        ).all()
    assert "link.resent" in types
    page = text(staff.get(base(overdue_invoice)))
    assert "Link de pagamento reenviado" in page


# --- roles --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", "/vencimento"),
        ("post", "/vencimento"),
        ("get", "/acordo"),
        ("post", "/acordo"),
        ("post", "/cancelar"),
        ("post", "/reenviar"),
    ],
)
def test_viewers_cannot_negotiate(
    client: Any,
    auth: Any,
    viewer: Any,
    overdue_invoice: Invoice,
    method: str,
    suffix: str,
) -> None:
    auth.login(viewer)
    response = getattr(client, method)(
        base(overdue_invoice) + suffix, data={"due_date": day(3), "reason": "x"}
    )
    assert response.status_code == 403
    assert fresh(overdue_invoice).version == overdue_invoice.version
    page = text(client.get(base(overdue_invoice)))
    assert "Atualizar vencimento" not in page


def test_another_organizations_invoice_is_not_found(
    client: Any,
    auth: Any,
    owner: Any,
    other_org: Organization,
    make_customer: Any,
    make_invoice: Any,
) -> None:
    stranger = make_invoice(other_org, make_customer(other_org))
    auth.login(owner)
    assert client.get(f"{base(stranger)}/vencimento").status_code == 404
    response = client.post(f"{base(stranger)}/cancelar", data={"reason": "x"})
    assert response.status_code == 404
    assert fresh(stranger).status == InvoiceStatus.PENDING


# --- Configurações > Cobrança -------------------------------------------------


def test_owner_sets_rates_and_is_warned_about_a_fine_above_two_percent(
    staff: Any, org: Organization
) -> None:
    page = staff.get("/configuracoes/cobranca")
    assert page.status_code == 200
    assert 'value="2,00"' in text(page)
    response = staff.post(
        "/configuracoes/cobranca",
        data={"fine_percent": "10", "interest_percent": "1,5"},
        follow_redirects=True,
    )
    html = text(response)
    assert "Taxas salvas" in html
    assert "Código de Defesa do Consumidor" in html
    db.session.expire_all()
    with tenancy.unscoped():
        saved = db.session.get(Organization, org.id)
    assert saved is not None
    assert (saved.fine_bp, saved.interest_bp) == (1_000, 150)


def test_bad_rates_are_refused_next_to_the_field(staff: Any, org: Organization) -> None:
    response = staff.post(
        "/configuracoes/cobranca", data={"fine_percent": "-1", "interest_percent": ""}
    )
    assert response.status_code == 422
    html = text(response)
    assert "não pode ser negativa" in html and "Informe a taxa" in html


def test_agents_cannot_change_rates(client: Any, auth: Any, agent: Any) -> None:
    auth.login(agent)
    assert client.get("/configuracoes/cobranca").status_code == 403
    response = client.post(
        "/configuracoes/cobranca", data={"fine_percent": "1", "interest_percent": "1"}
    )
    assert response.status_code == 403


def test_timeline_reads_the_changes_in_portuguese(
    staff: Any, overdue_invoice: Invoice
) -> None:
    staff.post(
        f"{base(overdue_invoice)}/vencimento",
        data={"due_date": day(5), "waive": "fine"},
    )
    staff.post(
        f"{base(overdue_invoice)}/acordo",
        data={
            "count": 2,
            "amount_0": "507,50",
            "due_date_0": day(5),
            "amount_1": "507,50",
            "due_date_1": day(35),
        },
    )
    page = text(staff.get(base(overdue_invoice)))
    old = (today() - timedelta(days=40)).strftime("%d/%m/%Y")
    new = (today() + timedelta(days=5)).strftime("%d/%m/%Y")
    assert f"De {old} (R$ 1.033,33) para {new} (R$ 1.015,00); multa isenta." in page
    assert "Multa isenta: R$ 20,00; juros isentos: R$ 0,00." in page
    assert "2 parcelas somando R$ 1.015,00" in page
    assert "Motivo: acordo." in page
    assert "Motivo do cancelamento</dt><dd>acordo</dd>" in page


# --- the customer's payment link ----------------------------------------------


def test_payment_link_keeps_its_url_and_shows_the_new_date_and_total(
    staff: Any, client: Any, overdue_invoice: Invoice
) -> None:
    token = overdue_invoice.payment_token
    staff.post(f"{base(overdue_invoice)}/vencimento", data={"due_date": day(5)})
    assert fresh(overdue_invoice).payment_token == token
    page = text(client.get(f"/pay/{token}"))
    assert "R$ 1.035,00" in page
    assert (today() + timedelta(days=5)).strftime("%d/%m/%Y") in page


def test_original_payment_link_lists_the_agreement_parts(
    staff: Any, client: Any, overdue_invoice: Invoice
) -> None:
    staff.post(
        f"{base(overdue_invoice)}/acordo",
        data={
            "count": 2,
            "amount_0": "533,33",
            "due_date_0": day(0),
            "amount_1": "500,00",
            "due_date_1": day(30),
        },
    )
    page = text(client.get(f"/pay/{overdue_invoice.payment_token}"))
    assert "substituída por um acordo" in page
    assert "Acordo Parte 1/2 — Mensalidade" in page
    assert "R$ 533,33" in page and "R$ 500,00" in page
    with tenancy.unscoped():
        parts = db.session.scalars(
            select(Invoice).where(Invoice.agreement_id.isnot(None))
        ).all()
    for part in parts:
        assert f"/pay/{part.payment_token}" in page
        assert "R$" in text(client.get(f"/pay/{part.payment_token}"))
