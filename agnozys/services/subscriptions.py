"""Plans, subscriptions and the panic button (DOMAIN.md flow 4).

Periods are issued by :func:`issue_due` (the daily job and ``flask
billing run``), each exactly once thanks to a unique key per period.
:func:`suspend_subscription` and :func:`reactivate_subscription` lock the
subscription row, so a suspension racing a payment ends consistent: the
payment's ``invoice.paid`` handler waits for the suspension to commit and
then reactivates, or the suspension finds nothing overdue and refuses.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from .. import clock, jobs, money, tenancy, validation
from ..extensions import db
from ..models import Customer, Invoice, InvoiceStatus, Organization, utcnow
from ..models.subscriptions import (
    Contact,
    ContactChannel,
    ContactOutcome,
    Plan,
    PlanInterval,
    Subscription,
    SubscriptionPeriod,
    SubscriptionStatus,
)
from . import Conflict, NotFound, ValidationFailed, find_referenced
from .access import BLOCKED, UNBLOCKED, create_delivery
from .invoices import new_invoice
from .timeline import record

log = logging.getLogger(__name__)

INTERVAL_LABELS = {"month": "Mensal", "year": "Anual"}
CHANNEL_LABELS = {"call": "Ligação", "whatsapp": "WhatsApp", "email": "E-mail"}
OUTCOME_LABELS = {
    "no_answer": "Sem resposta",
    "promised": "Prometeu pagar",
    "refused": "Recusou",
    "paid": "Pagou",
}


# --- periods -----------------------------------------------------------------


def period_start(start: date, interval: PlanInterval | str, index: int) -> date:
    """Return the first day of period ``index`` (0 is ``start`` itself).

    Dates stay anchored on the start day: a plan starting on 31 January
    bills on 28 (or 29) February, then 31 March.
    """
    months = index * (12 if PlanInterval(interval) == PlanInterval.YEAR else 1)
    year, month0 = divmod(start.month - 1 + months, 12)
    year += start.year
    day = min(start.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


# --- plans -------------------------------------------------------------------


def create_plan(data: dict[str, Any], *, actor: str, dry_run: bool = False) -> Plan:
    """Create a plan in the current organization and commit.

    ``dry_run`` only validates (raising :class:`ValidationFailed`).
    """
    fields: dict[str, str] = {}
    values: dict[str, Any] = {}
    try:
        values["name"] = validation.text(
            data.get("name"), required=True, max_length=120, label=_("o nome")
        )
    except validation.Invalid as exc:
        fields["name"] = str(exc)
    try:
        values["amount"] = money.parse_amount(data.get("amount"))
    except money.MoneyError as exc:
        fields["amount"] = str(exc)
    interval = data.get("interval")
    if interval not in ("month", "year"):
        fields["interval"] = _('Use "month" (mensal) ou "year" (anual).')
    else:
        values["interval"] = PlanInterval(interval)
    if fields:
        raise ValidationFailed(_("Confira os campos destacados."), fields)
    plan = Plan(**values)
    if dry_run:
        return plan
    db.session.add(plan)
    db.session.commit()
    log.info("Plan %s: created by %s", plan.public_id, actor)
    return plan


def list_plans() -> list[Plan]:
    return list(db.session.execute(select(Plan).order_by(Plan.name)).scalars())


def get_plan(public_id: str) -> Plan:
    plan = db.session.execute(
        select(Plan).where(Plan.public_id == public_id)
    ).scalar_one_or_none()
    if plan is None:
        raise NotFound(_("Plano não encontrado."))
    return plan


# --- subscriptions -----------------------------------------------------------


def get_subscription(public_id: str, *, lock: bool = False) -> Subscription:
    statement = select(Subscription).where(Subscription.public_id == public_id)
    if lock:
        statement = statement.with_for_update()
    subscription = db.session.execute(statement).scalar_one_or_none()
    if subscription is None:
        raise NotFound(_("Assinatura não encontrada."))
    return subscription


def create_subscription(
    data: dict[str, Any], *, organization: Organization, actor: str
) -> Subscription:
    """Put a customer on a plan and issue the first invoice, due on the start."""
    fields: dict[str, str] = {}
    start: date | None = None
    customer = find_referenced(
        Customer,
        data,
        "customer_id",
        fields,
        missing=_("Informe o cliente."),
        unknown=_("Cliente não encontrado."),
    )
    plan = find_referenced(
        Plan,
        data,
        "plan_id",
        fields,
        missing=_("Informe o plano."),
        unknown=_("Plano não encontrado."),
    )
    try:
        start = validation.iso_date(data.get("start_date"))
    except validation.Invalid as exc:
        fields["start_date"] = str(exc)
    if fields or customer is None or plan is None or start is None:
        raise ValidationFailed(_("Confira os campos destacados."), fields)

    subscription = Subscription(
        customer=customer,
        plan=plan,
        status=SubscriptionStatus.ACTIVE,
        start_date=start,
        next_billing_date=start,
        periods_issued=0,
    )
    db.session.add(subscription)
    db.session.flush()
    record(
        "subscription.created",
        actor=actor,
        customer_id=customer.id,
        subscription_id=subscription.id,
        data={"plan": plan.name, "start_date": start.isoformat(), "to": "active"},
    )
    _issue_next(subscription, organization, actor)
    db.session.commit()
    return subscription


def _issue_next(
    subscription: Subscription,
    organization: Organization,
    actor: str,
    due_date: date | None = None,
) -> Invoice:
    """Issue the period starting at ``next_billing_date`` and move on."""
    plan = subscription.plan
    start = subscription.next_billing_date
    following = period_start(
        subscription.start_date, plan.interval, subscription.periods_issued + 1
    )
    description = _(
        "%(plan)s · período de %(start)s a %(end)s",
        plan=plan.name,
        start=money.format_day(start),
        end=money.format_day(following - timedelta(days=1)),
    )
    invoice = new_invoice(
        organization=organization,
        customer=subscription.customer,
        amount=plan.amount,
        due_date=due_date or start,
        description=description,
        fine_bp=organization.fine_bp,
        interest_bp=organization.interest_bp,
        actor=actor,
        subscription_id=subscription.id,
        event_data={
            "subscription_id": subscription.public_id,
            "period_start": start.isoformat(),
        },
    )
    db.session.add(
        SubscriptionPeriod(
            organization_id=subscription.organization_id,
            subscription_id=subscription.id,
            period_start=start,
            invoice_id=invoice.id,
        )
    )
    subscription.periods_issued += 1
    subscription.next_billing_date = following
    return invoice


def issue_subscription(subscription_id: int, day: date, *, actor: str) -> int:
    """Issue every period of one subscription starting by ``day``; commits.

    Returns how many invoices were issued. The row lock makes concurrent
    runs take turns; the unique key per period is the last word.
    """
    subscription = db.session.execute(
        select(Subscription).where(Subscription.id == subscription_id).with_for_update()
    ).scalar_one_or_none()
    if (
        subscription is None
        or subscription.status != SubscriptionStatus.ACTIVE
        or subscription.next_billing_date > day
    ):
        db.session.rollback()
        return 0
    organization = subscription.organization
    issued = 0
    while subscription.next_billing_date <= day:
        _issue_next(subscription, organization, actor)
        issued += 1
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("Subscription %s: period issued elsewhere", subscription_id)
        return 0
    return issued


def issue_due(day: date | None = None, *, actor: str = "system") -> int:
    """Issue the invoices of every period starting by ``day`` (default today).

    Without ``day`` each organization uses its own today. Safe to run
    twice and after skipped days: each period is issued once.
    """
    total = 0
    with tenancy.unscoped():
        organizations = db.session.execute(
            select(Organization.id, Organization.timezone)
        ).all()
    for organization_id, timezone in organizations:
        target = day or clock.today(timezone)
        with tenancy.scope(organization_id):
            ids = (
                db.session.execute(
                    select(Subscription.id)
                    .where(
                        Subscription.status == SubscriptionStatus.ACTIVE,
                        Subscription.next_billing_date <= target,
                    )
                    .order_by(Subscription.id)
                )
                .scalars()
                .all()
            )
            for subscription_id in ids:
                total += issue_subscription(subscription_id, target, actor=actor)
    return total


@jobs.job("billing.run")
def run_billing(day: str | None = None) -> dict[str, int]:
    """The daily job: issue due periods, then suspend by the org's rule."""
    target = date.fromisoformat(day) if day else None
    issued = issue_due(target)
    suspended = auto_suspend(target)
    log.info("Billing run: %s invoices issued, %s suspended", issued, suspended)
    return {"issued": issued, "suspended": suspended}


