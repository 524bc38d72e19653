"""``flask demo``: a demo organization with staff, customers, invoices and members."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import click
from flask import Flask
from sqlalchemy import select

from . import clock, tenancy, validation
from .extensions import db
from .models import (
    Customer,
    Invoice,
    InvoiceStatus,
    Organization,
    Role,
    Subscription,
    User,
    utcnow,
)
from .services import negotiation, payments, subscriptions
from .services.customers import search_key
from .services.invoices import figures, new_invoice

DEMO_ORG = "Academia Movimento"
DEMO_EMAIL = "dona@demo.agnozys.com.br"
DEMO_PASSWORD = "demo-agnozys"
DEMO_AGENT = "agente@demo.agnozys.com.br"
NOON_UTC = time(12, tzinfo=UTC)  # when the demo's members paid, on the due day

FIRST = [
    "Ana",
    "Bruno",
    "Carla",
    "Diego",
    "Elisa",
    "Fábio",
    "Gabriela",
    "Heitor",
    "Íris",
    "João",
    "Larissa",
    "Marcos",
    "Natália",
    "Otávio",
    "Paula",
    "Rafael",
    "Sofia",
    "Tiago",
    "Vitória",
    "Wagner",
]
LAST = [
    "Silva",
    "Souza",
    "Oliveira",
    "Santos",
    "Pereira",
    "Lima",
    "Carvalho",
    "Ferreira",
    "Rodrigues",
    "Almeida",
    "Costa",
    "Gomes",
    "Martins",
    "Araújo",
]
PLANS = [
    "Mensalidade Plano Mensal",
    "Mensalidade Plano Trimestral",
    "Avaliação física",
    "Personal trainer (4 aulas)",
    "Matrícula",
]


# Monthly members, by demo customer: days since the subscription started and
# how many of its periods were paid. Two stopped paying over 30 days ago, so
# Assinaturas lists them as candidates for suspension.
MEMBERS = (
    ("aluno-0006", 75, 3),
    ("aluno-0007", 50, 2),
    ("aluno-0008", 20, 1),
    ("aluno-0009", 70, 1),
    ("aluno-0010", 35, 0),
    ("aluno-0011", 5, 0),
)


def load_demo(seed: int = 7) -> tuple[Organization, bool]:
    """Create the demo organization once; returns it and whether it was new.

    The rest of the story is a second step, run when the organization has
    no subscription yet, so a demo database made before it gains it too:
    monthly members, and two debts recovered today by the agent (a new due
    date, an agreement). Reminders are the daily job's: ``scripts/run-demo``
    runs ``flask dunning run`` after this.
    """
    existing = db.session.execute(
        select(Organization).where(Organization.name == DEMO_ORG)
    ).scalar_one_or_none()
    org = existing or _load_organization(seed)
    with tenancy.scope(org.id):
        if db.session.scalar(select(Subscription.id).limit(1)) is None:
            _load_members(org)
            _load_recoveries(org)
    return org, existing is None


def _load_organization(seed: int) -> Organization:
    rng = random.Random(seed)
    org = Organization(name=DEMO_ORG)
    db.session.add(org)
    db.session.flush()
    for email, role, name in (
        (DEMO_EMAIL, Role.OWNER, "Dona da Academia"),
        (DEMO_AGENT, Role.AGENT, "Agente de Cobrança"),
        ("leitura@demo.agnozys.com.br", Role.VIEWER, "Contador"),
    ):
        user = User(organization_id=org.id, email=email, role=role, name=name)
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)

    today = clock.today(org.timezone)
    with tenancy.scope(org.id):
        for i in range(40):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(LAST)}"
            customer = Customer(
                organization_id=org.id,
                name=name,
                search_name=search_key(name),
                email=f"cliente{i + 1}@example.com",
                phone="55119" + f"{rng.randrange(10**8):08d}",
                document=validation.complete_cpf(f"{rng.randrange(10**8, 10**9)}"),
                external_id=f"aluno-{i + 1:04d}",
            )
            db.session.add(customer)
            db.session.flush()
            # A few big debtors so the Pareto view has a story to tell.
            big = i < 5
            for _ in range(rng.randint(1, 4)):
                amount = rng.choice([8990, 12990, 19990, 35000, 4500])
                if big:
                    amount *= rng.randint(8, 20)
                offset = rng.randint(-120, 40)
                invoice = new_invoice(
                    organization=org,
                    customer=customer,
                    amount=amount,
                    due_date=today + timedelta(days=offset),
                    description=rng.choice(PLANS),
                    fine_bp=org.fine_bp,
                    interest_bp=org.interest_bp,
                    actor="system:demo",
                )
                roll = rng.random()
                if offset < 0 and roll < 0.45:
                    late = rng.randint(0, 10)
                    _mark_paid(invoice, utcnow() - timedelta(days=late))
                elif roll > 0.95:
                    invoice.status = InvoiceStatus.CANCELED
                    invoice.cancel_reason = "Desistência"
    db.session.commit()
    return org


def _load_members(org: Organization) -> None:
    """Subscriptions through the real services, issued up to today."""
    today = clock.today(org.timezone)
    plan = subscriptions.create_plan(
        {"name": "Plano Mensal", "amount": "149.90", "interval": "month"},
        actor="system:demo",
    )
    for external_id, days, paid in MEMBERS:
        customer = db.session.execute(
            select(Customer).where(Customer.external_id == external_id)
        ).scalar_one()
        subscription = subscriptions.create_subscription(
            {
                "customer_id": customer.public_id,
                "plan_id": plan.public_id,
                "start_date": (today - timedelta(days=days)).isoformat(),
            },
            organization=org,
            actor="system:demo",
        )
        subscriptions.issue_subscription(subscription.id, today, actor="system:demo")
        periods = db.session.execute(
            select(Invoice)
            .where(Invoice.subscription_id == subscription.id)
            .order_by(Invoice.due_date)
        ).scalars()
        for invoice in list(periods)[:paid]:
            _mark_paid(invoice, datetime.combine(invoice.due_date, NOON_UTC))
        db.session.commit()


def _load_recoveries(org: Organization) -> None:
    """The agent moves one old debt to a new date and splits another in two;
    both customers pay by Pix (the first part, for the agreement)."""
    today = clock.today(org.timezone)
    oldest = (
        db.session.execute(
            select(Invoice.public_id)
            .where(
                Invoice.status == InvoiceStatus.PENDING,
                Invoice.subscription_id.is_(None),
                Invoice.due_date < today - timedelta(days=30),
            )
            .order_by(Invoice.due_date, Invoice.id)
            .limit(2)
        )
        .scalars()
        .all()
    )
    if len(oldest) < 2:
        return
    moved = negotiation.reschedule_invoice(
        oldest[0],
        {"due_date": (today + timedelta(days=3)).isoformat(), "waive": "interest"},
        actor=DEMO_AGENT,
    )
    _pay_by_pix(moved.public_id)
    agreement = negotiation.make_agreement(
        oldest[1],
        {"installments": 2, "first_due_date": today.isoformat(), "interval_days": 30},
        actor=DEMO_AGENT,
    )
    _pay_by_pix(negotiation.agreement_parts(agreement.id)[0].public_id)


def _pay_by_pix(public_id: str) -> None:
    invoice = negotiation.lock_invoice(public_id)
    payments.mark_paid(
        invoice,
        amount=figures(invoice).amount_due,
        paid_at=clock.now(),
        method="pix",
        actor="system:demo",
    )
    db.session.commit()


def _mark_paid(invoice: Invoice, paid_at: datetime) -> None:
    """Paid in the demo's past, with no payment event: history, not a flow."""
    invoice.status = InvoiceStatus.PAID
    invoice.paid_amount = invoice.amount
    invoice.payment_method = "demo"
    invoice.paid_at = paid_at


def install(app: Flask) -> None:
    @app.cli.command("demo")
    def demo_command() -> None:
        """Load a demo organization with staff, customers, invoices and members."""
        org, created = load_demo()
        verb = "criada" if created else "já existia"
        click.echo(f"Organização de demonstração {verb}: {org.name}")
        click.echo(f"Entre com: {DEMO_EMAIL} / {DEMO_PASSWORD}")
