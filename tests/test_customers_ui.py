"""Clientes: list, search, create, edit and one customer's page."""

from __future__ import annotations

import re

import pytest
from helpers import VALID_CNPJ, VALID_CPFS
from sqlalchemy import func, select

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import Customer

HTMX = {"HX-Request": "true"}


def customer_count() -> int:
    with tenancy.unscoped():
        return db.session.execute(select(func.count(Customer.id))).scalar_one()


def only_customer(org):
    with tenancy.scope(org.id):
        return db.session.execute(select(Customer)).scalar_one()


def field_error(html: str, field: str) -> str:
    marker = f'id="{field}-error">'
    assert marker in html, f"no error shown next to {field}"
    return html.split(marker, 1)[1].split("</small>", 1)[0]


def valid_form(**changes):
    data = {
        "name": "Fernanda Alves",
        "document": "529.982.247-25",
        "email": "fernanda@example.com",
        "phone": "(11) 98765-4321",
        "external_id": "ALU-42",
    }
    data.update(changes)
    return data


@pytest.fixture
def agent_client(client, auth, agent):
    auth.login(agent)
    return client


# --- access -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/clientes", "/clientes/novo", "/clientes/cus_x"])
def test_pages_need_login(client, org, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_viewer_sees_customers_but_no_edit_buttons(
    client, auth, viewer, org, make_customer
):
    customer = make_customer(org, name="Gabriel Nunes")
    auth.login(viewer)
    listing = client.get("/clientes").text
    assert "Gabriel Nunes" in listing
    assert "Novo cliente" not in listing and "Editar" not in listing
    page = client.get(f"/clientes/{customer.public_id}").text
    assert "Gabriel Nunes" in page
    assert "Editar" not in page and "Nova cobrança" not in page


def test_viewer_gets_403_on_changes(client, auth, viewer, org, make_customer):
    customer = make_customer(org, name="Gabriel Nunes")
    auth.login(viewer)
    for path in ("/clientes/novo", f"/clientes/{customer.public_id}/editar"):
        assert client.get(path).status_code == 403
        response = client.post(path, data=valid_form())
        assert response.status_code == 403
    assert customer_count() == 1
    assert only_customer(org).name == "Gabriel Nunes"


# --- list and search ------------------------------------------------------------


def test_list_shows_formatted_document_and_phone(staff, org, make_customer):
    make_customer(org, name="Helena", document=VALID_CNPJ, phone="5511987654321")
    html = staff.get("/clientes").text
    assert "11.222.333/0001-81" in html
    assert "(11) 98765-4321" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("joao", {"João Pereira"}),
        ("PEREIRA", {"João Pereira", "Lúcia Pereira"}),
        ("529.982.247-25", {"João Pereira"}),
        ("11144477", {"Lúcia Pereira"}),
        ("zzz", set()),
    ],
)
def test_search_by_name_or_document(staff, org, make_customer, query, expected):
    make_customer(org, name="João Pereira", document=VALID_CPFS[0])
    make_customer(org, name="Lúcia Pereira", document=VALID_CPFS[1])
    make_customer(org, name="Marcos Teixeira", document=VALID_CPFS[2])
    html = staff.get("/clientes", query_string={"q": query}).text
    names = {"João Pereira", "Lúcia Pereira", "Marcos Teixeira"}
    assert {name for name in names if name in html} == expected


def test_list_pages_and_answers_htmx_with_the_table(staff, org, make_customer):
    for n in range(55):
        make_customer(org, name=f"Cliente {n:02d}")
    first = staff.get("/clientes").text
    assert "Cliente 00" in first and "Cliente 49" in first
    assert "Cliente 50" not in first
    assert "55 clientes" in first and "Página 1 de 2" in first
    second = staff.get("/clientes?page=2", headers=HTMX)
    assert "<html" not in second.text
    assert 'id="customer-list"' in second.text
    assert "Cliente 54" in second.text and "Cliente 00" not in second.text


def test_list_hides_other_organizations(staff, org, other_org, make_customer):
    make_customer(other_org, name="Outra Empresa Cliente")
    html = staff.get("/clientes").text
    assert "Outra Empresa Cliente" not in html


# --- create and edit ------------------------------------------------------------


def test_agent_creates_a_customer(agent_client, org):
    response = agent_client.post("/clientes/novo", data=valid_form())
    assert response.status_code == 302
    customer = only_customer(org)
    assert (customer.document, customer.phone, customer.email) == (
        VALID_CPFS[0],
        "5511987654321",
        "fernanda@example.com",
    )
    assert customer.search_name == "fernanda alves"
    page = agent_client.get(response.headers["Location"]).text
    assert "Cliente cadastrado." in page
    assert "529.982.247-25" in page and "(11) 98765-4321" in page