# --- who owes what -----------------------------------------------------------


def overdue_since(today: date) -> Any:
    """The due date of a subscription's oldest unpaid overdue invoice."""
    return (
        select(func.min(Invoice.due_date))
        .where(
            Invoice.subscription_id == Subscription.id,
            Invoice.status == InvoiceStatus.PENDING,
            Invoice.due_date < today,
        )
        .correlate(Subscription)
        .scalar_subquery()
    )


def answered_since(oldest: Any, today: date) -> ColumnElement[bool]:
    """The customer answered since the oldest invoice went overdue.

    Any outcome but "sem resposta" counts; a promise to pay counts only
    until the promised date passes.
    """
    return exists().where(
        Contact.customer_id == Subscription.customer_id,
        Contact.day > oldest,
        or_(
            Contact.outcome.in_([ContactOutcome.REFUSED, ContactOutcome.PAID]),
            and_(
                Contact.outcome == ContactOutcome.PROMISED,
                Contact.promised_date >= today,
            ),
        ),
    )


@dataclass(frozen=True)
class Row:
    """A subscription as the lists show it."""

    subscription: Subscription
    overdue_since: date | None
    today: date

    @property
    def overdue_days(self) -> int:
        if self.overdue_since is None:
            return 0
        return (self.today - self.overdue_since).days


