"""Financeiro > Cobranças: the invoice list, one invoice, a new invoice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField

from .. import auth, clock, money, timeline
from ..extensions import db
from ..models import Customer, Event, Invoice, Role
from ..services import NotFound, ValidationFailed
from ..services import invoices as invoice_service
from ..services.listing import DEFAULT_SORT, SORTS, STATUSES, list_invoices
from ..web import format_moment

bp = Blueprint("invoices", __name__, url_prefix="/cobrancas")

PER_PAGE = 50
# Customers offered in the Nova cobrança select; larger books start the
# invoice from the customer's page (?cliente=).
CUSTOMER_CHOICES = 500

STATUS_TABS = (
    ("", _l("Todas")),
    ("pending", _l("Pendentes")),
    ("overdue", _l("Vencidas")),
    ("paid", _l("Pagas")),
    ("canceled", _l("Canceladas")),
)


def wants_fragment() -> bool:
    """Return True for an htmx swap (not a history restore, which needs the page)."""
    htmx: Any = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def page_or_fragment(
    page_template: str, fragment_template: str, **context: Any
) -> Response:
    """Render the whole page, or only the fragment for an htmx request."""
    template = fragment_template if wants_fragment() else page_template
    response = make_response(render_template(template, **context))
    # The same URL answers with a page or a fragment: caches must keep both.
    response.vary.add("HX-Request")
    return response


def organization_today() -> date:
    return clock.today(current_user.organization.timezone)


def list_state() -> dict[str, Any]:
    """Read the list's filters from the query string, dropping bad values."""
    status = request.args.get("status", "")
    if status not in STATUSES:
        status = ""
    sort = request.args.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    search = request.args.get("q", "").strip()[:100]
    page = request.args.get("page", "1")
    return {
        "status": status,
        "sort": sort,
        "q": search,
        "page": int(page) if page.isdigit() and len(page) < 7 else 1,
        # Days overdue, from the Aging report's links.
        "overdue_min": days_arg("overdue_min"),
        "overdue_max": days_arg("overdue_max"),
    }


def days_arg(name: str) -> int | None:
    raw = request.args.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 6 else None


def list_url(state: dict[str, Any], **changes: Any) -> str:
    """Return the list's URL with some of its state changed."""
    merged = {**state, **changes}
    args = {
        key: value
        for key, value in merged.items()
        if value
        and not (key == "page" and value == 1)
        and not (key == "sort" and value == DEFAULT_SORT)
    }
    return url_for("invoices.index", **args)


@bp.get("/")
@bp.get("")
@login_required
def index() -> Response:
    state = list_state()
    today = organization_today()
    query = {
        "status": state["status"] or None,
        "customer_id": None,
        "search": state["q"],
        "sort": state["sort"],
        "per_page": PER_PAGE,
        "today": today,
        "overdue_min": state["overdue_min"],
        "overdue_max": state["overdue_max"],
    }
    page = list_invoices(page=state["page"], **query)
    if not page.items and page.total and page.page > page.pages:
        page = list_invoices(page=page.pages, **query)
    state["page"] = page.page
    return page_or_fragment(
        "invoices/index.html",
        "partials/invoice_table.html",
        page=page,
        state=state,
        list_url=list_url,
        tabs=STATUS_TABS,
        today=today,
        figures=invoice_service.figures,
    )


# What a timeline shows of an event's data, in this order; other keys
# (ids, technical details) stay in the API's events list.
DETAIL_LABELS: dict[str, Any] = {
    "amount": _l("Valor"),
    "due_date": _l("Vencimento"),
    "old_due_date": _l("Vencimento anterior"),
    "new_due_date": _l("Novo vencimento"),
    "old_amount_due": _l("Devido antes"),
    "new_amount_due": _l("Devido depois"),
    "fine": _l("Multa"),
    "interest": _l("Juros"),
    "waive": _l("Isenção"),
    "waived_fine": _l("Multa isentada"),
    "waived_interest": _l("Juros isentados"),
    "total": _l("Total"),
    "expected": _l("Valor esperado"),
    "parts": _l("Parcelas"),
    "method": _l("Forma de pagamento"),
    "paid_at": _l("Pago em"),
    "channel": _l("Canal"),
    "channels": _l("Canais"),
    "to": _l("Para"),
    "reason": _l("Motivo"),
    "resolution": _l("Resolução"),
    "note": _l("Observação"),
}
MONEY_KEYS = {
    "amount",
    "old_amount_due",
    "new_amount_due",
    "fine",
    "interest",
    "waived_fine",
    "waived_interest",
    "total",
    "expected",
}
WAIVE_LABELS = {
    "none": _l("nenhuma"),
    "fine": _l("multa"),
    "interest": _l("juros"),
    "all": _l("multa e juros"),
}


