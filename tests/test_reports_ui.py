"""Relatórios and Painel pages as staff see them: call list, aging, levers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from agnozys import clock, tenancy
from agnozys.extensions import db
from agnozys.models import Event, InvoiceStatus


@pytest.fixture
def debts(org, make_customer, make_invoice):
    """Three debtors (70/15/15 without charges) and a customer who paid."""
    made = {}
    for name, reais, phone in [
        ("Alfa Ltda", 700, "5511987654321"),
        ("Bravo ME", 150, None),
        ("Charlie SA", 150, None),
    ]:
        customer = make_customer(org, name=name, phone=phone)
        made[name] = make_invoice(
            org, customer, amount=reais * 100, due_in=-45, fine_bp=0, interest_bp=0
        )
    paid = make_customer(org, name="Pagador Pontual")
    make_invoice(
        org,
        paid,
        due_in=-5,
        status=InvoiceStatus.PAID,
        paid_at=datetime.now(UTC),
        paid_amount=100_000,
    )
    return made


def text_of(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_pareto_page_lists_the_80_percent_group_first(staff, debts):
    page = text_of(staff.get("/relatorios/pareto"))

    assert "Quem ligar primeiro" in page
    assert "R$ 1.000,00" in page  # total overdue
    assert "2 clientes · 85,00%" in page
    assert page.index("Alfa Ltda") < page.index("Bravo ME")
    assert "70,00%" in page and "85,00%" in page
    # The default tab is the call list: Charlie is not in the 80% group.
    assert "Charlie SA" not in page.split("<table")[1]
    assert "Pagador Pontual" not in page
    assert "(11) 98765-4321" in page
    assert page.count("Ligar · grupo dos 80%") == 2


def test_pareto_everyone_tab_shows_the_rest_unmarked(staff, debts):
    page = text_of(staff.get("/relatorios/pareto?todos=1"))
    table = page.split("<table")[1]

    assert "Charlie SA" in table
    assert table.count("Ligar · grupo dos 80%") == 2
    assert "100,00%" in table


def test_pareto_chart_is_accessible_svg(staff, debts):
    page = staff.get("/relatorios/pareto").get_data(as_text=True)
    svg = page[page.index('<svg role="img"') : page.index("</svg>")]

    assert '<title id="pareto-title">' in svg
    assert "2 de 3 clientes somam 85,00% do total vencido de R$ 1.000,00" in svg
    assert svg.count('fill="url(#pareto-hatch)"') == 2  # the marked bars
    assert svg.count('fill="url(#pareto-dots)"') == 1
    assert "linha dos 80%" in svg
    assert "<polyline" in svg
    assert "1. Alfa Ltda: R$ 700,00 (70,0%; acumulado 70,0%)" in svg


def test_pareto_with_nothing_overdue(staff, org):
    page = text_of(staff.get("/relatorios/pareto"))

    assert "Nenhuma cobrança vencida hoje" in page
    assert '<svg role="img"' not in page


def test_pareto_pages_through_everyone(staff, org, make_customer, make_invoice):
    for n in range(55):
        customer = make_customer(org, name=f"Devedor {n:02d}")
        make_invoice(org, customer, amount=10_000 + n, due_in=-3)

    first = text_of(staff.get("/relatorios/pareto?todos=1"))
    second = text_of(staff.get("/relatorios/pareto?todos=1&page=2"))

    assert "Página 1 de 2" in first
    assert "Devedor 54" in first and "Devedor 00" not in first
    assert "Devedor 00" in second and "Devedor 54" not in second.split("<table")[1]


def test_pareto_csv_export(staff, debts):
    response = staff.get("/relatorios/pareto.csv")
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()

    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert lines[0].startswith("Posição,Cliente,CPF/CNPJ,Telefone,E-mail,Valor vencido")
    assert lines[1].startswith("1,Alfa Ltda,,5511987654321,")
    assert ",700.00,0.7000,0.7000,sim," in lines[1]
    assert ",150.00,0.1500,1.0000,não," in lines[3]
    assert len(lines) == 4


def test_pareto_csv_in_brazilian_format(staff, org, make_customer, make_invoice):
    customer = make_customer(org, name="Grande; Devedor")
    make_invoice(
        org, customer, amount=123_456_789, due_in=-10, fine_bp=0, interest_bp=0
    )

    body = staff.get("/relatorios/pareto.csv?formato=br").get_data(as_text=True)
    header, row = body.lstrip("\ufeff").splitlines()

    assert header.startswith("Posição;Cliente;CPF/CNPJ")
    due = (clock.today(org.timezone) - timedelta(days=10)).strftime("%d/%m/%Y")
    assert row.endswith(f";1.234.567,89;1,0000;1,0000;sim;{due}")
    assert row.startswith('1;"Grande; Devedor";')


def test_log_contact_from_the_call_list_with_htmx(staff, debts):
    customer = debts["Alfa Ltda"].customer

    response = staff.post(
        f"/relatorios/pareto/{customer.public_id}/contato",
        data={"channel": "call", "outcome": "promised", "promised_date": "2099-01-15"},
        headers={"HX-Request": "true"},
    )
    page = text_of(response)

    assert response.status_code == 200
    assert "<html" not in page
    assert f'id="contact-{customer.public_id}"' in page
    assert "Contato registrado." in page
    assert "Ligação · Prometeu pagar (15/01/2099)" in page
    # And the call list shows it as the last contact from now on.
    assert "Ligação · Prometeu pagar (15/01/2099)" in text_of(
        staff.get("/relatorios/pareto")
    )


def test_log_contact_shows_errors_next_to_the_fields(staff, debts):
    customer = debts["Alfa Ltda"].customer

    response = staff.post(
        f"/relatorios/pareto/{customer.public_id}/contato",
        data={"channel": "pombo", "outcome": "promised", "promised_date": ""},
        headers={"HX-Request": "true"},
    )
    page = text_of(response)

    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert "Escolha o canal." in page
    assert "Informe a data prometida." in page
    assert "Contato registrado." not in page
    assert '<details class="no-print" open>' in page


def test_log_contact_without_javascript_redirects_back(staff, debts):
    customer = debts["Bravo ME"].customer

    response = staff.post(
        f"/relatorios/pareto/{customer.public_id}/contato",
        data={"channel": "whatsapp", "outcome": "no_answer"},
        follow_redirects=True,
    )

    assert "Contato com Bravo ME registrado." in text_of(response)
    assert "WhatsApp · Sem resposta" in text_of(response)


def test_viewer_cannot_log_contacts(client, auth, viewer, debts):
    auth.login(viewer)
    customer = debts["Alfa Ltda"].customer

    page = text_of(client.get("/relatorios/pareto"))
    response = client.post(
        f"/relatorios/pareto/{customer.public_id}/contato",
        data={"channel": "call", "outcome": "no_answer"},
    )

    assert "Registrar contato" not in page
    assert response.status_code == 403


def test_contact_for_another_organizations_customer_is_404(
    staff, other_org, make_customer
):
    stranger = make_customer(other_org, name="De fora")

    response = staff.post(
        f"/relatorios/pareto/{stranger.public_id}/contato",
        data={"channel": "call", "outcome": "no_answer"},
    )

    assert response.status_code == 404


def test_aging_page_numbers_chart_and_links(staff, org, make_customer, make_invoice):
    customer = make_customer(org)
    for days in (1, 30, 31, 95):
        make_invoice(
            org, customer, amount=10_000, due_in=-days, fine_bp=0, interest_bp=0
        )

    page = text_of(staff.get("/relatorios/aging"))

    assert "R$ 400,00" in page
    assert "1 a 30 dias" in page and "mais de 90 dias" in page
    assert "R$ 200,00" in page
    assert '<title id="aging-title">' in page
    assert "1-30 dias: R$ 200,00 em 2 cobranças" in page
    assert "overdue_min=31" in page and "overdue_max=60" in page
    assert "50,00%" in page


def test_painel_is_the_staff_landing_page(staff, debts):
    response = staff.get("/")

    assert response.status_code == 302
    assert response.headers["Location"].rstrip("/").endswith("/painel")


def test_painel_figures_link_to_the_invoices_behind_them(staff, org, debts):
    invoice = debts["Bravo ME"]
    now = datetime.now(UTC)
    db.session.add(
        Event(
            organization_id=org.id,
            invoice_id=invoice.id,
            customer_id=invoice.customer_id,
            type="reminder.sent",
            at=now - timedelta(minutes=5),
            actor="system",
        )
    )
    with tenancy.scope(org.id):
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = now
        invoice.paid_amount = 15_000
        db.session.commit()

    page = text_of(staff.get("/painel/"))
    assert "Vencido hoje" in page and "R$ 850,00" in page
    assert "Recuperado no mês" in page
    assert 'href="/relatorios/cobrancas?figura=reminder"' in page
    assert '<title id="trend-title">' in page
    assert "Mediana da suspensão ao pagamento: —" in page

    behind = text_of(staff.get("/relatorios/cobrancas?figura=reminder"))
    assert "Bravo ME" in behind and "R$ 150,00" in behind
    assert "Alfa Ltda" not in behind

    overdue = text_of(staff.get("/relatorios/cobrancas?figura=overdue"))
    assert "Alfa Ltda" in overdue and "R$ 850,00" in overdue


def test_unknown_figure_is_404(staff):
    assert staff.get("/relatorios/cobrancas?figura=tudo").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/painel/", "/relatorios/pareto", "/relatorios/aging", "/relatorios/pareto.csv"],
)
def test_reports_need_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_reports_pages_show_only_the_staff_organization(
    staff, other_org, make_customer, make_invoice
):
    stranger = make_customer(other_org, name="Devedor Alheio")
    make_invoice(other_org, stranger, due_in=-20)

    for path in ("/relatorios/pareto?todos=1", "/relatorios/pareto.csv", "/painel/"):
        assert "Devedor Alheio" not in text_of(staff.get(path))
    assert "R$ 0,00" in text_of(staff.get("/relatorios/aging"))


def test_aging_bucket_link_filters_the_cobrancas_list(
    staff, org, make_customer, make_invoice
):
    customer = make_customer(org, name="Cliente Atrasado")
    for days, description in [(30, "trinta"), (31, "trinta e um"), (60, "sessenta")]:
        make_invoice(org, customer, due_in=-days, description=f"Parcela {description}")
    make_invoice(org, customer, due_in=-61, description="Parcela sessenta e um")

    aging = staff.get("/relatorios/aging").get_data(as_text=True)
    link = re.search(r'href="(/cobrancas/?\?[^"]*overdue_min=31[^"]*)"', aging)
    page = text_of(staff.get(link.group(1).replace("&amp;", "&")))

    assert "Atraso de 31 a 60 dias" in page
    assert "Parcela trinta e um" in page and "Parcela sessenta" in page
    assert "Parcela trinta<" not in page.replace(" <", "<")
    assert "Parcela sessenta e um" not in page