def list_subscriptions(
    organization: Organization,
    *,
    status: str | None = None,
    overdue_days_gte: int | None = None,
    candidates_only: bool = False,
    threshold: int | None = None,
    today: date | None = None,
) -> list[Row]:
    """Return subscriptions with their oldest overdue date, oldest debt first.

    ``candidates_only`` keeps active ones overdue ``threshold`` days or
    more (the organization's setting by default) whose customer did not
    answer: the suspension candidates.
    """
    today = today or clock.today(organization.timezone)
    oldest = overdue_since(today)
    statement = select(Subscription, oldest.label("overdue_since"))
    if status:
        statement = statement.where(Subscription.status == SubscriptionStatus(status))
    if overdue_days_gte is not None:
        statement = statement.where(oldest <= today - timedelta(days=overdue_days_gte))
    if candidates_only:
        days = (
            organization.suspension_candidate_days if threshold is None else threshold
        )
        statement = statement.where(
            Subscription.status == SubscriptionStatus.ACTIVE,
            oldest <= today - timedelta(days=days),
            ~answered_since(oldest, today),
        )
    statement = statement.order_by(oldest.is_(None), oldest, Subscription.id)
    return [
        Row(subscription, since, today)
        for subscription, since in db.session.execute(statement).all()
    ]


def candidates(organization: Organization, today: date | None = None) -> list[Row]:
    """Return the suspension candidates of the current organization."""
    return list_subscriptions(organization, candidates_only=True, today=today)


def unpaid_overdue(subscription: Subscription, today: date) -> list[Invoice]:
    """Invoices of the subscription overdue with no payment or accepted proof.

    A payment or an accepted proof marks the invoice paid, so what is
    still pending past its due date is exactly what blocks reactivation.
    """
    return list(
        db.session.execute(
            select(Invoice)
            .where(
                Invoice.subscription_id == subscription.id,
                Invoice.status == InvoiceStatus.PENDING,
                Invoice.due_date < today,
            )
            .order_by(Invoice.due_date, Invoice.id)
        ).scalars()
    )


