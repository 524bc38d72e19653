"""Configurações > Tokens da API: list, issue (shown once) and revoke."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ... import auth
from ...models import Role
from ...services import NotFound, ValidationFailed
from ...services import tokens as token_service
from . import bp


class TokenForm(FlaskForm):
    name = StringField(
        _l("Nome"),
        validators=[
            DataRequired(_l("Dê um nome ao token, como ERP ou loja.")),
            Length(max=120, message=_l("Use no máximo 120 caracteres.")),
        ],
    )


def _render(form: TokenForm, raw: str | None = None, status: int = 200) -> Any:
    template = (
        "partials/settings_tokens.html" if request.htmx else "settings/tokens.html"
    )
    context = {"form": form, "tokens": token_service.list_tokens(), "raw_token": raw}
    if request.htmx and status == 422:
        # htmx 2 does not swap 4xx answers; the errors must still show.
        status = 200
    return render_template(template, **context), status


@bp.get("/tokens")
@auth.require_role(Role.ADMIN)
def tokens() -> Any:
    """List the organization's API tokens."""
    return _render(TokenForm())


@bp.post("/tokens")
@auth.require_role(Role.ADMIN)
def create_token() -> Any:
    """Issue a token and show its secret this once, never again."""
    form = TokenForm()
    if not form.validate_on_submit():
        return _render(form, status=422)
    try:
        token, raw = token_service.create_token(
            current_user.organization,
            form.name.data,
            created_by_id=current_user.id,
            actor=auth.actor(),
        )
    except ValidationFailed as exc:
        form.name.errors = [exc.fields.get("name", exc.message)]
        return _render(form, status=422)
    # The secret is rendered in this response only: a redirect would have
    # to carry it in the (signed, not encrypted) session cookie.
    return _render(TokenForm(formdata=None), raw=raw, status=201)


@bp.post("/tokens/<int:token_id>/revogar")
@auth.require_role(Role.ADMIN)
def revoke_token(token_id: int) -> Any:
    """Revoke a token; integrations using it get 401 from then on."""
    try:
        token = token_service.revoke_token(token_id, actor=auth.actor())
    except NotFound:
        abort(404)
    if request.htmx:
        return render_template("partials/token_row.html", token=token)
    flash(_("Token %(prefix)s revogado.", prefix=token.prefix), "success")
    return redirect(url_for("settings.tokens"))
