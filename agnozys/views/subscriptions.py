"""Assinaturas: plans, subscriptions, candidates and the panic button."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import auth, plugins, timeline
from ..extensions import db
from ..models import Customer, Event, Invoice, Role
from ..models.subscriptions import Subscription
from ..services import Conflict, NotFound, ValidationFailed
from ..services import access as access_service
from ..services import subscriptions as service
from ..services.customers import get_customer
from ..services.invoices import figures
from .invoices import organization_today

bp = Blueprint("subscriptions", __name__, url_prefix="/assinaturas")

STATUS_FILTERS = ("", "active", "suspended", "canceled")
DELIVERY_LABELS = {
    "pending": "Tentando",
    "delivered": "Confirmado",
    "failed": "Falhou",
}
TYPE_LABELS = {
    "access.blocked": "Cortar acesso",
    "access.unblocked": "Devolver acesso",
}


@bp.app_template_global()
def customer_contacts(customer: Customer) -> list[Any]:
    """The customer's contact log, newest first (for customers/_contacts)."""
    return service.contacts_of(customer.id)


@bp.app_template_global()
def contact_labels() -> dict[str, dict[str, str]]:
    return {
        "channel": {k: _(v) for k, v in service.CHANNEL_LABELS.items()},
        "outcome": {k: _(v) for k, v in service.OUTCOME_LABELS.items()},
    }


def blocker_name() -> str:
    """Name the access blocker as staff know it (its title)."""
    names = plugins.selected(current_app.config)["blocker"]
    if not names:
        return _("nenhum bloqueador configurado")
    plugin = plugins.manager().get_plugin(names[0])
    info = getattr(plugin, "agnozys_plugin_info", None)
    return str(info().title) if info else names[0]


@bp.get("")
@bp.get("/")
@login_required
def index() -> Any:
    organization = current_user.organization
    status = request.args.get("status", "")
    if status not in STATUS_FILTERS:
        status = ""
    candidates = service.candidates(organization)
    rows = service.list_subscriptions(organization, status=status or None)
    return render_template(
        "subscriptions/index.html",
        candidates=candidates,
        rows=rows,
        status=status,
        threshold=organization.suspension_candidate_days,
        last_contacts=_last_contacts([r.subscription for r in candidates]),
    )


def _last_contacts(subscriptions: list[Subscription]) -> dict[int, Any]:
    found = {}
    for subscription in subscriptions:
        contacts = service.contacts_of(subscription.customer_id)
        if contacts:
            found[subscription.customer_id] = contacts[0]
    return found


def _subscription(public_id: str) -> Subscription:
    try:
        return service.get_subscription(public_id)
    except NotFound:
        abort(404)


@bp.get("/<public_id>")
@login_required
def show(public_id: str) -> Any:
    subscription = _subscription(public_id)
    today = organization_today()
    invoices = list(
        db.session.execute(
            select(Invoice)
            .where(Invoice.subscription_id == subscription.id)
            .order_by(Invoice.due_date.desc(), Invoice.id.desc())
        ).scalars()
    )
    events = list(
        db.session.execute(
            select(Event)
            .where(
                Event.subscription_id == subscription.id,
                Event.type.like("subscription.%") | Event.type.like("access.%"),
            )
            .order_by(Event.id)
        ).scalars()
    )
    unpaid = service.unpaid_overdue(subscription, today)
    return render_template(
        "subscriptions/show.html",
        subscription=subscription,
        customer=subscription.customer,
        invoices=[(invoice, figures(invoice, today)) for invoice in invoices],
        events=events,
        deliveries=access_service.deliveries_of(subscription),
        unpaid=unpaid,
        refusal=service.refusal_reason(unpaid) if unpaid else None,
        delivery_labels=DELIVERY_LABELS,
        type_labels=TYPE_LABELS,
        event_label=timeline.label,
        actor_label=timeline.actor_label,
    )