def refusal_reason(unpaid: list[Invoice]) -> str:
    """Say in Portuguese why a subscription cannot come back yet."""
    first = unpaid[0]
    if len(unpaid) == 1:
        return _(
            "Não é possível reativar: a cobrança nº %(number)s, vencida em "
            "%(due)s, não tem pagamento nem comprovante aceito.",
            number=first.number,
            due=money.format_day(first.due_date),
        )
    return _(
        "Não é possível reativar: %(count)s cobranças vencidas (a mais antiga, "
        "nº %(number)s, em %(due)s) não têm pagamento nem comprovante aceito.",
        count=len(unpaid),
        number=first.number,
        due=money.format_day(first.due_date),
    )


# --- the panic button ----------------------------------------------------------


def suspend_subscription(
    public_id: str, *, actor: str, reason: str | None = None
) -> Subscription:
    """Suspend a subscription and ask the blocker to cut access; commits."""
    subscription = get_subscription(public_id, lock=True)
    return _suspend(subscription, actor=actor, reason=reason)


def _suspend(
    subscription: Subscription, *, actor: str, reason: str | None
) -> Subscription:
    if subscription.status == SubscriptionStatus.SUSPENDED:
        raise Conflict(_("A assinatura já está suspensa."), "already_suspended")
    if subscription.status == SubscriptionStatus.CANCELED:
        raise Conflict(_("A assinatura está cancelada."), "subscription_canceled")
    reason = (reason or "").strip()[:500]
    today = clock.today(subscription.organization.timezone)
    # Read after the lock: a payment committed meanwhile is seen here.
    unpaid = unpaid_overdue(subscription, today)
    if not unpaid:
        raise Conflict(
            _("Nada a suspender: esta assinatura não tem cobrança vencida em aberto."),
            "nothing_overdue",
        )
    subscription.status = SubscriptionStatus.SUSPENDED
    subscription.suspended_at = utcnow()
    record(
        "subscription.suspended",
        actor=actor,
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        organization_id=subscription.organization_id,
        data={
            "from": "active",
            "to": "suspended",
            "reason": reason,
            "overdue_invoices": [invoice.number for invoice in unpaid],
        },
    )
    create_delivery(subscription, BLOCKED)
    db.session.commit()
    log.info("Subscription %s: suspended by %s", subscription.public_id, actor)
    return subscription


def reactivate_subscription(public_id: str, *, actor: str) -> Subscription:
    """Reactivate a suspended subscription and restore access; commits.

    Raises :class:`Conflict` ``unpaid_invoices`` while an overdue invoice
    has neither a payment nor an accepted proof. An active one is left as
    it is.
    """
    subscription = get_subscription(public_id, lock=True)
    if subscription.status == SubscriptionStatus.ACTIVE:
        db.session.rollback()
        return subscription
    if subscription.status == SubscriptionStatus.CANCELED:
        raise Conflict(_("A assinatura está cancelada."), "subscription_canceled")
    today = clock.today(subscription.organization.timezone)
    unpaid = unpaid_overdue(subscription, today)
    if unpaid:
        raise Conflict(refusal_reason(unpaid), "unpaid_invoices")
    _reactivate(subscription, actor=actor, today=today, automatic=False)
    return subscription


def _reactivate(
    subscription: Subscription, *, actor: str, today: date, automatic: bool
) -> None:
    organization = subscription.organization
    skipped = []
    # Periods that started and ended while access was cut are not billed;
    # the one running today is, due today.
    while subscription.next_billing_date <= today:
        following = period_start(
            subscription.start_date,
            subscription.plan.interval,
            subscription.periods_issued + 1,
        )
        if following <= today:
            skipped.append(subscription.next_billing_date.isoformat())
            subscription.periods_issued += 1
            subscription.next_billing_date = following
            continue
        _issue_next(subscription, organization, actor, due_date=today)
    subscription.status = SubscriptionStatus.ACTIVE
    subscription.suspended_at = None
    record(
        "subscription.reactivated",
        actor=actor,
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        organization_id=subscription.organization_id,
        data={
            "from": "suspended",
            "to": "active",
            "automatic": automatic,
            "skipped_periods": skipped,
        },
    )
    create_delivery(subscription, UNBLOCKED)
    db.session.commit()
    log.info("Subscription %s: reactivated by %s", subscription.public_id, actor)


