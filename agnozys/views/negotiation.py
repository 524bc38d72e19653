"""Negotiation in the staff UI: Atualizar vencimento, Acordo, Cancelar, Reenviar.

Every editor is one URL that answers with a whole page (no JavaScript) or
with a fragment (htmx). ``ctx=row`` means the editor lives in a row of the
Cobranças list and a confirmed change swaps that row; otherwise it lives on
the invoice page and a confirmed change swaps the page's ``#main``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
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
from flask_login import current_user

from .. import auth, clock, fees, money, timeline, validation
from ..models import Invoice, Role
from ..services import Conflict, NotFound, ValidationFailed, negotiation
from ..services import invoices as invoice_service

bp = Blueprint("negotiation", __name__, url_prefix="/cobrancas")

WAIVE_LABELS = {
    "none": _l("Nada"),
    "fine": _l("Multa"),
    "interest": _l("Juros"),
    "all": _l("Tudo (multa e juros)"),
}
DEFAULT_PARTS = 2


# --- helpers ------------------------------------------------------------------


def htmx_request() -> bool:
    htmx: Any = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def today() -> date:
    return clock.today(current_user.organization.timezone)


def load(public_id: str) -> Invoice:
    try:
        return invoice_service.get_invoice(public_id)
    except NotFound:
        abort(404)


def context_arg() -> str:
    value = request.values.get("ctx", "page")
    return "row" if value == "row" else "page"


def expected_version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def render(page: str, fragment: str, status: int = 200, **context: Any) -> Any:
    """The editor as a page, or as a fragment for htmx (200 so htmx swaps it)."""
    context.setdefault("ctx", context_arg())
    context.setdefault("waive_labels", WAIVE_LABELS)
    if htmx_request():
        response = make_response(render_template(fragment, **context), 200)
    else:
        response = make_response(render_template(page, **context), status)
    response.vary.add("HX-Request")
    return response


def done(invoice: Invoice, message: str) -> Any:
    """After a confirmed change: swap the row or the page, or redirect."""
    if htmx_request() and context_arg() == "row":
        response = make_response(row_html(invoice))
        response.headers["HX-Trigger"] = "invoice-changed"
        return response
    flash(message, "success")
    target = url_for("invoices.show", public_id=invoice.public_id)
    if htmx_request():
        response = make_response("", 204)
        response.headers["HX-Location"] = target
        return response
    return redirect(target, code=303)


def row_html(invoice: Invoice) -> str:
    return render_template(
        "partials/invoice_row.html",
        invoice=invoice,
        today=today(),
        figures=invoice_service.figures,
    )


def final_message(invoice: Invoice) -> str | None:
    try:
        negotiation.check_open(invoice)
    except Conflict as exc:
        return exc.message
    return None


@bp.app_context_processor
def negotiation_helpers() -> dict[str, Any]:
    return {
        "cancel_reason_label": cancel_reason_label,
        "event_detail": timeline.detail,
        "negotiation_open": lambda invoice: not invoice.is_final(),
    }


def cancel_reason_label(reason: str | None) -> str:
    """``agreement`` reads "acordo" in the UI; free text stays as typed."""
    if reason == "agreement":
        return _("acordo")
    return reason or ""


# --- the row, as a fragment ---------------------------------------------------


@bp.get("/<public_id>/linha")
@auth.require_role(Role.VIEWER)
def row(public_id: str) -> Any:
    """One row of the Cobranças list (to close an inline editor)."""
    return row_html(load(public_id))


# --- Atualizar vencimento -----------------------------------------------------


def reschedule_state(invoice: Invoice, values: Any) -> dict[str, Any]:
    """Read date and waive choice; compute the preview when both are good."""
    now = today()
    raw_date = (values.get("due_date") or "").strip()
    raw_waive = values.get("waive") or "none"
    errors: dict[str, str] = {}
    preview = None
    waive = fees.Waive.NONE
    try:
        waive = negotiation.parse_waive(raw_waive)
    except validation.Invalid as exc:
        errors["waive"] = str(exc)
    if raw_date:
        try:
            day = validation.iso_date(raw_date)
            if day < now:
                raise validation.Invalid(_("A data deve ser hoje ou uma data futura."))
            preview = negotiation.preview_reschedule(invoice, day, waive, now)
        except validation.Invalid as exc:
            errors["due_date"] = str(exc)
    return {
        "invoice": invoice,
        "figures": invoice_service.figures(invoice, now),
        "today": now,
        "due_date": raw_date,
        "waive": raw_waive if raw_waive in WAIVE_LABELS else "none",
        "preview": preview,
        "errors": errors,
        "version": values.get("version") or invoice.version,
        "final": final_message(invoice),
    }


@bp.get("/<public_id>/vencimento")
@auth.require_role(Role.AGENT)
def reschedule_form(public_id: str) -> Any:
    """The Atualizar vencimento editor, preview included when a date is given."""
    invoice = load(public_id)
    values = request.args.to_dict()
    if not values.get("due_date"):
        values["due_date"] = max(today(), invoice.due_date).isoformat()
    state = reschedule_state(invoice, values)
    return render(
        "negotiation/reschedule.html", "negotiation/_reschedule.html", **state
    )


@bp.get("/<public_id>/vencimento/previa")
@auth.require_role(Role.AGENT)
def reschedule_preview(public_id: str) -> Any:
    """Only the preview: fine, interest and new total for the chosen date."""
    invoice = load(public_id)
    state = reschedule_state(invoice, request.args)
    return render_template("negotiation/_reschedule_preview.html", **state)


@bp.post("/<public_id>/vencimento")
@auth.require_role(Role.AGENT)
def reschedule(public_id: str) -> Any:
    """Save the new due date (or, without JavaScript, show the preview)."""
    invoice = load(public_id)
    if request.form.get("action") == "preview":
        state = reschedule_state(invoice, request.form)
        return render(
            "negotiation/reschedule.html", "negotiation/_reschedule.html", **state
        )
    try:
        invoice = negotiation.reschedule_invoice(
            public_id,
            {
                "due_date": request.form.get("due_date"),
                "waive": request.form.get("waive"),
            },
            actor=auth.actor(),
            expected_version=expected_version(),
        )
    except ValidationFailed as exc:
        state = reschedule_state(load(public_id), request.form)
        state["errors"] = {**state["errors"], **exc.fields}
        state["preview"] = None if exc.fields else state["preview"]
        return render(
            "negotiation/reschedule.html",
            "negotiation/_reschedule.html",
            status=422,
            **state,
        )
    except Conflict as exc:
        state = reschedule_state(load(public_id), request.form)
        state["conflict"] = exc.message
        state["version"] = state["invoice"].version
        return render(
            "negotiation/reschedule.html",
            "negotiation/_reschedule.html",
            status=409,
            **state,
        )
    return done(
        invoice,
        _(
            "Vencimento atualizado para %(day)s: %(total)s.",
            day=money.format_day(invoice.due_date),
            total=money.format_brl(invoice_service.figures(invoice).amount_due),
        ),
    )


# --- Acordo -------------------------------------------------------------------


def parts_count(value: object) -> tuple[int, str | None]:
    text = str(value or "").strip()
    if not text:
        return DEFAULT_PARTS, None
    if not text.isdigit() or not 1 <= int(text) <= negotiation.MAX_PARTS:
        return DEFAULT_PARTS, _(
            "Informe de 1 a %(max)s parcelas.", max=negotiation.MAX_PARTS
        )
    return int(text), None


def agreement_state(invoice: Invoice, values: Any, *, prefill: bool) -> dict[str, Any]:
    """The split editor: an even split (``prefill``) or the amounts typed."""
    now = today()
    errors: dict[str, str] = {}
    count, problem = parts_count(values.get("count"))
    if problem:
        errors["count"] = problem
    try:
        waive = negotiation.parse_waive(values.get("waive"))
    except validation.Invalid as exc:
        errors["waive"] = str(exc)
        waive = fees.Waive.NONE
    owed = negotiation.outstanding(invoice, waive, now)
    rows: list[dict[str, str]] = []
    if prefill:
        first = max(now, invoice.due_date)
        for part in negotiation.plan_parts(owed.total, count, first):
            rows.append(
                {
                    "amount": money.format_plain(part.amount),
                    "due_date": part.due_date.isoformat(),
                }
            )
    else:
        for index in range(count):
            rows.append(
                {
                    "amount": values.get(f"amount_{index}", ""),
                    "due_date": values.get(f"due_date_{index}", ""),
                }
            )
    state = {
        "invoice": invoice,
        "figures": invoice_service.figures(invoice, now),
        "today": now,
        "count": count,
        "waive": waive.value,
        "owed": owed,
        "rows": rows,
        "errors": errors,
        "version": values.get("version") or invoice.version,
        "final": final_message(invoice),
        "max_parts": negotiation.MAX_PARTS,
    }
    state.update(sum_state(owed.total, rows))
    return state


def sum_state(total: int, rows: list[dict[str, str]]) -> dict[str, Any]:
    """Add up the typed amounts; ``sum_ok`` only when all parse and match."""
    typed = 0
    readable = True
    for row in rows:
        try:
            typed += negotiation.parse_part_amount(row["amount"])
        except money.MoneyError:
            readable = False
    return {
        "sum": typed,
        "sum_readable": readable,
        "sum_ok": readable and typed == total,
        "difference": total - typed,
    }


def agreement_payload(values: Any, count: int) -> dict[str, Any]:
    return {
        "waive": values.get("waive") or "none",
        "parts": [
            {
                "amount": values.get(f"amount_{i}", ""),
                "due_date": values.get(f"due_date_{i}", ""),
            }
            for i in range(count)
        ],
    }


def ui_errors(fields: dict[str, str]) -> dict[str, str]:
    """``parts[1].amount`` (service) becomes ``amount_1`` (form field)."""
    mapped = {}
    for name, message in fields.items():
        if name.startswith("parts[") and "]." in name:
            index, _dot, field = name[len("parts[") :].partition("].")
            mapped[f"{field}_{index}"] = message
        else:
            mapped[name] = message
    return mapped


@bp.get("/<public_id>/acordo")
@auth.require_role(Role.AGENT)
def agreement_form(public_id: str) -> Any:
    """The split editor, prefilled with an even split at monthly intervals."""
    invoice = load(public_id)
    state = agreement_state(invoice, request.args, prefill=True)
    return render("negotiation/agreement.html", "negotiation/_agreement.html", **state)


@bp.get("/<public_id>/acordo/soma")
@auth.require_role(Role.AGENT)
def agreement_sum(public_id: str) -> Any:
    """The running sum check and the confirm button (htmx, as amounts change)."""
    invoice = load(public_id)
    state = agreement_state(invoice, request.args, prefill=False)
    return render_template("negotiation/_agreement_sum.html", **state)


@bp.post("/<public_id>/acordo")
@auth.require_role(Role.AGENT)
def agreement(public_id: str) -> Any:
    """Confirm the agreement (or, without JavaScript, re-split or re-add)."""
    invoice = load(public_id)
    action = request.form.get("action", "confirm")
    if action in ("split", "check"):
        state = agreement_state(invoice, request.form, prefill=action == "split")
        return render(
            "negotiation/agreement.html", "negotiation/_agreement.html", **state
        )
    count, problem = parts_count(request.form.get("count"))
    try:
        if problem:
            raise ValidationFailed(problem, {"count": problem})
        made = negotiation.make_agreement(
            public_id,
            agreement_payload(request.form, count),
            actor=auth.actor(),
            expected_version=expected_version(),
        )
    except ValidationFailed as exc:
        state = agreement_state(load(public_id), request.form, prefill=False)
        state["errors"] = {**state["errors"], **ui_errors(exc.fields)}
        return render(
            "negotiation/agreement.html",
            "negotiation/_agreement.html",
            status=422,
            **state,
        )
    except Conflict as exc:
        state = agreement_state(load(public_id), request.form, prefill=False)
        state["conflict"] = exc.message
        state["version"] = state["invoice"].version
        return render(
            "negotiation/agreement.html",
            "negotiation/_agreement.html",
            status=409,
            **state,
        )
    original = made.original_invoice
    message = _(
        "Acordo criado: %(n)s parcelas somando %(total)s.",
        n=made.parts_count,
        total=money.format_brl(made.total),
    )
    return done(original, message)


# --- Cancelar, Reenviar -------------------------------------------------------


@bp.route("/<public_id>/cancelar", methods=["GET", "POST"])
@auth.require_role(Role.AGENT)
def cancel(public_id: str) -> Any:
    """Ask for a reason, then cancel the invoice."""
    invoice = load(public_id)
    state: dict[str, Any] = {
        "invoice": invoice,
        "reason": request.form.get("reason", ""),
        "errors": {},
        "version": request.values.get("version") or invoice.version,
        "final": final_message(invoice),
    }
    if request.method == "GET":
        return render("negotiation/cancel.html", "negotiation/_cancel.html", **state)
    try:
        invoice = negotiation.cancel_invoice(
            public_id,
            request.form.get("reason"),
            actor=auth.actor(),
            expected_version=expected_version(),
            reason_required=True,
        )
    except ValidationFailed as exc:
        state["errors"] = exc.fields
        return render(
            "negotiation/cancel.html", "negotiation/_cancel.html", status=422, **state
        )
    except Conflict as exc:
        state["conflict"] = exc.message
        state["invoice"] = load(public_id)
        state["final"] = final_message(state["invoice"])
        return render(
            "negotiation/cancel.html", "negotiation/_cancel.html", status=409, **state
        )
    return done(invoice, _("Cobrança cancelada."))


@bp.post("/<public_id>/reenviar")
@auth.require_role(Role.AGENT)
def resend(public_id: str) -> Any:
    """Send the payment link again through the configured notifiers."""
    invoice = load(public_id)
    try:
        negotiation.resend_link(public_id, actor=auth.actor())
    except Conflict as exc:
        if htmx_request():
            return render_template(
                "negotiation/_notice.html", message=exc.message, kind="error"
            )
        flash(exc.message, "error")
        return redirect(url_for("invoices.show", public_id=public_id), code=303)
    message = _(
        "Link reenviado para %(to)s.",
        to=", ".join(to for _channel, to in negotiation.contact_channels(invoice)),
    )
    if htmx_request():
        return render_template(
            "negotiation/_notice.html", message=message, kind="success"
        )
    flash(message, "success")
    return redirect(url_for("invoices.show", public_id=public_id), code=303)
