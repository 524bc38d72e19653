"""Financeiro > Cobranças: the list, one invoice's page and Nova cobrança."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from helpers import VALID_CPFS, today
from sqlalchemy import func, select

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import Event, Invoice, InvoiceStatus
from agnozys.services.listing import list_invoices

HTMX = {"HX-Request": "true"}


def row_ids(html: str) -> list[str]:
    """Return the public ids of the invoice rows, in the order shown."""
    return re.findall(r'id="invoice-(inv_[0-9a-z]+)"', html)


def count_invoices() -> int:
    with tenancy.unscoped():
        return db.session.execute(select(func.count(Invoice.id))).scalar_one()


@pytest.fixture
def book(org, make_customer, make_invoice):
    """One invoice in each state, plus one due today (still pending)."""
    ana = make_customer(org, name="Ana Júlia Souza", document=VALID_CPFS[0])
    bruno = make_customer(org, name="Bruno Lima", document=VALID_CPFS[1])
    invoices = {
        "pending": make_invoice(org, ana, amount=50_000, due_in=10),
        "due_today": make_invoice(org, bruno, amount=20_000, due_in=0),
        "overdue": make_invoice(org, bruno, amount=300_000, due_in=-5),
        "paid": make_invoice(org, ana, amount=10_000, due_in=-20),
        "canceled": make_invoice(org, bruno, amount=70_000, due_in=3),
    }
    with tenancy.scope(org.id):
        invoices["paid"].status = InvoiceStatus.PAID
        invoices["canceled"].status = InvoiceStatus.CANCELED
        db.session.commit()
    return {name: inv.public_id for name, inv in invoices.items()}


# --- access -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/cobrancas", "/cobrancas/nova", "/cobrancas/inv_x"])
def test_pages_need_login(client, org, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_leads_to_the_invoice_list(client, auth, owner):
    response = auth.login(owner)
    assert response.status_code == 302
    home = client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert 'href="/cobrancas"' in home.text
    page = client.get("/cobrancas")
    assert page.status_code == 200
    assert "<h1>Cobranças</h1>" in page.text


# --- the list -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("", {"pending", "due_today", "overdue", "paid", "canceled"}),
        ("pending", {"pending", "due_today"}),
        ("overdue", {"overdue"}),
        ("paid", {"paid"}),
        ("canceled", {"canceled"}),
    ],
)
def test_status_tabs_select_their_invoices(staff, book, status, expected):
    html = staff.get(f"/cobrancas?status={status}").text
    assert set(row_ids(html)) == {book[name] for name in expected}


def test_overdue_rows_show_the_vencida_badge(staff, book):
    html = staff.get("/cobrancas?status=overdue").text
    assert '<span class="badge badge-overdue">Vencida</span>' in html


def test_count_and_total_follow_the_filter(staff, book):
    html = staff.get("/cobrancas").text
    assert 'data-testid="invoice-count">5<' in html
    assert 'data-testid="invoice-total">R$ 4.500,00<' in html
    html = staff.get("/cobrancas?status=pending").text
    assert 'data-testid="invoice-count">2<' in html
    assert 'data-testid="invoice-total">R$ 700,00<' in html


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("due_date", ["paid", "overdue", "due_today", "canceled", "pending"]),
        ("-due_date", ["pending", "canceled", "due_today", "overdue", "paid"]),
        ("amount", ["paid", "due_today", "pending", "canceled", "overdue"]),
        ("-amount", ["overdue", "canceled", "pending", "due_today", "paid"]),
    ],
)
def test_each_sort_orders_the_rows(staff, book, sort, order):
    html = staff.get(f"/cobrancas?sort={sort}").text
    assert row_ids(html) == [book[name] for name in order]


def test_equal_amounts_are_ordered_by_id(staff, org, make_customer, make_invoice):
    customer = make_customer(org)
    first = make_invoice(org, customer, amount=5_000, due_in=1)
    second = make_invoice(org, customer, amount=5_000, due_in=1)
    ids = row_ids(staff.get("/cobrancas?sort=amount").text)
    assert ids == [first.public_id, second.public_id]
    ids = row_ids(staff.get("/cobrancas?sort=-amount").text)
    assert ids == [second.public_id, first.public_id]


def test_unknown_filter_values_fall_back_to_defaults(staff, book):
    response = staff.get("/cobrancas?status=<b>&sort=drop&page=-3")
    assert response.status_code == 200
    assert len(row_ids(response.text)) == 5
    assert "&lt;b&gt;" not in response.text and "<b>" not in response.text


@pytest.mark.parametrize("query", ["ana julia", "ANA", "Júlia souza", "souz"])
def test_search_by_name_ignores_accents_and_case(staff, book, query):
    html = staff.get("/cobrancas", query_string={"q": query}).text
    assert set(row_ids(html)) == {book["pending"], book["paid"]}


@pytest.mark.parametrize("query", [VALID_CPFS[1], "111.444.777-35", "111444"])
def test_search_by_cpf_digits(staff, book, query):
    html = staff.get("/cobrancas", query_string={"q": query}).text
    assert set(row_ids(html)) == {
        book["due_today"],
        book["overdue"],
        book["canceled"],
    }


def test_search_combines_with_status_and_counts(staff, book):
    html = staff.get("/cobrancas?status=overdue&q=bruno").text
    assert row_ids(html) == [book["overdue"]]
    assert 'data-testid="invoice-count">1<' in html
    assert 'data-testid="invoice-total">R$ 3.000,00<' in html


def test_search_without_match_says_so(staff, book):
    html = staff.get("/cobrancas?q=ninguem%25").text
    assert row_ids(html) == []
    assert "Nenhuma cobrança encontrada." in html


def test_htmx_request_gets_only_the_table(staff, book):
    response = staff.get("/cobrancas?status=overdue", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith("{#") is False
    assert 'id="invoice-list"' in response.text
    assert row_ids(response.text) == [book["overdue"]]
    assert "HX-Request" in response.headers["Vary"]


def test_normal_request_and_history_restore_get_the_full_page(staff, book):
    full = staff.get("/cobrancas?status=overdue")
    assert "<html" in full.text and 'id="invoice-list"' in full.text
    restore = staff.get(
        "/cobrancas?status=overdue",
        headers={**HTMX, "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text


def test_links_swap_the_table_and_push_the_url(staff, book):
    html = staff.get("/cobrancas?status=overdue&sort=-amount").text
    # Every htmx link also has a real href carrying the same state.
    links = re.findall(r'<a href="([^"]+)" hx-get="([^"]+)"', html)
    assert links and all(href == get for href, get in links)
    assert 'hx-push-url="true"' in html
    assert 'hx-target="#invoice-list"' in html
    assert "/cobrancas?status=paid&amp;sort=-amount" in html
    assert 'action="/cobrancas"' in html


def test_paging_walks_through_the_list(staff, org, make_customer, make_invoice):
    customer = make_customer(org)
    made = [make_invoice(org, customer, due_in=i) for i in range(55)]
    first = staff.get("/cobrancas").text
    assert row_ids(first) == [inv.public_id for inv in made[:50]]
    assert "1–50 de 55 · página 1 de 2" in first
    assert 'href="/cobrancas?page=2"' in first
    second = staff.get("/cobrancas?page=2").text
    assert row_ids(second) == [inv.public_id for inv in made[50:]]
    assert 'data-testid="invoice-count">55<' in second
    beyond = staff.get("/cobrancas?page=99").text
    assert row_ids(beyond) == row_ids(second)


def test_list_shows_only_the_organizations_invoices(
    staff, book, other_org, make_customer, make_invoice
):
    stranger = make_customer(other_org, name="Ana Estranha")
    foreign = make_invoice(other_org, stranger)
    html = staff.get("/cobrancas?q=ana").text
    assert foreign.public_id not in html
    assert "Ana Estranha" not in html


def test_listing_service_pages_by_index(org, book):
    with tenancy.scope(org.id):
        page = list_invoices(
            status=None,
            customer_id=None,
            search=None,
            sort="-amount",
            page=2,
            per_page=2,
            today=today(org),
        )
    assert [inv.public_id for inv in page.items] == [book["pending"], book["due_today"]]
    assert (page.total, page.total_amount, page.pages) == (5, 450_000, 3)
    with pytest.raises(ValueError):
        list_invoices(
            status="vencida",
            customer_id=None,
            search=None,
            sort="amount",
            page=1,
            per_page=10,
            today=today(org),
        )


# --- one invoice ----------------------------------------------------------------


def test_invoice_page_shows_amounts_link_and_timeline(staff, overdue_invoice):
    html = staff.get(f"/cobrancas/{overdue_invoice.public_id}").text
    assert "Cobrança nº 1" in html
    assert '<span class="badge badge-overdue">Vencida</span>' in html
    for amount in ("R$ 1.000,00", "R$ 20,00", "R$ 13,33", "R$ 1.033,33"):
        assert amount in html
    due = (today() - timedelta(days=40)).strftime("%d/%m/%Y")
    assert due in html
    url = f"http://agnozys.test/pay/{overdue_invoice.payment_token}"
    assert f'data-copy="{url}"' in html
    assert "Maria Devedora" in html and "529.982.247-25" in html
    assert f"/clientes/{overdue_invoice.customer.public_id}" in html
    assert "Cobrança criada" in html


def test_timeline_lists_events_oldest_first(staff, org, overdue_invoice):
    with tenancy.scope(org.id):
        db.session.add(
            Event(
                invoice_id=overdue_invoice.id,
                type="link.opened",
                actor="customer:link",
            )
        )
        db.session.commit()
    html = staff.get(f"/cobrancas/{overdue_invoice.public_id}").text
    assert html.index("Cobrança criada") < html.index("Link de pagamento aberto")


def test_timeline_shows_what_changed_in_portuguese(staff, org, overdue_invoice):
    with tenancy.scope(org.id):
        db.session.add(
            Event(
                invoice_id=overdue_invoice.id,
                type="invoice.rescheduled",
                actor="user:dona@aurora.test",
                data={
                    "old_due_date": "2030-01-02",
                    "new_due_date": "2030-02-03",
                    "new_amount_due": "1035.00",
                    "waive": "all",
                    "reason": "<b>pedido</b>",
                    "internal_id": "não mostrar",
                },
            )
        )
        db.session.commit()
    html = staff.get(f"/cobrancas/{overdue_invoice.public_id}").text
    assert "Vencimento atualizado" in html and "dona@aurora.test" in html
    assert "<dt>Vencimento anterior</dt><dd>02/01/2030</dd>" in html
    assert "<dt>Novo vencimento</dt><dd>03/02/2030</dd>" in html
    assert "<dt>Devido depois</dt><dd>R$ 1.035,00</dd>" in html
    assert "<dt>Isenção</dt><dd>multa e juros</dd>" in html
    assert "&lt;b&gt;pedido&lt;/b&gt;" in html and "<b>pedido</b>" not in html
    assert "não mostrar" not in html


def test_agreement_parts_are_listed_on_the_original(
    staff, org, make_customer, make_invoice
):
    customer = make_customer(org)
    original = make_invoice(org, customer, due_in=-30)
    part = make_invoice(org, customer, amount=51_000, due_in=5, agreement_id=7)
    with tenancy.scope(org.id):
        original.status = InvoiceStatus.CANCELED
        original.replaced_by_agreement_id = 7
        db.session.commit()
    html = staff.get(f"/cobrancas/{original.public_id}").text
    assert "Substituída por acordo" in html
    assert f"/cobrancas/{part.public_id}" in html


def test_another_organizations_invoice_is_not_found(
    staff, other_org, make_customer, make_invoice
):
    foreign = make_invoice(other_org, make_customer(other_org))
    response = staff.get(f"/cobrancas/{foreign.public_id}")
    assert response.status_code == 404
    assert "Página não encontrada." in response.text


# --- Nova cobrança --------------------------------------------------------------


@pytest.fixture
def agent_client(client, auth, agent):
    auth.login(agent)
    return client


def valid_form(customer, **changes):
    data = {
        "customer_id": customer.public_id,
        "amount": "1.234,56",
        "due_date": (today() + timedelta(days=7)).isoformat(),
        "description": "Mensalidade de março",
        "fine_percent": "",
        "interest_percent": "",
    }
    data.update(changes)
    return data


def test_agent_creates_an_invoice(agent_client, org, make_customer):
    customer = make_customer(org, name="Carla Dias")
    response = agent_client.post("/cobrancas/nova", data=valid_form(customer))
    assert response.status_code == 302
    with tenancy.scope(org.id):
        invoice = db.session.execute(select(Invoice)).scalar_one()
    assert (invoice.amount, invoice.fine_bp, invoice.interest_bp) == (123_456, 200, 100)
    assert response.headers["Location"].endswith(f"/cobrancas/{invoice.public_id}")
    page = agent_client.get(response.headers["Location"]).text
    assert "Cobrança nº 1 criada." in page and "R$ 1.234,56" in page


def test_new_invoice_takes_rate_overrides(agent_client, org, make_customer):
    customer = make_customer(org)
    form = valid_form(customer, fine_percent="1,5", interest_percent="0.5")
    assert agent_client.post("/cobrancas/nova", data=form).status_code == 302
    with tenancy.scope(org.id):
        invoice = db.session.execute(select(Invoice)).scalar_one()
    assert (invoice.fine_bp, invoice.interest_bp) == (150, 50)


def test_new_invoice_preselects_the_customer_from_the_query(
    agent_client, org, make_customer
):
    customer = make_customer(org, name="Daniel Reis")
    html = agent_client.get(f"/cobrancas/nova?cliente={customer.public_id}").text
    assert f'<option selected value="{customer.public_id}">Daniel Reis</option>' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("customer_id", "", "Informe o cliente."),
        ("customer_id", "cus_naoexiste0000000", "Cliente não encontrado."),
        ("customer_id", "c" * 5000, "Cliente não encontrado."),
        ("customer_id", "<script>", "Cliente não encontrado."),
        ("amount", "", "Informe um valor."),
        ("amount", "abc", "Valor inválido"),
        ("amount", "-10,00", "O valor não pode ser negativo."),
        ("amount", "10,999", "Use no máximo duas casas decimais."),
        ("amount", "0,00", "O valor deve ser maior que zero."),
        ("amount", "9" * 40, "Valor inválido"),
        ("due_date", "", "Data inválida: use AAAA-MM-DD."),
        ("due_date", "31/12/2030", "Data inválida: use AAAA-MM-DD."),
        ("due_date", "2030-02-30", "Data inexistente."),
        ("due_date", "2030-01-01" * 50, "Data inválida: use AAAA-MM-DD."),
        ("description", "x" * 501, "passa de 500 caracteres"),
        ("fine_percent", "abc", "Taxa inválida"),
        ("fine_percent", "-1", "A taxa não pode ser negativa."),
        ("fine_percent", "1" * 60, "Taxa inválida"),
        ("interest_percent", "101", "A taxa não pode passar de 100%."),
    ],
)
def test_bad_invoice_input_is_refused_next_to_its_field(
    agent_client, org, make_customer, field, value, message
):
    customer = make_customer(org)
    response = agent_client.post(
        "/cobrancas/nova", data=valid_form(customer, **{field: value})
    )
    assert response.status_code == 422
    html = response.text
    assert f'id="{field}-error">' in html
    error = html.split(f'id="{field}-error">', 1)[1].split("</small>", 1)[0]
    assert message in error
    assert count_invoices() == 0


def test_another_organizations_customer_cannot_be_billed(
    agent_client, org, other_org, make_customer
):
    foreign = make_customer(other_org)
    response = agent_client.post("/cobrancas/nova", data=valid_form(foreign))
    assert response.status_code == 422
    assert "Cliente não encontrado." in response.text
    assert count_invoices() == 0


def test_html_in_description_comes_out_escaped(agent_client, org, make_customer):
    customer = make_customer(org)
    hostile = '<script>alert("x")</script>'
    response = agent_client.post(
        "/cobrancas/nova", data=valid_form(customer, description=hostile)
    )
    page = agent_client.get(response.headers["Location"]).text
    assert hostile not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    listing = agent_client.get("/cobrancas").text
    assert hostile not in listing


def test_bad_input_keeps_what_was_typed(agent_client, org, make_customer):
    customer = make_customer(org)
    form = valid_form(customer, amount="abc", description="Aula extra")
    html = agent_client.post("/cobrancas/nova", data=form).text
    assert 'value="abc"' in html and "Aula extra" in html


def test_viewer_cannot_create_invoices(client, auth, viewer, org, make_customer):
    customer = make_customer(org)
    auth.login(viewer)
    assert client.get("/cobrancas/nova").status_code == 403
    response = client.post("/cobrancas/nova", data=valid_form(customer))
    assert response.status_code == 403
    assert "Você não tem permissão para isso." in response.text
    assert count_invoices() == 0
    assert "Nova cobrança" not in client.get("/cobrancas").text


def test_new_invoice_form_needs_csrf(make_app, org, owner, make_customer):
    app = make_app(WTF_CSRF_ENABLED=True)
    customer = make_customer(org)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = owner.get_id()
        session["_fresh"] = True
    response = client.post("/cobrancas/nova", data=valid_form(customer))
    assert response.status_code in (400, 422)
    assert count_invoices() == 0
