"""Scoping by construction: what a scope lets through, stamps and refuses."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import aliased, joinedload, selectinload

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import Customer, Event, Invoice
from agnozys.services.timeline import record


@pytest.fixture
def two(org, other_org, make_customer, make_invoice) -> dict[str, Any]:
    """One customer and one invoice in each organization; ids only."""
    ours = make_customer(org, name="Nosso Cliente")
    theirs = make_customer(other_org, name="Cliente Deles")
    our_invoice = make_invoice(org, ours, amount=100_00)
    their_invoice = make_invoice(other_org, theirs, amount=900_00)
    ids = {
        "org": org.id,
        "other_org": other_org.id,
        "ours": ours.id,
        "theirs": theirs.id,
        "our_invoice": our_invoice.id,
        "their_invoice": their_invoice.id,
    }
    # Start every test with an empty identity map, as a request does.
    db.session.expunge_all()
    return ids


def names() -> list[str]:
    return list(db.session.scalars(select(Customer.name).order_by(Customer.id)))


def test_a_scope_filters_entity_and_column_selects(two):
    with tenancy.scope(two["org"]):
        assert names() == ["Nosso Cliente"]
        assert db.session.scalars(select(Invoice)).all()[0].id == two["our_invoice"]
        assert db.session.scalar(select(func.count()).select_from(Invoice)) == 1
        assert db.session.scalar(select(func.sum(Invoice.amount))) == 100_00


def test_each_scope_sees_its_own_rows_even_from_a_cached_statement(two):
    seen = []
    for organization_id in (two["org"], two["other_org"], two["org"]):
        with tenancy.scope(organization_id):
            seen.append(names())

    assert seen == [["Nosso Cliente"], ["Cliente Deles"], ["Nosso Cliente"]]


def test_without_a_scope_everything_is_visible(two):
    assert names() == ["Nosso Cliente", "Cliente Deles"]
    with tenancy.scope(two["org"]), tenancy.unscoped():
        assert len(names()) == 2


def test_the_unscoped_execution_option_is_an_explicit_way_out(two):
    with tenancy.scope(two["org"]):
        rows = db.session.scalars(
            select(Customer).execution_options(agnozys_unscoped=True)
        ).all()

    assert len(rows) == 2


def test_subqueries_are_scoped(two):
    with tenancy.scope(two["org"]):
        inner = select(Customer.id)
        invoices = db.session.scalars(
            select(Invoice.id).where(Invoice.customer_id.in_(inner))
        ).all()
        counted = db.session.scalar(
            select(func.count()).select_from(select(Customer.id).subquery())
        )

    assert invoices == [two["our_invoice"]]
    assert counted == 1


def test_joins_and_aliases_are_scoped_on_both_sides(two):
    # An invoice of ours pointing at their customer: bad data planted
    # without a scope, the join must still not reveal the customer.
    db.session.execute(
        update(Invoice)
        .where(Invoice.id == two["our_invoice"])
        .values(customer_id=two["theirs"])
    )
    db.session.commit()
    other = aliased(Customer)

    with tenancy.scope(two["org"]):
        joined = db.session.execute(
            select(Invoice.id, Customer.name).join(Customer)
        ).all()
        via_alias = db.session.execute(
            select(other.name).join(Invoice, Invoice.customer_id == other.id)
        ).all()
        from_customer = db.session.execute(
            select(Customer.name, Invoice.id).join(
                Invoice, Invoice.customer_id == Customer.id
            )
        ).all()

    assert joined == via_alias == from_customer == []


@pytest.mark.parametrize("loader", [None, joinedload, selectinload])
def test_relationship_loads_are_scoped(two, loader):
    db.session.execute(
        update(Invoice)
        .where(Invoice.id == two["our_invoice"])
        .values(customer_id=two["theirs"])
    )
    db.session.commit()
    db.session.expunge_all()

    with tenancy.scope(two["org"]):
        query = select(Invoice)
        if loader is not None:
            query = query.options(loader(Invoice.customer))
        invoice = db.session.scalars(query).one()
        assert invoice.customer is None


def test_get_by_primary_key_is_scoped(two):
    with tenancy.scope(two["org"]):
        assert db.session.get(Customer, two["theirs"]) is None
        assert db.session.get(Customer, two["ours"]) is not None


def test_new_rows_are_stamped_with_the_scope(two):
    with tenancy.scope(two["org"]):
        customer = Customer(name="Novo")
        db.session.add(customer)
        db.session.flush()
        event = record("invoice.created", actor="test", customer_id=customer.id)
        db.session.commit()

    assert customer.organization_id == two["org"]
    assert event.organization_id == two["org"]


def test_a_new_row_of_another_organization_refuses_to_flush(two):
    with tenancy.scope(two["org"]):
        db.session.add(Customer(name="Intruso", organization_id=two["other_org"]))
        with pytest.raises(tenancy.TenantViolation):
            db.session.commit()
        db.session.rollback()

    assert "Intruso" not in names()


def load_theirs(two: dict[str, Any]) -> Customer:
    """Load their customer outside any scope, as system code might."""
    customer = db.session.get(Customer, two["theirs"])
    assert customer is not None
    return customer


def test_changing_another_organizations_row_under_a_scope_raises(two):
    customer = load_theirs(two)

    with tenancy.scope(two["org"]):
        customer.name = "Alterado"
        with pytest.raises(tenancy.TenantViolation):
            db.session.commit()
        db.session.rollback()

    assert "Alterado" not in names()


def test_moving_another_organizations_row_into_the_scope_raises(two):
    customer = load_theirs(two)

    with tenancy.scope(two["org"]):
        customer.organization_id = two["org"]
        with pytest.raises(tenancy.TenantViolation):
            db.session.commit()
        db.session.rollback()

    db.session.expunge_all()
    assert db.session.get(Customer, two["theirs"]).organization_id == two["other_org"]


def test_deleting_another_organizations_row_under_a_scope_raises(two):
    invoice = db.session.get(Invoice, two["their_invoice"])

    with tenancy.scope(two["org"]):
        db.session.execute(delete(Event))  # scoped: only our events go
        db.session.delete(invoice)
        with pytest.raises(tenancy.TenantViolation):
            db.session.commit()
        db.session.rollback()

    assert db.session.get(Invoice, two["their_invoice"]) is not None


def test_bulk_update_and_delete_touch_only_the_scope(two):
    theirs = load_theirs(two)

    with tenancy.scope(two["org"]):
        updated = db.session.execute(update(Customer).values(name="Renomeado"))
        assert theirs.name == "Cliente Deles"  # in memory, too
        db.session.execute(delete(Event))
        db.session.commit()

    assert updated.rowcount == 1
    assert names() == ["Renomeado", "Cliente Deles"]
    owners = db.session.scalars(select(Event.organization_id)).all()
    assert owners == [two["other_org"]]


def test_textual_sql_is_not_scoped_and_says_so(two):
    # Documented limit: text() bypasses the ORM; keep it out of scoped code.
    with tenancy.scope(two["org"]):
        count = db.session.scalar(text("SELECT count(*) FROM customers"))

    assert count == 2


def test_scopes_nest_and_restore_even_after_an_error(two):
    assert tenancy.current_organization_id() is None
    with pytest.raises(RuntimeError):
        with tenancy.scope(two["org"]):
            with tenancy.scope(two["other_org"]):
                assert tenancy.current_organization_id() == two["other_org"]
            assert tenancy.current_organization_id() == two["org"]
            raise RuntimeError("boom")

    assert tenancy.current_organization_id() is None


def test_an_api_request_is_scoped_and_the_scope_ends_with_it(two, api, monkeypatch):
    from agnozys.services import NotFound, customers

    seen = {}

    def probe(public_id: str) -> Any:
        seen["scope"] = tenancy.current_organization_id()
        seen["names"] = names()
        raise NotFound("probe")

    monkeypatch.setattr(customers, "get_customer", probe)

    assert api.get("/customers/cus_probe").status_code == 404
    assert seen == {"scope": two["org"], "names": ["Nosso Cliente"]}
    assert tenancy.current_organization_id() is None


def test_a_staff_request_is_scoped_to_the_users_organization(two, staff, monkeypatch):
    from agnozys.services import tokens

    seen = {}

    def probe() -> list[Any]:
        seen["scope"] = tenancy.current_organization_id()
        seen["names"] = names()
        return []

    monkeypatch.setattr(tokens, "list_tokens", probe)

    assert staff.get("/configuracoes/tokens").status_code == 200
    assert seen == {"scope": two["org"], "names": ["Nosso Cliente"]}
    assert tenancy.current_organization_id() is None
