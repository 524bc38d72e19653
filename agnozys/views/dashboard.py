"""Painel: the staff landing page, what is overdue and what each lever recovered."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required

from .. import charts, clock, money
from ..services import recovery

bp = Blueprint("dashboard", __name__, url_prefix="/painel")

LEVER_TITLES = {
    "reminder": _l("Depois de um lembrete"),
    "reschedule": _l("Depois de atualizar o vencimento"),
    "agreement": _l("Por acordo"),
    "suspension": _l("Depois da suspensão"),
}


def lever_detail(lever: str, count: int) -> str:
    """``3 cobranças pagas depois de um lembrete``, in number agreement."""
    if lever == "reminder":
        return ngettext(
            "%(num)d cobrança paga depois de um lembrete",
            "%(num)d cobranças pagas depois de um lembrete",
            count,
        )
    if lever == "reschedule":
        return ngettext(
            "%(num)d cobrança paga depois de atualizar o vencimento",
            "%(num)d cobranças pagas depois de atualizar o vencimento",
            count,
        )
    if lever == "agreement":
        return ngettext(
            "%(num)d parte de acordo paga", "%(num)d partes de acordo pagas", count
        )
    return ngettext(
        "%(num)d cobrança paga depois da suspensão",
        "%(num)d cobranças pagas depois da suspensão",
        count,
    )


def duration_text(span: timedelta | None) -> str:
    """``2 h 05 min``, ``3 dias e 4 h`` or ``40 min``, in Portuguese."""
    if span is None:
        return "—"
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        unit = _("dia") if days == 1 else _("dias")
        return f"{days} {unit} e {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


@bp.get("/")
@bp.get("")
@login_required
def index() -> str:
    """Total overdue today, recovered this month and per lever, weekly trend."""
    organization = current_user.organization
    today = clock.today(organization.timezone)
    result = recovery.overview(organization, today)
    chart = charts.trend_chart(
        result.weeks,
        title=_("Vencido e recuperado por semana"),
        description="; ".join(
            _(
                "semana de %(day)s: vencido %(overdue)s, recuperado %(recovered)s",
                day=money.format_day(week.start),
                overdue=money.format_brl(week.overdue),
                recovered=money.format_brl(week.recovered),
            )
            for week in result.weeks
        ),
    )
    return render_template(
        "dashboard/index.html",
        result=result,
        chart=chart,
        today=today,
        lever_titles=LEVER_TITLES,
        lever_detail=lever_detail,
        median_text=duration_text(result.suspension_median),
        figure_url=lambda figure: url_for("reports.invoices", figura=figure),
    )