@bp.route("/<public_id>/suspender", methods=["GET", "POST"])
@auth.require_role(Role.AGENT)
def suspend(public_id: str) -> Any:
    """Confirm, then suspend: the page says what will happen first."""
    subscription = _subscription(public_id)
    if request.method == "POST":
        try:
            service.suspend_subscription(
                public_id,
                actor=auth.actor(),
                reason=request.form.get("reason", ""),
            )
        except Conflict as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(
                _(
                    "Assinatura suspensa. O bloqueador foi acionado para cortar "
                    "o acesso de %(name)s.",
                    name=subscription.customer.name,
                ),
                "success",
            )
        return redirect(url_for("subscriptions.show", public_id=public_id), code=303)
    today = organization_today()
    unpaid = service.unpaid_overdue(subscription, today)
    return render_template(
        "subscriptions/suspend.html",
        subscription=subscription,
        customer=subscription.customer,
        unpaid=[(invoice, figures(invoice, today)) for invoice in unpaid],
        blocker=blocker_name(),
        auto_reactivate=current_user.organization.auto_reactivate,
    )


@bp.post("/<public_id>/reativar")
@auth.require_role(Role.AGENT)
def reactivate(public_id: str) -> Any:
    _subscription(public_id)
    try:
        service.reactivate_subscription(public_id, actor=auth.actor())
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Assinatura reativada. O acesso será devolvido."), "success")
    return redirect(url_for("subscriptions.show", public_id=public_id), code=303)


@bp.post("/envios/<public_id>/reenviar")
@auth.require_role(Role.AGENT)
def retry_delivery(public_id: str) -> Any:
    try:
        delivery = access_service.get_delivery(public_id)
    except NotFound:
        abort(404)
    subscription_id = delivery.subscription.public_id
    try:
        access_service.retry_delivery(public_id, actor=auth.actor())
    except Conflict as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Envio refeito."), "success")
    return redirect(
        url_for("subscriptions.show", public_id=subscription_id) + "#envios",
        code=303,
    )


@bp.route("/planos", methods=["GET", "POST"])
@login_required
def plans() -> Any:
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        if not auth.can_edit():
            abort(403)
        values = {
            key: request.form.get(key, "") for key in ("name", "amount", "interval")
        }
        try:
            plan = service.create_plan(values, actor=auth.actor())
        except ValidationFailed as exc:
            db.session.rollback()
            errors, status = exc.fields, 422
        else:
            flash(_("Plano %(name)s criado.", name=plan.name), "success")
            return redirect(url_for("subscriptions.plans"), code=303)
    return render_template(
        "subscriptions/plans.html",
        plans=service.list_plans(),
        values=values,
        errors=errors,
    ), status


@bp.route("/nova", methods=["GET", "POST"])
@auth.require_role(Role.AGENT)
def new() -> Any:
    values = {
        "customer_id": request.values.get("cliente", ""),
        "plan_id": "",
        "start_date": organization_today().isoformat(),
    }
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {
            key: request.form.get(key, "")
            for key in ("customer_id", "plan_id", "start_date")
        }
        try:
            subscription = service.create_subscription(
                values, organization=current_user.organization, actor=auth.actor()
            )
        except ValidationFailed as exc:
            db.session.rollback()
            errors, status = exc.fields, 422
        else:
            flash(_("Assinatura criada; a primeira cobrança foi emitida."), "success")
            return redirect(
                url_for("subscriptions.show", public_id=subscription.public_id),
                code=303,
            )
    customers = list(
        db.session.execute(
            select(Customer).order_by(Customer.name).limit(500)
        ).scalars()
    )
    return render_template(
        "subscriptions/new.html",
        customers=customers,
        plans=service.list_plans(),
        values=values,
        errors=errors,
    ), status


@bp.post("/contatos/<customer_id>")
@auth.require_role(Role.AGENT)
def add_contact(customer_id: str) -> Any:
    """Log a contact with a customer; htmx swaps the contact section."""
    try:
        customer = get_customer(customer_id)
    except NotFound:
        abort(404)
    values = {
        key: request.form.get(key, "")
        for key in ("channel", "outcome", "promised_date", "note")
    }
    errors: dict[str, str] = {}
    try:
        service.record_contact(customer, values, actor=auth.actor())
    except ValidationFailed as exc:
        db.session.rollback()
        errors = exc.fields
    else:
        values = {}
        if not request.htmx:
            flash(_("Contato registrado."), "success")
    if request.htmx:
        # htmx swaps only 2xx answers by default; errors come back as 200.
        return render_template(
            "customers/_contacts.html",
            customer=customer,
            contact_values=values,
            contact_errors=errors,
            saved=not errors,
        )
    if errors:
        flash(_("Contato não registrado: ") + "; ".join(errors.values()), "error")
    back = request.form.get("next", "")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("customers.show", public_id=customer.public_id)
    return redirect(back + "#contatos", code=303)
