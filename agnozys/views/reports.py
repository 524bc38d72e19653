"""Relatórios: Quem ligar primeiro (Pareto), Aging and the invoices behind figures."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
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
)
from flask import url_for as flask_url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from .. import auth, charts, clock, money
from ..models import Customer, Role
from ..services import NotFound, ValidationFailed, recovery, reports

bp = Blueprint("reports", __name__, url_prefix="/relatorios")

PER_PAGE = 50
CSV_NAME = "quem-ligar-primeiro-{day}.csv"

FIGURE_TITLES: dict[str, Any] = {
    "overdue": _l("Vencido hoje"),
    "recovered": _l("Recuperado no mês"),
    "reminder": _l("Pagas depois de um lembrete"),
    "reschedule": _l("Pagas depois de atualizar o vencimento"),
    "agreement": _l("Pagas por acordo"),
    "suspension": _l("Pagas depois da suspensão"),
}


@bp.app_template_filter("percent")
def format_percent(share: str | None) -> str:
    """``"0.8123"`` -> ``81,23%`` (shares carry four places)."""
    if not share:
        return ""
    value = (Decimal(share) * 100).quantize(Decimal("0.01"))
    return f"{value:.2f}".replace(".", ",") + "%"


def organization_today() -> date:
    return clock.today(current_user.organization.timezone)


def url_if(endpoint: str, **values: Any) -> str | None:
    """Return a URL when its area has landed, else ``None``."""
    from flask import current_app

    if endpoint not in current_app.view_functions:
        return None
    return flask_url_for(endpoint, **values)


def aging_link(bucket: reports.AgingBucket) -> str:
    """Link a bucket to the Cobranças list filtered by days overdue."""
    values: dict[str, Any] = {"status": "overdue", "overdue_min": bucket.min_days}
    if bucket.max_days is not None:
        values["overdue_max"] = bucket.max_days
    return url_if("invoices.index", **values) or flask_url_for(
        "reports.invoices", figura="overdue"
    )


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 and int(raw) > 0 else 1


@bp.get("/pareto")
@login_required
def pareto() -> Any:
    """The day's call list: customers by overdue amount, the 80% group marked."""
    today = organization_today()
    show_all = request.args.get("todos") == "1"
    page = _page_number()
    result = reports.pareto(
        current_user.organization,
        today,
        limit=PER_PAGE,
        offset=(page - 1) * PER_PAGE,
        only_top=not show_all,
    )
    # The chart sits on the first page only, so later pages rank once.
    chart_source = result
    if page > 1:
        chart_source = reports.Pareto(today, 0, 0, 0, 0, [])
    elif len(result.rows) < min(20, result.customer_count):
        chart_source = reports.pareto(current_user.organization, today, limit=20)
    chart = charts.pareto_chart(
        chart_source.rows,
        result.total_overdue,
        title=_("Valor vencido por cliente, com a curva acumulada"),
        description=pareto_description(result, len(chart_source.rows[:20])),
    )
    listed = result.customer_count if show_all else result.top_count
    pages = max(1, -(-listed // PER_PAGE))
    contacts = last_contacts([row.customer_id for row in result.rows if row.top])
    return render_template(
        "reports/pareto.html",
        result=result,
        chart=chart,
        show_all=show_all,
        page=page,
        pages=pages,
        today=today,
        customer_url=lambda public_id: url_if("customers.show", public_id=public_id),
        **contact_context(contacts),
    )


def pareto_description(result: reports.Pareto, shown: int) -> str:
    if not result.total_overdue:
        return _("Nenhum cliente com cobrança vencida hoje.")
    return _(
        "%(top)s de %(count)s clientes somam %(share)s do total vencido de "
        "%(total)s. O gráfico mostra os %(shown)s maiores: barras com o valor de "
        "cada cliente (hachuradas para quem está no grupo dos 80%%), a linha "
        "com pontos é a participação acumulada e a linha tracejada marca 80%%.",
        top=result.top_count,
        count=result.customer_count,
        share=format_percent(result.top_share),
        total=money.format_brl(result.total_overdue),
        shown=shown,
    )


@bp.get("/pareto.csv")
@login_required
def pareto_csv() -> Response:
    """The whole ranking as CSV; ``?formato=br`` gives ``;`` and ``1.234,56``."""
    today = organization_today()
    brazilian = request.args.get("formato") == "br"
    result = reports.pareto(current_user.organization, today)
    buffer = io.StringIO()
    writer = csv.writer(
        buffer, delimiter=";" if brazilian else ",", lineterminator="\r\n"
    )
    writer.writerow(
        [
            _("Posição"),
            _("Cliente"),
            _("CPF/CNPJ"),
            _("Telefone"),
            _("E-mail"),
            _("Valor vencido"),
            _("Participação"),
            _("Acumulado"),
            _("Grupo dos 80%"),
            _("Vencida desde"),
        ]
    )

    def amount(cents: int) -> str:
        return money.format_plain(cents) if brazilian else money.to_api(cents)

    def fraction(share: str) -> str:
        return share.replace(".", ",") if brazilian else share

    for row in result.rows:
        writer.writerow(
            [
                row.rank,
                row.name,
                row.document or "",
                row.phone or "",
                row.email or "",
                amount(row.overdue_amount),
                fraction(row.share),
                fraction(row.cumulative_share),
                _("sim") if row.top else _("não"),
                row.oldest_due_date.strftime("%d/%m/%Y")
                if brazilian
                else row.oldest_due_date.isoformat(),
            ]
        )
    # A BOM lets spreadsheet programs read the accents as UTF-8.
    response = make_response("\ufeff" + buffer.getvalue())
    # Werkzeug adds "; charset=utf-8" to text/* types.
    response.mimetype = "text/csv"
    response.headers["Content-Disposition"] = "attachment; filename=" + CSV_NAME.format(
        day=today.isoformat()
    )
    return response


@bp.get("/aging")
@login_required
def aging() -> str:
    """Overdue amount and count by days late, each bucket linked to its invoices."""
    today = organization_today()
    buckets = reports.aging(current_user.organization, today)
    total = sum(b.amount for b in buckets)
    count = sum(b.count for b in buckets)
    chart = charts.aging_chart(
        buckets,
        title=_("Valor vencido por faixa de atraso"),
        description=", ".join(
            _(
                "%(label)s dias: %(amount)s em %(count)s cobranças",
                label=b.label,
                amount=money.format_brl(b.amount),
                count=b.count,
            )
            for b in buckets
        ),
    )
    return render_template(
        "reports/aging.html",
        buckets=buckets,
        chart=chart,
        total=total,
        count=count,
        today=today,
        link=aging_link,
        share=reports.share,
        due_range=lambda b: reports.aging_due_range(b, today),
    )


@bp.get("/cobrancas")
@login_required
def invoices() -> str:
    """The invoices behind one Painel figure."""
    figure = request.args.get("figura", "")
    if figure not in recovery.FIGURES:
        abort(404)
    today = organization_today()
    rows = recovery.figure_invoices(current_user.organization, figure, today)
    return render_template(
        "reports/invoices.html",
        figure=figure,
        title=FIGURE_TITLES[figure],
        rows=rows,
        total=sum(amount for _, amount in rows),
        limit=recovery.FIGURE_LIMIT,
        today=today,
        invoice_url=lambda public_id: url_if("invoices.show", public_id=public_id),
        dashboard_url=url_if("dashboard.index"),
    )


# --- contacts (the subscriptions area's Contact log) -----------------------------


def contact_enabled() -> bool:
    try:
        from ..services import subscriptions  # noqa: F401
    except ImportError:  # pragma: no cover - the area has landed
        return False
    return hasattr(subscriptions, "record_contact")


def last_contacts(customer_ids: list[int]) -> dict[int, Any]:
    """Return each customer's latest contact, for the call list."""
    if not customer_ids or not contact_enabled():
        return {}
    from sqlalchemy import func, select

    from ..extensions import db
    from ..models.subscriptions import Contact

    latest = (
        select(Contact.customer_id, func.max(Contact.id).label("id"))
        .where(Contact.customer_id.in_(customer_ids))
        .group_by(Contact.customer_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Contact).join(latest, latest.c.id == Contact.id)
    ).scalars()
    return {contact.customer_id: contact for contact in rows}


def phone_text(phone: str | None) -> str:
    """``5511987654321`` -> ``(11) 98765-4321``; other forms as stored."""
    if not phone:
        return ""
    digits = phone[2:] if phone.startswith("55") and len(phone) in (12, 13) else phone
    if len(digits) in (10, 11) and digits.isdigit():
        return f"({digits[:2]}) {digits[2:-4]}-{digits[-4:]}"
    return phone


def contact_context(contacts: dict[int, Any]) -> dict[str, Any]:
    labels: tuple[dict[str, str], dict[str, str]] = ({}, {})
    if contact_enabled():
        from ..services import subscriptions

        labels = (subscriptions.CHANNEL_LABELS, subscriptions.OUTCOME_LABELS)
    return {
        "contacts": contacts,
        "contact_enabled": contact_enabled(),
        "channel_labels": labels[0],
        "outcome_labels": labels[1],
        "phone_text": phone_text,
    }


@bp.post("/pareto/<public_id>/contato")
@auth.require_role(Role.AGENT)
def log_contact(public_id: str) -> Any:
    """Log a call-list contact; htmx gets the customer's contact block back."""
    if not contact_enabled():
        abort(404)
    from sqlalchemy import select

    from ..extensions import db
    from ..services import subscriptions

    customer = db.session.execute(
        select(Customer).where(Customer.public_id == public_id)
    ).scalar_one_or_none()
    if customer is None:
        abort(404)
    data = {
        key: request.form.get(key, "")
        for key in ("channel", "outcome", "promised_date", "note")
    }
    errors: dict[str, str] = {}
    try:
        subscriptions.record_contact(customer, data, actor=auth.actor())
    except ValidationFailed as exc:
        db.session.rollback()
        errors = exc.fields
    except NotFound:
        abort(404)

    if not request.headers.get("HX-Request"):
        if errors:
            flash(" ".join(errors.values()), "error")
        else:
            flash(_("Contato com %(name)s registrado.", name=customer.name), "success")
        return redirect(flask_url_for("reports.pareto"))

    today = organization_today()
    rows = reports.pareto(
        current_user.organization, today, customer_id=customer.id
    ).rows
    if not rows:
        # No longer overdue (paid meanwhile): the page needs a reload.
        return make_response(
            render_template("partials/pareto_contact_done.html", name=customer.name)
        )
    # htmx swaps only 2xx answers, so errors come back as 200 with the form.
    return make_response(
        render_template(
            "partials/pareto_contact.html",
            row=rows[0],
            saved=not errors,
            errors=errors,
            form_data=data if errors else None,
            **contact_context(last_contacts([customer.id])),
        )
    )
