"""``flask seed``: realistic synthetic data, loaded in bulk (COPY on PostgreSQL)."""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import func, select

from agnozys import clock, validation
from agnozys.demo import DEMO_EMAIL, DEMO_ORG
from agnozys.extensions import db
from agnozys.models import Customer, Event, Invoice, Organization, User
from agnozys.seed import complete_cnpj, public_ids


def _invoices(org):
    return (
        db.session.execute(select(Invoice).where(Invoice.organization_id == org.id))
        .scalars()
        .all()
    )


def test_seed_loads_customers_and_invoices_into_the_named_organization(
    runner, org, other_org
):
    result = runner.invoke(
        args=["seed", "--customers", "30", "--invoices", "400", "--org", org.name]
    )

    assert result.exit_code == 0, result.output
    assert "30 clientes e 400 faturas carregados em Escola Aurora" in result.output
    count = select(func.count()).select_from(Invoice)
    assert db.session.scalar(count.where(Invoice.organization_id == org.id)) == 400
    assert db.session.scalar(count.where(Invoice.organization_id == other_org.id)) == 0
    customers = (
        db.session.execute(select(Customer).where(Customer.organization_id == org.id))
        .scalars()
        .all()
    )
    assert len(customers) == 30


def test_seeded_customers_have_valid_documents_and_searchable_names(runner, org):
    runner.invoke(
        args=["seed", "--customers", "60", "--invoices", "0", "--org", org.name]
    )

    customers = db.session.execute(select(Customer)).scalars().all()
    assert len(customers) == 60
    for customer in customers:
        assert validation.document(customer.document) == customer.document
        assert (
            customer.name.strip()
            and customer.search_name == customer.search_name.lower()
        )
        assert re.fullmatch(r"cus_[0-9a-hjkmnp-tv-z]{16}", customer.public_id)
        assert customer.phone and customer.phone.startswith("55")
    assert len({c.public_id for c in customers}) == 60


def test_seeded_invoices_spread_over_statuses_dates_and_amounts(runner, org):
    runner.invoke(
        args=["seed", "--customers", "40", "--invoices", "600", "--org", org.name]
    )

    invoices = _invoices(org)
    statuses = Counter(i.status.value for i in invoices)
    assert set(statuses) == {"pending", "paid", "canceled"}
    assert any(
        i.display_status(clock.today(org.timezone)) == "overdue" for i in invoices
    )
    assert len({i.due_date for i in invoices}) > 100
    assert len({i.amount for i in invoices}) > 50
    assert all(i.amount > 0 for i in invoices)
    for invoice in invoices:
        if invoice.status.value == "paid":
            assert invoice.paid_at is not None and invoice.paid_amount == invoice.amount
        else:
            assert invoice.paid_at is None
    # Payment tokens are random, long and unique; public ids too.
    assert len({i.payment_token for i in invoices}) == 600
    assert all(len(i.payment_token) >= 32 for i in invoices)
    assert len({i.public_id for i in invoices}) == 600
    # A few customers hold many invoices, as in real portfolios.
    per_customer = Counter(i.customer_id for i in invoices).most_common()
    assert per_customer[0][1] > 3 * per_customer[-1][1]


def test_seed_reserves_invoice_numbers_so_later_invoices_do_not_collide(
    runner, org, make_customer, make_invoice
):
    customer = make_customer(org)
    make_invoice(org, customer)
    runner.invoke(
        args=["seed", "--customers", "5", "--invoices", "50", "--org", org.name]
    )
    later = make_invoice(org, customer)

    numbers = sorted(i.number for i in _invoices(org))
    assert numbers == list(range(1, 53))
    assert later.number == 52
    assert db.session.get(Organization, org.id).invoice_seq == 52


def test_each_seeded_invoice_has_its_created_event(runner, org):
    runner.invoke(
        args=["seed", "--customers", "5", "--invoices", "25", "--org", org.name]
    )

    events = db.session.execute(select(Event)).scalars().all()
    by_invoice = {e.invoice_id: e for e in events}
    invoices = _invoices(org)
    assert len(events) == 25 and set(by_invoice) == {i.id for i in invoices}
    invoice = invoices[0]
    event = by_invoice[invoice.id]
    assert event.type == "invoice.created" and event.actor == "system:seed"
    assert event.customer_id == invoice.customer_id
    cents = f"{invoice.amount // 100}.{invoice.amount % 100:02d}"
    assert event.data == {"amount": cents, "due_date": invoice.due_date.isoformat()}


def test_seed_without_org_fills_the_demo_organization_with_its_staff(runner):
    result = runner.invoke(args=["seed", "--customers", "3", "--invoices", "10"])

    assert result.exit_code == 0, result.output
    demo = db.session.execute(
        select(Organization).where(Organization.name == DEMO_ORG)
    ).scalar_one()
    assert db.session.execute(select(User).where(User.email == DEMO_EMAIL)).scalar_one()
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.external_id.like("seed-%"))
        )
        == 3
    )
    assert demo.invoice_seq >= 10


def test_seed_creates_a_missing_organization_and_can_run_twice(runner, app):
    for _ in range(2):
        result = runner.invoke(
            args=[
                "seed",
                "--customers",
                "4",
                "--invoices",
                "8",
                "--org",
                "Nova Empresa",
            ]
        )
        assert result.exit_code == 0, result.output
    org = db.session.execute(
        select(Organization).where(Organization.name == "Nova Empresa")
    ).scalar_one()
    assert len(_invoices(org)) == 16
    assert sorted(i.number for i in _invoices(org)) == list(range(1, 17))


def test_seed_refuses_invoices_without_customers(runner, org):
    result = runner.invoke(
        args=["seed", "--customers", "0", "--invoices", "5", "--org", org.name]
    )

    assert result.exit_code != 0
    assert "precisam de clientes" in result.output
    assert _invoices(org) == []


def test_generated_ids_and_cnpjs_are_well_formed():
    ids = public_ids("inv", chunk=3)
    sample = [next(ids) for _ in range(10)]
    assert len(set(sample)) == 10
    assert all(re.fullmatch(r"inv_[0-9a-hjkmnp-tv-z]{16}", i) for i in sample)
    assert complete_cnpj("112223330001") == "11222333000181"
    assert validation.document(complete_cnpj("123456780001"))


def test_a_large_load_rebuilds_every_index_and_unique_constraint(
    runner, org, monkeypatch
):
    from sqlalchemy import inspect

    import agnozys.seed

    def shape():
        inspector = inspect(db.engine)
        return {
            table: (
                sorted(i["name"] for i in inspector.get_indexes(table)),
                sorted(u["name"] for u in inspector.get_unique_constraints(table)),
            )
            for table in ("invoices", "events")
        }

    before = shape()
    monkeypatch.setattr(agnozys.seed, "REBUILD_AT", 1)

    result = runner.invoke(
        args=["seed", "--customers", "5", "--invoices", "40", "--org", org.name]
    )

    assert result.exit_code == 0, result.output
    db.session.remove()
    assert shape() == before
    assert len(_invoices(org)) == 40
