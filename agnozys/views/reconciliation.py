"""Financeiro > Pagamentos a conciliar: flagged payments awaiting a decision."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import auth, clock
from ..models import Role
from ..services import ServiceError
from ..services import payments as payment_service

bp = Blueprint("reconciliation", __name__, url_prefix="/conciliacao")


def _render(errors: dict[str, dict[str, str]] | None = None, status: int = 200) -> Any:
    template = (
        "reconciliation/_list.html" if request.htmx else "reconciliation/index.html"
    )
    return render_template(
        template,
        payments=payment_service.flagged_payments(),
        errors=errors or {},
        flag_label=payment_service.flag_label,
        today=clock.today(current_user.organization.timezone),
    ), status


@bp.get("/")
@login_required
def index() -> Any:
    """List the payments that did not fit their invoice."""
    return _render()


@bp.post("/<payment_id>/resolver")
@auth.require_role(Role.AGENT)
def resolve(payment_id: str) -> Any:
    """Note that a flagged payment was refunded or turned into credit."""
    try:
        payment_service.resolve_payment(
            payment_id,
            resolution=request.form.get("resolution", ""),
            note=request.form.get("note", ""),
            actor=auth.actor(),
        )
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        if exc.fields:
            return _render({payment_id: exc.fields}, status=422)
        flash(exc.message, "error")
        return redirect(url_for("reconciliation.index"), code=303)
    if request.htmx:
        return _render()
    flash(_("Pagamento conciliado."), "success")
    return redirect(url_for("reconciliation.index"), code=303)
