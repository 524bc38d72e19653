"""Staff log in and out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from .. import tenancy
from ..extensions import db
from ..models import User

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(_l("Informe o e-mail.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Senha"),
        validators=[DataRequired(_l("Informe a senha.")), Length(max=200)],
    )
    remember = BooleanField(_l("Manter conectado"))


def _safe_next(target: str | None) -> str | None:
    """Only follow ``next`` within this site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        with tenancy.unscoped():
            user = db.session.execute(
                select(User).where(func.lower(User.email) == email)
            ).scalar_one_or_none()
        if (
            user is None
            or not user.active
            or not user.check_password(form.password.data or "")
        ):
            form.password.errors = [_("E-mail ou senha incorretos.")]
        else:
            login_user(user, remember=bool(form.remember.data))
            return redirect(
                _safe_next(request.args.get("next")) or url_for("home.index")
            )
    status = 422 if form.errors else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    flash(_("Você saiu."), "info")
    return redirect(url_for("auth.login"))
