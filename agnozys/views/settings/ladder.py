"""Configurações > Régua de cobrança: the ladder as a timeline, editable.

Every step is a card; "Editar" swaps the card for its form (htmx) or
opens the form on a page of its own (no JavaScript). The form shows a
preview rendered for a real invoice of the organization, refreshed as
staff type.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ... import auth, ladder_templates
from ...models import Role
from ...models.ladder import MAX_OFFSET, MIN_OFFSET, LadderStep
from ...services import NotFound, ValidationFailed, ladder
from . import bp


def _form_values(step: LadderStep | None) -> dict[str, Any]:
    if step is None:
        return {
            "offset_days": "",
            "send_email": True,
            "send_sms": False,
            "active": True,
            "subject": "",
            "body": "",
        }
    return {
        "offset_days": str(step.offset_days),
        "send_email": step.send_email,
        "send_sms": step.send_sms,
        "active": step.active,
        "subject": step.subject,
        "body": step.body,
    }


def _posted() -> dict[str, Any]:
    form = request.form
    return {
        "offset_days": form.get("offset_days", "").strip(),
        "send_email": bool(form.get("send_email")),
        "send_sms": bool(form.get("send_sms")),
        "active": bool(form.get("active")),
        "subject": form.get("subject", ""),
        "body": form.get("body", ""),
    }


def _preview(values: dict[str, Any]) -> dict[str, Any]:
    """Render the form's templates for the sample invoice, or say why not."""
    invoice = ladder.sample_invoice(request.values.get("cobranca") or None)
    result: dict[str, Any] = {"invoice": invoice, "rendered": None, "error": None}
    try:
        ladder_templates.check(values.get("subject") or "")
        ladder_templates.check(values.get("body") or "")
    except ladder_templates.TemplateRefused as exc:
        result["error"] = str(exc)
        return result
    result["rendered"] = ladder.preview(
        values.get("subject") or "", values.get("body") or "", invoice
    )
    return result


def _form(
    step: LadderStep | None,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    context = {
        "step": step,
        "values": values,
        "errors": errors or {},
        "preview": _preview(values),
        "placeholders": ladder_templates.PLACEHOLDERS,
        "min_offset": MIN_OFFSET,
        "max_offset": MAX_OFFSET,
    }
    if not request.htmx:
        return render_template("ladder/step_page.html", **context), status
    # htmx swaps only 2xx answers: send the form back with 200 and point
    # it at the step being edited.
    box = f"#etapa-{step.id if step else 'nova'}"
    headers = {"HX-Retarget": box, "HX-Reswap": "outerHTML"} if errors else {}
    return render_template("ladder/_step_form.html", **context), 200, headers


def _timeline(status: int = 200) -> Any:
    steps = ladder.list_steps()
    context = {
        "steps": steps,
        "describe": ladder.describe_offset,
        "placeholders": ladder_templates.PLACEHOLDERS,
        "sample": ladder.sample_invoice(),
    }
    if request.htmx and request.headers.get("HX-Target") == "ladder-steps":
        return render_template("ladder/_steps.html", **context), status
    return render_template("ladder/settings.html", **context), status


@bp.get("/regua", endpoint="ladder")
@login_required
def ladder_page() -> Any:
    """Show the organization's ladder as a timeline."""
    return _timeline()


@bp.get("/regua/etapas/nova")
@auth.require_role(Role.ADMIN)
def ladder_new_step() -> Any:
    """Show an empty step form."""
    return _form(None, _form_values(None))


@bp.post("/regua/etapas/nova")
@auth.require_role(Role.ADMIN)
def ladder_create_step() -> Any:
    """Add a step, or show the form again with each problem beside its field."""
    values = _posted()
    try:
        step = ladder.save_step(values, organization_id=current_user.organization_id)
    except ValidationFailed as exc:
        return _form(None, values, exc.fields, status=422)
    return _saved(step, _("Etapa criada."))


@bp.get("/regua/etapas/<int:step_id>")
@login_required
def ladder_step(step_id: int) -> Any:
    """Show one step: its card (htmx, ``?cartao=1``) or its edit form."""
    step = _step_or_404(step_id)
    if request.htmx and request.args.get("cartao"):
        return render_template(
            "ladder/_step_card.html", step=step, describe=ladder.describe_offset
        )
    return _form(step, _form_values(step))


@bp.post("/regua/etapas/<int:step_id>")
@auth.require_role(Role.ADMIN)
def ladder_update_step(step_id: int) -> Any:
    """Save a step's changes."""
    step = _step_or_404(step_id)
    values = _posted()
    try:
        step = ladder.save_step(
            values, organization_id=current_user.organization_id, step_id=step_id
        )
    except ValidationFailed as exc:
        return _form(step, values, exc.fields, status=422)
    return _saved(step, _("Etapa salva."))


@bp.post("/regua/etapas/<int:step_id>/remover")
@auth.require_role(Role.ADMIN)
def ladder_delete_step(step_id: int) -> Any:
    """Remove a step; reminders already sent stay on the timelines."""
    _step_or_404(step_id)
    ladder.delete_step(step_id)
    if request.htmx:
        return _timeline_fragment(_("Etapa removida."))
    flash(_("Etapa removida."), "success")
    return redirect(url_for("settings.ladder"))


@bp.route("/regua/previa", methods=["GET", "POST"])
@login_required
def ladder_preview() -> Any:
    """Render the preview of the templates being typed (htmx fragment)."""
    values = _posted() if request.method == "POST" else dict(request.args)
    if request.htmx:
        return render_template("ladder/_preview.html", preview=_preview(values))
    # Without JavaScript the "Pré-visualizar" button posts the whole form:
    # show it again, unsaved, with the preview.
    step_id = request.values.get("etapa", type=int)
    step = _step_or_404(step_id) if step_id else None
    return _form(step, values)


def _saved(step: LadderStep, message: str) -> Any:
    if request.htmx:
        return _timeline_fragment(message)
    flash(message, "success")
    return redirect(url_for("settings.ladder") + f"#etapa-{step.id}")


def _timeline_fragment(message: str) -> Any:
    return render_template(
        "ladder/_steps.html",
        steps=ladder.list_steps(),
        describe=ladder.describe_offset,
        notice=message,
    )


def _step_or_404(step_id: int) -> LadderStep:
    try:
        return ladder.get_step(step_id)
    except NotFound:
        abort(404)
