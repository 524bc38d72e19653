"""Plans, issuing, candidates, suspension and reactivation (flow 4)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from helpers import today
from sqlalchemy import func, select

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import Event, Invoice, InvoiceStatus, utcnow
from agnozys.models.subscriptions import (
    AccessDelivery,
    Subscription,
    SubscriptionPeriod,
)
from agnozys.services import Conflict, ValidationFailed
from agnozys.services import subscriptions as service
from agnozys.services.payments import mark_paid


@pytest.fixture
def subscribe(org: Any, make_customer: Any) -> Any:
    """Put a new customer on a monthly plan starting ``start``."""
    counter = iter(range(1, 1000))

    def build(start: date, interval: str = "month", amount: str = "99.90") -> Any:
        n = next(counter)
        customer = make_customer(org, name=f"Academia {n}", external_id=f"ext-{n}")
        with tenancy.scope(org.id):
            plan = service.create_plan(
                {"name": "Plano Pro", "amount": amount, "interval": interval},
                actor="test",
            )
            return service.create_subscription(
                {
                    "customer_id": customer.public_id,
                    "plan_id": plan.public_id,
                    "start_date": start.isoformat(),
                },
                organization=org,
                actor="test",
            )

    return build


def invoices_of(subscription: Subscription) -> list[Invoice]:
    with tenancy.unscoped():
        return list(
            db.session.execute(
                select(Invoice)
                .where(Invoice.subscription_id == subscription.id)
                .order_by(Invoice.due_date)
            ).scalars()
        )


def pay(invoice: Invoice) -> None:
    with tenancy.scope(invoice.organization_id):
        invoice = db.session.get(Invoice, invoice.id)
        mark_paid(
            invoice,
            amount=invoice.amount,
            paid_at=utcnow(),
            method="test",
            actor="test",
        )
        db.session.commit()


def test_period_dates_stay_on_the_start_day() -> None:
    start = date(2026, 1, 31)
    dates = [service.period_start(start, "month", n) for n in range(4)]
    assert dates == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    assert service.period_start(date(2024, 2, 29), "year", 1) == date(2025, 2, 28)


def test_first_invoice_is_issued_due_on_start_date(org: Any, subscribe: Any) -> None:
    start = today(org) + timedelta(days=3)
    subscription = subscribe(start)
    [invoice] = invoices_of(subscription)
    assert invoice.due_date == start
    assert invoice.amount == 9990
    assert "Plano Pro" in invoice.description
    assert subscription.next_billing_date == service.period_start(start, "month", 1)


def test_plan_rejects_bad_values(org: Any) -> None:
    with tenancy.scope(org.id), pytest.raises(ValidationFailed) as caught:
        service.create_plan({"name": "", "amount": "-5", "interval": "week"}, actor="t")
    assert set(caught.value.fields) == {"name", "amount", "interval"}


def test_issuing_twice_the_same_day_issues_once(org: Any, subscribe: Any) -> None:
    start = date(2026, 1, 10)
    subscription = subscribe(start)
    assert service.issue_due(date(2026, 2, 10)) == 1
    assert service.issue_due(date(2026, 2, 10)) == 0
    assert [i.due_date for i in invoices_of(subscription)] == [
        date(2026, 1, 10),
        date(2026, 2, 10),
    ]


def test_issuing_after_skipped_month_issues_each_period_once(
    org: Any, subscribe: Any
) -> None:
    subscription = subscribe(date(2026, 1, 10))
    # Nobody ran the job for two months; each day is then run in turn.
    assert service.issue_due(date(2026, 3, 25)) == 2
    day = date(2026, 2, 1)
    while day <= date(2026, 3, 31):
        service.issue_due(day)
        day += timedelta(days=1)
    dues = [i.due_date for i in invoices_of(subscription)]
    assert dues == [date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)]
    with tenancy.unscoped():
        periods = db.session.execute(
            select(func.count()).select_from(SubscriptionPeriod)
        ).scalar()
    assert periods == 3


def test_billing_command_issues_due_periods(org: Any, subscribe: Any, runner: Any):
    subscribe(date(2026, 1, 10))
    result = runner.invoke(args=["billing", "run", "--date", "2026-03-10"])
    assert result.exit_code == 0, result.output
    assert "2 cobrança(s) emitida(s)" in result.output
    again = runner.invoke(args=["billing", "run", "--date", "2026-03-10"])
    assert "0 cobrança(s) emitida(s)" in again.output
    bad = runner.invoke(args=["billing", "run", "--date", "10/03/2026"])
    assert bad.exit_code != 0


def candidate_ids(org: Any) -> list[str]:
    with tenancy.scope(org.id):
        return [row.subscription.public_id for row in service.candidates(org)]


def test_candidates_need_thirty_days_overdue_and_no_answer(
    org: Any, subscribe: Any
) -> None:
    recent = subscribe(today(org) - timedelta(days=29))
    assert candidate_ids(org) == []
    with tenancy.unscoped():
        invoice = invoices_of(recent)[0]
        invoice.due_date = today(org) - timedelta(days=30)
        db.session.commit()
    assert candidate_ids(org) == [recent.public_id]

    org.suspension_candidate_days = 45
    db.session.commit()
    assert candidate_ids(org) == []


def contact(org: Any, customer: Any, outcome: str, **extra: Any) -> None:
    with tenancy.scope(org.id):
        service.record_contact(
            customer, {"channel": "call", "outcome": outcome, **extra}, actor="test"
        )


def test_no_answer_keeps_candidate_other_outcomes_remove_it(
    org: Any, subscribe: Any
) -> None:
    subscription = subscribe(today(org) - timedelta(days=40))
    customer = subscription.customer
    contact(org, customer, "no_answer")
    assert candidate_ids(org) == [subscription.public_id]
    contact(org, customer, "refused", note="Disse que não vai pagar")
    assert candidate_ids(org) == []


def test_promise_removes_candidate_until_date_passes(org: Any, subscribe: Any):
    subscription = subscribe(today(org) - timedelta(days=40))
    contact(
        org,
        subscription.customer,
        "promised",
        promised_date=today(org).isoformat(),
    )
    assert candidate_ids(org) == []
    with tenancy.scope(org.id):
        rows = service.list_subscriptions(org, candidates_only=True)
        assert rows == []
        # The day after the promised date the subscription is back.
        later = service.list_subscriptions(
            org, candidates_only=True, today=today(org) + timedelta(days=1)
        )
    assert [r.subscription.public_id for r in later] == [subscription.public_id]


def test_contact_before_overdue_does_not_count(org: Any, subscribe: Any) -> None:
    subscription = subscribe(today(org) - timedelta(days=40))
    contact(org, subscription.customer, "paid")
    with tenancy.scope(org.id):
        contacts = service.contacts_of(subscription.customer_id)
        contacts[0].day = today(org) - timedelta(days=41)
        db.session.commit()
    assert candidate_ids(org) == [subscription.public_id]


def test_contact_needs_channel_outcome_and_future_promise(org, make_customer):
    customer = make_customer(org)
    with tenancy.scope(org.id), pytest.raises(ValidationFailed) as caught:
        service.record_contact(
            customer,
            {
                "channel": "fax",
                "outcome": "promised",
                "promised_date": (today(org) - timedelta(days=1)).isoformat(),
            },
            actor="t",
        )
    assert set(caught.value.fields) == {"channel", "promised_date"}


def test_suspend_records_event_and_delivery(org: Any, subscribe: Any) -> None:
    subscription = subscribe(today(org) - timedelta(days=40))
    with tenancy.scope(org.id):
        service.suspend_subscription(
            subscription.public_id, actor="user:ana@x", reason="sem resposta"
        )
        suspended = db.session.get(Subscription, subscription.id)
        assert suspended.status == "suspended"
        events = db.session.execute(
            select(Event.type, Event.data).where(
                Event.subscription_id == subscription.id
            )
        ).all()
        assert ("subscription.suspended", "sem resposta") in [
            (t, d.get("reason")) for t, d in events
        ]
        [delivery] = db.session.execute(select(AccessDelivery)).scalars().all()
    assert delivery.type == "access.blocked"
    assert delivery.status == "delivered"  # the `log` blocker confirms at once


def test_suspend_twice_or_with_nothing_overdue_is_refused(
    org: Any, subscribe: Any
) -> None:
    current = subscribe(today(org))
    with tenancy.scope(org.id), pytest.raises(Conflict) as caught:
        service.suspend_subscription(current.public_id, actor="t")
    assert caught.value.code == "nothing_overdue"

    overdue = subscribe(today(org) - timedelta(days=40))
    with tenancy.scope(org.id):
        service.suspend_subscription(overdue.public_id, actor="t")
        with pytest.raises(Conflict) as again:
            service.suspend_subscription(overdue.public_id, actor="t")
    assert again.value.code == "already_suspended"


def test_reactivate_refused_while_overdue_invoice_unpaid(
    org: Any, subscribe: Any
) -> None:
    subscription = subscribe(today(org) - timedelta(days=40))
    with tenancy.scope(org.id):
        service.suspend_subscription(subscription.public_id, actor="t")
    org.auto_reactivate = False
    db.session.commit()
    with tenancy.scope(org.id), pytest.raises(Conflict) as caught:
        service.reactivate_subscription(subscription.public_id, actor="t")
    assert caught.value.code == "unpaid_invoices"
    assert "não tem pagamento nem comprovante aceito" in caught.value.message

    for invoice in invoices_of(subscription):
        if invoice.status == InvoiceStatus.PENDING:
            pay(invoice)
    with tenancy.scope(org.id):
        still = db.session.get(Subscription, subscription.id)
        assert still.status == "suspended"  # the setting is off
        service.reactivate_subscription(subscription.public_id, actor="t")
        assert db.session.get(Subscription, subscription.id).status == "active"


def test_payment_reactivates_when_setting_on(org: Any, subscribe: Any) -> None:
    subscription = subscribe(today(org) - timedelta(days=40))
    service.issue_due()
    with tenancy.scope(org.id):
        service.suspend_subscription(subscription.public_id, actor="t")
    unpaid = [i for i in invoices_of(subscription) if i.status == "pending"]
    assert len(unpaid) == 2  # the period that started ten days ago too
    pay(unpaid[0])
    db.session.expire_all()
    # One overdue invoice is still unpaid: access stays cut.
    with tenancy.unscoped():
        assert db.session.get(Subscription, subscription.id).status == "suspended"
    pay(unpaid[1])
    db.session.expire_all()
    with tenancy.unscoped():
        back = db.session.get(Subscription, subscription.id)
        assert back.status == "active"
        types = (
            db.session.execute(select(AccessDelivery.type).order_by(AccessDelivery.id))
            .scalars()
            .all()
        )
    assert types == ["access.blocked", "access.unblocked"]


def test_reactivation_skips_periods_spent_suspended(org: Any, subscribe: Any):
    subscription = subscribe(today(org) - timedelta(days=100))
    with tenancy.scope(org.id):
        service.suspend_subscription(subscription.public_id, actor="t")
    org.auto_reactivate = False
    db.session.commit()
    for invoice in invoices_of(subscription):
        pay(invoice)
    with tenancy.scope(org.id):
        service.reactivate_subscription(subscription.public_id, actor="t")
        back = db.session.get(Subscription, subscription.id)
        assert back.next_billing_date > today(org)
    # The only invoice made since: the running period, due today.
    newest = invoices_of(subscription)[-1]
    assert newest.status == "pending"
    assert newest.due_date >= today(org)


def test_auto_suspend_is_off_by_default_and_follows_setting(
    org: Any, subscribe: Any
) -> None:
    subscription = subscribe(today(org) - timedelta(days=40))
    assert service.run_billing()["suspended"] == 0
    org.auto_suspend_days = 35
    db.session.commit()
    assert service.run_billing()["suspended"] == 1
    with tenancy.unscoped():
        assert db.session.get(Subscription, subscription.id).status == "suspended"


def test_other_organization_cannot_see_or_suspend(
    org: Any, other_org: Any, subscribe: Any
) -> None:
    subscription = subscribe(today(org) - timedelta(days=40))
    with tenancy.scope(other_org.id):
        assert service.candidates(other_org) == []
        with pytest.raises(service.NotFound):
            service.suspend_subscription(subscription.public_id, actor="t")


# --- staff pages -----------------------------------------------------------------


def test_candidates_page_suspend_with_confirmation(
    staff: Any, org: Any, subscribe: Any
) -> None:
    subscription = subscribe(today(org) - timedelta(days=40))
    page = staff.get("/assinaturas").get_data(as_text=True)
    assert "Candidatas à suspensão" in page
    assert subscription.customer.name in page
    confirm = staff.get(f"/assinaturas/{subscription.public_id}/suspender")
    text = confirm.get_data(as_text=True)
    assert "O que vai acontecer" in text
    assert "Registro (log)" in text  # the configured blocker, by its title
    assert "ext-" in text  # the merchant's id of the customer
    done = staff.post(
        f"/assinaturas/{subscription.public_id}/suspender",
        data={"reason": "sem resposta"},
        follow_redirects=True,
    )
    shown = done.get_data(as_text=True)
    assert "Assinatura suspensa" in shown
    assert "Suspensa" in shown
    assert "access.blocked" in shown and "Confirmado" in shown
    assert "não tem pagamento nem comprovante aceito" in shown

    refused = staff.post(
        f"/assinaturas/{subscription.public_id}/reativar", follow_redirects=True
    )
    assert "não tem pagamento nem comprovante aceito" in refused.get_data(as_text=True)


def test_contact_form_inline_and_without_js(
    staff: Any, org: Any, subscribe: Any
) -> None:
    subscription = subscribe(today(org) - timedelta(days=40))
    customer_id = subscription.customer.public_id
    page = staff.get(f"/clientes/{customer_id}").get_data(as_text=True)
    assert "Registrar contato" in page
    fragment = staff.post(
        f"/assinaturas/contatos/{customer_id}",
        data={"channel": "whatsapp", "outcome": "no_answer", "note": "visto"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert fragment.lstrip().startswith("<section")
    assert "Sem resposta" in fragment and "WhatsApp" in fragment
    bad = staff.post(
        f"/assinaturas/contatos/{customer_id}",
        data={"channel": "call", "outcome": "promised"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    assert "Informe a data prometida." in bad
    plain = staff.post(
        f"/assinaturas/contatos/{customer_id}",
        data={"channel": "call", "outcome": "refused"},
    )
    assert plain.status_code == 303
    assert plain.headers["Location"].endswith(f"/clientes/{customer_id}#contatos")
    assert candidate_ids(org) == []


def test_viewer_cannot_suspend(client: Any, auth: Any, viewer: Any, org, subscribe):
    subscription = subscribe(today(org) - timedelta(days=40))
    auth.login(viewer)
    response = client.post(f"/assinaturas/{subscription.public_id}/suspender")
    assert response.status_code == 403


def test_plan_and_subscription_forms(staff: Any, org: Any, make_customer: Any):
    customer = make_customer(org, name="Colégio Sol")
    bad = staff.post("/assinaturas/planos", data={"name": "", "amount": "abc"})
    assert bad.status_code == 422
    assert "Valor inválido" in bad.get_data(as_text=True)
    staff.post(
        "/assinaturas/planos",
        data={"name": "Integral", "amount": "1.200,00", "interval": "month"},
    )
    with tenancy.scope(org.id):
        [plan] = service.list_plans()
    assert plan.amount == 120000
    created = staff.post(
        "/assinaturas/nova",
        data={
            "customer_id": customer.public_id,
            "plan_id": plan.public_id,
            "start_date": today(org).isoformat(),
        },
        follow_redirects=True,
    )
    text = created.get_data(as_text=True)
    assert "a primeira cobrança foi emitida" in text
    assert "R$ 1.200,00" in text


def test_settings_page_saves_rules(staff: Any, org: Any) -> None:
    page = staff.get("/configuracoes/assinaturas").get_data(as_text=True)
    assert 'value="30"' in page
    bad = staff.post(
        "/configuracoes/assinaturas",
        data={"candidate_days": "0", "auto_suspend": "on", "auto_suspend_days": "x"},
    )
    assert bad.status_code == 422
    assert "entre 1 e 3650" in bad.get_data(as_text=True)
    staff.post(
        "/configuracoes/assinaturas",
        data={"candidate_days": "45", "auto_suspend": "on", "auto_suspend_days": "60"},
    )
    db.session.refresh(org)
    assert org.suspension_candidate_days == 45
    assert org.auto_reactivate is False  # unchecked box
    assert org.auto_suspend_days == 60
