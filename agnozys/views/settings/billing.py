"""Configurações > Cobrança: the organization's fine and monthly interest."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ... import auth, money
from ...models import Role
from ...services import ValidationFailed, negotiation
from . import bp


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", False))


def fine_warning() -> str:
    return _(
        "Multa acima de 2%: o Código de Defesa do Consumidor (art. 52, §1º) "
        "limita a multa de dívidas de consumo a 2%. Entre empresas ela é permitida."
    )


def _render(values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    organization = current_user.organization
    context = {
        "values": values,
        "errors": errors,
        "warn_fine": organization.fine_bp > negotiation.CONSUMER_FINE_CAP_BP,
        "fine_warning": fine_warning(),
    }
    template = "settings/billing.html"
    if is_htmx():
        template = "settings/_billing_form.html"
        status = 200
    return render_template(template, **context), status


def current_values() -> dict[str, str]:
    organization = current_user.organization
    return {
        "fine_percent": money.format_rate(organization.fine_bp).rstrip("%"),
        "interest_percent": money.format_rate(organization.interest_bp).rstrip("%"),
    }


@bp.get("/cobranca")
@auth.require_role(Role.ADMIN)
def billing() -> Any:
    """Show the organization's late-charge rates."""
    return _render(current_values(), {})


@bp.post("/cobranca")
@auth.require_role(Role.ADMIN)
def save_billing() -> Any:
    """Save the rates; a fine above 2% is saved with a warning, not refused."""
    values = {
        "fine_percent": request.form.get("fine_percent", ""),
        "interest_percent": request.form.get("interest_percent", ""),
    }
    try:
        above_cap = negotiation.update_rates(
            current_user.organization, values, actor=auth.actor()
        )
    except ValidationFailed as exc:
        return _render(values, exc.fields, status=422)
    flash(_("Taxas salvas. Valem para as novas cobranças."), "success")
    if above_cap:
        flash(fine_warning(), "warning")
    if is_htmx():
        return _render(current_values(), {})
    return redirect(url_for("settings.billing"), code=303)
