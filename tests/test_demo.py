"""``flask demo``: the organization a first-time visitor explores."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from agnozys import tenancy
from agnozys.demo import DEMO_EMAIL, DEMO_ORG, DEMO_PASSWORD, MEMBERS
from agnozys.extensions import db
from agnozys.models import (
    Agreement,
    Customer,
    Event,
    Invoice,
    Organization,
    Subscription,
)


@pytest.fixture
def demo_owner(runner: Any, client: Any) -> Any:
    """The demo loaded by its command, and a client logged in as its owner."""
    assert runner.invoke(args=["demo"]).exit_code == 0
    client.post("/login", data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD})
    return client


def count(model: Any) -> int:
    with tenancy.unscoped():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def member_name(external_id: str) -> str:
    with tenancy.unscoped():
        return db.session.execute(
            select(Customer.name).where(Customer.external_id == external_id)
        ).scalar_one()


def test_demo_loads_once_and_a_second_run_changes_nothing(runner: Any) -> None:
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert f"Organização de demonstração criada: {DEMO_ORG}" in first.output
    assert f"{DEMO_EMAIL} / {DEMO_PASSWORD}" in first.output
    figures = [count(m) for m in (Organization, Customer, Invoice, Subscription)]
    assert figures[0] == 1 and figures[1] == 40
    assert figures[3] == len(MEMBERS)

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert "já existia" in again.output
    assert [count(m) for m in (Organization, Customer, Invoice, Subscription)] == (
        figures
    )


def test_the_demo_shows_members_who_stopped_paying_as_suspension_candidates(
    demo_owner: Any,
) -> None:
    page = demo_owner.get("/assinaturas").get_data(as_text=True)
    found = re.search(r'<table data-testid="candidates">(.*?)</table>', page, re.S)
    assert found, "Assinaturas lists no candidate for suspension"
    # Started 70 days ago with one period paid, and 35 days ago with none.
    late = {member_name("aluno-0009"), member_name("aluno-0010")}
    on_time = {member_name(e) for e, _days, _paid in MEMBERS} - late
    for name in late:
        assert name in found.group(1)
    for name in on_time:
        assert name not in found.group(1)
        assert name in page  # still listed among all subscriptions


def lever(page: str, name: str) -> str:
    found = re.search(rf'data-testid="lever-{name}">(.*?)</a>', page, re.S)
    assert found, f"the Painel has no {name} lever"
    return " ".join(found.group(1).split())


def test_the_painel_shows_what_the_demo_agent_recovered_today(
    demo_owner: Any,
) -> None:
    page = demo_owner.get("/painel").get_data(as_text=True)
    moved = lever(page, "reschedule")
    split = lever(page, "agreement")
    assert "1 cobrança paga depois de atualizar o vencimento" in moved
    assert "1 parte de acordo paga" in split
    assert "R$ 0,00" not in moved and "R$ 0,00" not in split

    # Both went through the real flows: the timeline says who did what.
    with tenancy.unscoped():
        agreement = db.session.execute(select(Agreement)).scalar_one()
        rescheduled = db.session.execute(
            select(Invoice)
            .join(Event, Event.invoice_id == Invoice.id)
            .where(Event.type == "invoice.rescheduled")
        ).scalar_one()
        original = db.session.get(Invoice, agreement.original_invoice_id)
    show = demo_owner.get(f"/cobrancas/{rescheduled.public_id}").get_data(as_text=True)
    assert "Paga" in show and "Vencimento atualizado" in show
    assert original is not None and original.cancel_reason