def reactivate_if_paid(subscription_id: int) -> bool:
    """Reactivate a suspended subscription once nothing overdue is unpaid.

    Used after a payment or an accepted proof when the organization
    reactivates automatically; commits. Returns True when it reactivated.
    """
    subscription = db.session.execute(
        select(Subscription).where(Subscription.id == subscription_id).with_for_update()
    ).scalar_one_or_none()
    if (
        subscription is None
        or subscription.status != SubscriptionStatus.SUSPENDED
        or not subscription.organization.auto_reactivate
    ):
        db.session.rollback()
        return False
    today = clock.today(subscription.organization.timezone)
    if unpaid_overdue(subscription, today):
        db.session.rollback()
        return False
    _reactivate(subscription, actor="system", today=today, automatic=True)
    return True


def on_invoice_paid(invoice: Invoice) -> None:
    """Paid handler: a subscription's payment may bring its access back."""
    if invoice.subscription_id is None:
        return
    with tenancy.scope(invoice.organization_id):
        reactivate_if_paid(invoice.subscription_id)


def auto_suspend(day: date | None = None) -> int:
    """Suspend the candidates of organizations that suspend automatically."""
    count = 0
    with tenancy.unscoped():
        organizations = (
            db.session.execute(
                select(Organization).where(Organization.auto_suspend_days.is_not(None))
            )
            .scalars()
            .all()
        )
    for organization in organizations:
        with tenancy.scope(organization.id):
            today = day or clock.today(organization.timezone)
            rows = list_subscriptions(
                organization,
                candidates_only=True,
                threshold=organization.auto_suspend_days,
                today=today,
            )
            for row in rows:
                try:
                    suspend_subscription(
                        row.subscription.public_id,
                        actor="system",
                        reason=_("Suspensão automática"),
                    )
                    count += 1
                except Conflict:
                    db.session.rollback()
    return count


# --- contacts ------------------------------------------------------------------


def record_contact(customer: Customer, data: dict[str, Any], *, actor: str) -> Contact:
    """Log a contact with a customer (call, WhatsApp, e-mail); commits."""
    fields: dict[str, str] = {}
    channel = data.get("channel")
    outcome = data.get("outcome")
    promised: date | None = None
    if channel not in CHANNEL_LABELS:
        fields["channel"] = _("Escolha o canal.")
    if outcome not in OUTCOME_LABELS:
        fields["outcome"] = _("Escolha o resultado.")
    today = clock.today(customer.organization.timezone)
    if outcome == "promised":
        try:
            promised = validation.iso_date(data.get("promised_date"))
        except validation.Invalid:
            fields["promised_date"] = _("Informe a data prometida.")
        else:
            if promised < today:
                fields["promised_date"] = _("A data prometida não pode ser passada.")
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > 2000:
        fields["note"] = _("Nota longa demais (máximo de 2000 caracteres).")
    if fields:
        raise ValidationFailed(_("Confira os campos destacados."), fields)
    contact = Contact(
        organization_id=customer.organization_id,
        customer_id=customer.id,
        channel=ContactChannel(str(channel)),
        outcome=ContactOutcome(str(outcome)),
        promised_date=promised,
        note=note.strip(),
        actor=actor,
        at=utcnow(),
        day=today,
    )
    db.session.add(contact)
    db.session.commit()
    return contact


def contacts_of(customer_id: int) -> list[Contact]:
    """Return a customer's contacts, newest first."""
    return list(
        db.session.execute(
            select(Contact)
            .where(Contact.customer_id == customer_id)
            .order_by(Contact.at.desc(), Contact.id.desc())
        ).scalars()
    )


def _register_paid_handler() -> None:
    from . import payments

    if on_invoice_paid not in payments.PAID_HANDLERS:
        payments.PAID_HANDLERS.append(on_invoice_paid)


_register_paid_handler()
