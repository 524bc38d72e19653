"""Clientes: list, create, edit and show customers."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import and_, func, select
from wtforms import StringField

from .. import auth, validation
from ..extensions import db
from ..models import Customer, Role
from ..services import NotFound, ValidationFailed
from ..services import customers as customer_service
from ..services.invoices import figures
from ..services.listing import document_condition, list_invoices
from .invoices import organization_today, page_or_fragment

bp = Blueprint("customers", __name__, url_prefix="/clientes")

PER_PAGE = 50
INVOICES_PER_PAGE = 20
FIELDS = ("name", "email", "phone", "document", "external_id")


class CustomerForm(FlaskForm):
    """Carries what staff type; :func:`customer_service.clean` judges it."""

    name = StringField(_l("Nome"), render_kw={"maxlength": 200, "autocomplete": "off"})
    document = StringField(
        _l("CPF ou CNPJ"), render_kw={"inputmode": "numeric", "maxlength": 30}
    )
    email = StringField(_l("E-mail"), render_kw={"type": "email", "maxlength": 254})
    phone = StringField(
        _l("Telefone"),
        render_kw={"type": "tel", "maxlength": 30, "placeholder": "(11) 98765-4321"},
    )
    external_id = StringField(_l("Id no seu sistema"), render_kw={"maxlength": 100})


def search_terms(text: str) -> list[Any]:
    """Match names (accents and case ignored) or CPF/CNPJ digits."""
    text = text.strip()[:100]
    if not text:
        return []
    digits = validation.digits(text)
    if digits and not text.strip(" .-/0123456789"):
        return [document_condition(digits)]
    words = customer_service.search_key(text).split()
    return [and_(*(Customer.search_name.contains(w, autoescape=True) for w in words))]


@bp.get("/")
@bp.get("")
@login_required
def index() -> Response:
    search = request.args.get("q", "").strip()[:100]
    raw_page = request.args.get("page", "1")
    page = int(raw_page) if raw_page.isdigit() and len(raw_page) < 6 else 1
    terms = search_terms(search)
    total = db.session.execute(
        select(func.count(Customer.id)).where(*terms)
    ).scalar_one()
    pages = max(1, -(-total // PER_PAGE))
    page = max(1, min(page, pages))
    customers = (
        db.session.execute(
            select(Customer)
            .where(*terms)
            .order_by(Customer.search_name, Customer.id)
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
        .scalars()
        .all()
    )
    return page_or_fragment(
        "customers/index.html",
        "partials/customer_table.html",
        customers=customers,
        q=search,
        page=page,
        pages=pages,
        total=total,
    )


def get_or_404(public_id: str) -> Customer:
    try:
        return customer_service.get_customer(public_id)
    except NotFound:
        abort(404)


@bp.get("/<public_id>")
@login_required
def show(public_id: str) -> Any:
    customer = get_or_404(public_id)
    raw_page = request.args.get("page", "1")
    today = organization_today()
    invoices = list_invoices(
        status=None,
        customer_id=customer.id,
        search=None,
        sort="-due_date",
        page=int(raw_page) if raw_page.isdigit() and len(raw_page) < 6 else 1,
        per_page=INVOICES_PER_PAGE,
        today=today,
    )
    return render_template(
        "customers/show.html",
        customer=customer,
        invoices=invoices,
        today=today,
        figures=figures,
    )


def _apply_errors(form: CustomerForm, exc: ValidationFailed) -> None:
    db.session.rollback()
    for name, message in exc.fields.items():
        if name in form:
            form[name].errors = [*form[name].errors, message]


def _form_data(form: CustomerForm) -> dict[str, Any]:
    return {name: form[name].data for name in FIELDS}


@bp.route("/novo", methods=["GET", "POST"])
@auth.require_role(Role.AGENT)
def new() -> Any:
    form = CustomerForm()
    if form.validate_on_submit():
        try:
            customer = customer_service.create_customer(
                _form_data(form), actor=auth.actor()
            )
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            flash(_("Cliente cadastrado."), "success")
            return redirect(url_for("customers.show", public_id=customer.public_id))
    status = 422 if request.method == "POST" else 200
    return render_template("customers/form.html", form=form, customer=None), status


@bp.route("/<public_id>/editar", methods=["GET", "POST"])
@auth.require_role(Role.AGENT)
def edit(public_id: str) -> Any:
    customer = get_or_404(public_id)
    form = CustomerForm(
        data={
            "name": customer.name,
            "document": validation.format_document(customer.document),
            "email": customer.email or "",
            "phone": validation.format_phone(customer.phone),
            "external_id": customer.external_id or "",
        }
    )
    if form.validate_on_submit():
        try:
            customer_service.update_customer(
                public_id, _form_data(form), actor=auth.actor()
            )
        except ValidationFailed as exc:
            _apply_errors(form, exc)
        else:
            flash(_("Cliente atualizado."), "success")
            return redirect(url_for("customers.show", public_id=public_id))
    status = 422 if request.method == "POST" else 200
    return render_template("customers/form.html", form=form, customer=customer), status


@bp.app_template_filter("document")
def format_document(value: str | None) -> str:
    return validation.format_document(value)


@bp.app_template_filter("phone")
def format_phone(value: str | None) -> str:
    return validation.format_phone(value)