def test_optional_fields_may_stay_empty(agent_client, org):
    form = valid_form(document="", email="", phone="", external_id="")
    assert agent_client.post("/clientes/novo", data=form).status_code == 302
    customer = only_customer(org)
    assert (customer.document, customer.email, customer.phone) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Informe o nome."),
        ("name", "   ", "Informe o nome."),
        ("name", "x" * 201, "passa de 200 caracteres"),
        ("name", "Ana\x00Maria", "caracteres inválidos"),
        ("document", "529.982.247-26", "CPF inválido: confira os dígitos."),
        ("document", "11.222.333/0001-80", "CNPJ inválido: confira os dígitos."),
        ("document", "123", "Informe um CPF (11 dígitos) ou CNPJ (14 dígitos)."),
        ("document", "abc.def.ghi-jk", "CPF ou CNPJ deve ter só números"),
        ("document", "1" * 40, "Longo demais."),
        ("email", "não-é-email", "E-mail inválido."),
        ("email", "a@" + "b" * 260 + ".com", "Longo demais."),
        ("phone", "12345", "Telefone inválido"),
        ("phone", "(11) 88765-4321", "Celular inválido"),
        ("phone", "onze nove", "Telefone deve ter só números."),
        ("phone", "1" * 40, "Longo demais."),
        ("external_id", "x" * 101, "Longo demais."),
    ],
)
def test_bad_customer_input_is_refused_next_to_its_field(
    agent_client, org, field, value, message
):
    response = agent_client.post("/clientes/novo", data=valid_form(**{field: value}))
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert "Confira os campos destacados." in response.text
    assert customer_count() == 0


def test_bad_input_keeps_the_typed_values(agent_client, org):
    form = valid_form(document="529.982.247-26", name="Irene Campos")
    html = agent_client.post("/clientes/novo", data=form).text
    assert 'value="Irene Campos"' in html
    assert 'value="529.982.247-26"' in html
    assert 'value="fernanda@example.com"' in html
    assert 'value="(11) 98765-4321"' in html


def test_duplicate_external_id_is_refused(agent_client, org, make_customer):
    make_customer(org, name="Primeiro", external_id="ALU-42")
    response = agent_client.post("/clientes/novo", data=valid_form())
    assert response.status_code == 422
    assert "Já existe um cliente com este id externo." in field_error(
        response.text, "external_id"
    )
    assert customer_count() == 1


def test_html_in_names_comes_out_escaped(agent_client, org):
    hostile = "<img src=x onerror=alert(1)>"
    response = agent_client.post("/clientes/novo", data=valid_form(name=hostile))
    assert response.status_code == 302
    for path in (response.headers["Location"], "/clientes"):
        html = agent_client.get(path).text
        assert hostile not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_edit_form_starts_filled_and_saves(agent_client, org, make_customer):
    customer = make_customer(
        org, name="Joana", document=VALID_CPFS[0], phone="5511987654321"
    )
    form = agent_client.get(f"/clientes/{customer.public_id}/editar").text
    assert 'value="Joana"' in form and 'value="529.982.247-25"' in form
    assert 'value="(11) 98765-4321"' in form
    response = agent_client.post(
        f"/clientes/{customer.public_id}/editar",
        data=valid_form(name="Joana Prado", document=VALID_CNPJ, external_id=""),
    )
    assert response.status_code == 302
    saved = only_customer(org)
    assert (saved.name, saved.document, saved.search_name) == (
        "Joana Prado",
        VALID_CNPJ,
        "joana prado",
    )


def test_bad_edit_changes_nothing(agent_client, org, make_customer):
    customer = make_customer(org, name="Joana", document=VALID_CPFS[0])
    response = agent_client.post(
        f"/clientes/{customer.public_id}/editar",
        data=valid_form(name="Joana Nova", email="ruim@"),
    )
    assert response.status_code == 422
    assert "E-mail inválido." in field_error(response.text, "email")
    db.session.expire_all()
    saved = only_customer(org)
    assert saved.name == "Joana"


def test_another_organizations_customer_is_not_found(
    agent_client, org, other_org, make_customer
):
    foreign = make_customer(other_org, name="Alheio")
    for path in (
        f"/clientes/{foreign.public_id}",
        f"/clientes/{foreign.public_id}/editar",
    ):
        assert agent_client.get(path).status_code == 404
    response = agent_client.post(
        f"/clientes/{foreign.public_id}/editar", data=valid_form()
    )
    assert response.status_code == 404
    with tenancy.unscoped():
        assert db.session.get(Customer, foreign.id).name == "Alheio"


# --- one customer -----------------------------------------------------------------


def test_customer_page_lists_only_their_invoices(
    staff, org, make_customer, make_invoice
):
    customer = make_customer(org, name="Karina")
    other = make_customer(org, name="Leandro")
    mine = [make_invoice(org, customer, amount=12_345, due_in=i) for i in (1, 2)]
    theirs = make_invoice(org, other)
    html = staff.get(f"/clientes/{customer.public_id}").text
    shown = re.findall(r'id="invoice-(inv_[0-9a-z]+)"', html)
    assert set(shown) == {inv.public_id for inv in mine}
    assert theirs.public_id not in html
    assert "2 cobranças" in html and "R$ 246,90" in html
    assert f"/cobrancas/nova?cliente={customer.public_id}" in html
