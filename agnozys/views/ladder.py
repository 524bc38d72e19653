"""Pause and resume reminders, and the ``flask dunning`` commands.

The pause buttons live in ``templates/ladder/_pause.html``, which the
invoice and customer pages include; the Régua de cobrança settings page
is in :mod:`agnozys.views.settings.ladder`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from .. import auth
from ..extensions import db
from ..models import Customer, Role
from ..services import Conflict, NotFound, ladder
from ..services.invoices import get_invoice

bp = Blueprint("ladder", __name__, cli_group="dunning")


def _paused_from_form() -> bool:
    return request.form.get("paused", "1") not in ("0", "false", "")


@bp.post("/cobrancas/<public_id>/lembretes")
@auth.require_role(Role.AGENT)
def pause_invoice(public_id: str) -> Any:
    """Pause or resume the reminders of one invoice."""
    try:
        invoice = get_invoice(public_id)
    except NotFound:
        abort(404)
    paused = _paused_from_form()
    try:
        ladder.set_invoice_paused(invoice, paused, actor=auth.actor())
    except Conflict as exc:
        if request.htmx:
            return render_template(
                "ladder/_pause.html", invoice=invoice, error=exc.message
            ), 409
        flash(exc.message, "error")
        return redirect(url_for("invoices.show", public_id=public_id))
    message = _("Lembretes pausados.") if paused else _("Lembretes retomados.")
    if request.htmx:
        return render_template("ladder/_pause.html", invoice=invoice, notice=message)
    flash(message, "success")
    return redirect(url_for("invoices.show", public_id=public_id))


@bp.post("/clientes/<public_id>/lembretes")
@auth.require_role(Role.AGENT)
def pause_customer(public_id: str) -> Any:
    """Pause or resume the reminders of every invoice of one customer."""
    customer = db.session.execute(
        select(Customer).where(Customer.public_id == public_id)
    ).scalar_one_or_none()
    if customer is None:
        abort(404)
    paused = _paused_from_form()
    ladder.set_customer_paused(customer, paused, actor=auth.actor())
    message = (
        _("Lembretes pausados para todas as cobranças do cliente.")
        if paused
        else _("Lembretes do cliente retomados.")
    )
    if request.htmx:
        return render_template("ladder/_pause.html", customer=customer, notice=message)
    flash(message, "success")
    return redirect(url_for("customers.show", public_id=public_id))


@bp.cli.command("run")
@click.option(
    "--date",
    "day",
    default=None,
    help="Dia da régua, AAAA-MM-DD (padrão: hoje no fuso de cada organização).",
)
def run_command(day: str | None) -> None:
    """Run the reminder ladder for one day (default today)."""
    target: date | None = None
    if day:
        try:
            target = date.fromisoformat(day)
        except ValueError as exc:
            raise click.BadParameter(
                "use o formato AAAA-MM-DD, como 2026-03-15", param_hint="--date"
            ) from exc
    result = ladder.run_ladder(target)
    click.echo(
        f"{result.claimed} lembrete(s) novo(s) para "
        f"{target.isoformat() if target else 'hoje'}; "
        f"{result.handed_over} entregue(s) às filas; "
        f"{result.recovered} retomado(s)."
    )
