"""Configurações > Assinaturas: when to suspend and when to reactivate."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import auth
from ...extensions import db
from ...models import Role
from . import bp

MAX_DAYS = 3650


def _days(raw: str, errors: dict[str, str], name: str) -> int | None:
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        errors[name] = _("Informe um número de dias entre 1 e %(max)s.", max=MAX_DAYS)
        return None
    return int(raw)


def _values() -> dict[str, Any]:
    organization = current_user.organization
    return {
        "candidate_days": str(organization.suspension_candidate_days),
        "auto_reactivate": organization.auto_reactivate,
        "auto_suspend": organization.auto_suspend_days is not None,
        "auto_suspend_days": str(organization.auto_suspend_days or 60),
    }


def _render(values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Any:
    return render_template(
        "settings/subscriptions.html", values=values, errors=errors
    ), status


@bp.get("/assinaturas")
@auth.require_role(Role.ADMIN)
def subscriptions() -> Any:
    """Show the suspension and reactivation rules."""
    return _render(_values(), {})


@bp.post("/assinaturas")
@auth.require_role(Role.ADMIN)
def save_subscriptions() -> Any:
    """Save the rules; each change applies from the next check on."""
    values = {
        "candidate_days": request.form.get("candidate_days", ""),
        "auto_reactivate": request.form.get("auto_reactivate") == "on",
        "auto_suspend": request.form.get("auto_suspend") == "on",
        "auto_suspend_days": request.form.get("auto_suspend_days", ""),
    }
    errors: dict[str, str] = {}
    candidate_days = _days(str(values["candidate_days"]), errors, "candidate_days")
    suspend_days = None
    if values["auto_suspend"]:
        raw = str(values["auto_suspend_days"])
        suspend_days = _days(raw, errors, "auto_suspend_days")
    if errors:
        return _render(values, errors, 422)
    organization = current_user.organization
    organization.suspension_candidate_days = candidate_days
    organization.auto_reactivate = values["auto_reactivate"]
    organization.auto_suspend_days = suspend_days
    db.session.commit()
    flash(_("Regras de assinatura salvas."), "success")
    return redirect(url_for("settings.subscriptions"), code=303)