def _detail_value(key: str, value: Any, timezone: str) -> str:
    """Render one value of an event's data the way the UI shows it."""
    try:
        if key in MONEY_KEYS:
            return money.format_brl(money.parse_amount(str(value), allow_zero=True))
        if key.endswith("due_date"):
            return money.format_day(date.fromisoformat(str(value)))
        if key == "paid_at":
            return format_moment(datetime.fromisoformat(str(value)), timezone)
    except (ValueError, money.MoneyError):
        return str(value)
    if key == "waive":
        return str(WAIVE_LABELS.get(str(value), value))
    if key == "parts" and isinstance(value, list):
        return "; ".join(
            _(
                "nº %(n)s: %(amount)s em %(day)s",
                n=part.get("number", "?"),
                amount=_detail_value("amount", part.get("amount"), timezone),
                day=_detail_value("due_date", part.get("due_date"), timezone),
            )
            for part in value
            if isinstance(part, dict)
        )
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def event_details(event: Event, timezone: str) -> list[tuple[str, str]]:
    """Return the labelled, formatted values of an event worth showing staff."""
    data = event.data if isinstance(event.data, dict) else {}
    return [
        (str(label), _detail_value(key, data[key], timezone))
        for key, label in DETAIL_LABELS.items()
        if data.get(key) not in (None, "", [])
    ]


def get_or_404(public_id: str) -> Invoice:
    try:
        return invoice_service.get_invoice(public_id)
    except NotFound:
        abort(404)


@bp.get("/<public_id>")
@login_required
def show(public_id: str) -> str:
    invoice = get_or_404(public_id)
    today = organization_today()
    events = (
        db.session.execute(
            select(Event).where(Event.invoice_id == invoice.id).order_by(Event.id)
        )
        .scalars()
        .all()
    )
    parts: list[Invoice] = []
    if invoice.replaced_by_agreement_id is not None:
        parts = list(
            db.session.execute(
                select(Invoice)
                .where(Invoice.agreement_id == invoice.replaced_by_agreement_id)
                .order_by(Invoice.due_date, Invoice.id)
            ).scalars()
        )
    return render_template(
        "invoices/show.html",
        invoice=invoice,
        figures=invoice_service.figures(invoice, today),
        payment_url=invoice_service.payment_url(invoice),
        events=events,
        parts=parts,
        today=today,
        event_label=timeline.label,
        actor_label=timeline.actor_label,
        event_details=event_details,
    )


class InvoiceForm(FlaskForm):
    """Nova cobrança; the service checks every value, the form only carries them."""

    customer_id = SelectField(_l("Cliente"), validate_choice=False)
    amount = StringField(
        _l("Valor (R$)"), render_kw={"inputmode": "decimal", "placeholder": "1.234,56"}
    )
    due_date = StringField(_l("Vencimento"), render_kw={"type": "date"})
    description = TextAreaField(_l("Descrição"), render_kw={"rows": 2})
    fine_percent = StringField(_l("Multa (%)"), render_kw={"inputmode": "decimal"})
    interest_percent = StringField(
        _l("Juros ao mês (%)"), render_kw={"inputmode": "decimal"}
    )


def customer_choices(selected: str | None) -> list[tuple[str, str]]:
    customers = list(
        db.session.execute(
            select(Customer).order_by(Customer.search_name).limit(CUSTOMER_CHOICES)
        ).scalars()
    )
    if selected and all(c.public_id != selected for c in customers):
        chosen = db.session.execute(
            select(Customer).where(Customer.public_id == selected)
        ).scalar_one_or_none()
        if chosen is not None:
            customers.insert(0, chosen)
    return [("", _("Escolha o cliente"))] + [(c.public_id, c.name) for c in customers]


@bp.route("/nova", methods=["GET", "POST"])
@auth.require_role(Role.AGENT)
def new() -> Any:
    organization = current_user.organization
    form = InvoiceForm()
    preset = request.args.get("cliente", "").strip()[:24]
    if request.method == "GET" and preset:
        form.customer_id.data = preset
    form.customer_id.choices = customer_choices(form.customer_id.data or preset)

    if form.validate_on_submit():
        data = {name: form[name].data for name in ("customer_id", "amount", "due_date")}
        data.update(
            description=form.description.data,
            fine_percent=form.fine_percent.data,
            interest_percent=form.interest_percent.data,
        )
        try:
            invoice = invoice_service.create_invoice(
                data, organization=organization, actor=auth.actor()
            )
        except ValidationFailed as exc:
            db.session.rollback()
            for name, message in exc.fields.items():
                if name in form:
                    form[name].errors = [*form[name].errors, message]
        else:
            flash(_("Cobrança nº %(n)d criada.", n=invoice.number), "success")
            return redirect(url_for("invoices.show", public_id=invoice.public_id))

    status = 422 if request.method == "POST" else 200
    return render_template(
        "invoices/new.html",
        form=form,
        fine_default=money.format_rate(organization.fine_bp),
        interest_default=money.format_rate(organization.interest_bp),
    ), status


@bp.app_template_filter("number")
def format_number(value: int) -> str:
    """Return an integer with pt-BR thousands separators: ``1.234.567``."""
    return f"{int(value):,}".replace(",", ".")
