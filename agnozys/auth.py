"""Who is acting: staff sessions, API tokens and role checks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from . import tenancy
from .extensions import db, login_manager
from .models import ApiToken, Role, User, utcnow
from .models.core import hash_token

F = TypeVar("F", bound=Callable[..., Any])


@login_manager.user_loader
def load_user(user_key: str) -> User | None:
    user_id, _, nonce = user_key.partition(":")
    if not user_id.isdigit():
        return None
    with tenancy.unscoped():
        user = db.session.get(User, int(user_id))
    if user is None or user.session_nonce != nonce or not user.active:
        return None
    return user


def token_from_request() -> ApiToken | None:
    """Return the live API token of the request's bearer header, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    with tenancy.unscoped():
        token = db.session.execute(
            select(ApiToken).where(ApiToken.token_hash == hash_token(raw.strip()))
        ).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    # Throttled so busy integrations do not write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
        db.session.commit()
    return token


def actor() -> str:
    """Name whoever acts in this request, for timelines."""
    token = g.get("api_token")
    if token is not None:
        return str(token.actor)
    if current_user and current_user.is_authenticated:
        return str(current_user.actor)
    return "system"


def require_role(role: Role | str) -> Callable[[F], F]:
    """Let only staff whose role reaches ``role`` through (403 otherwise)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def can_edit() -> bool:
    """Return True when the current staff member may change things."""
    return bool(current_user.is_authenticated and current_user.can(Role.AGENT))


#: Blueprints whose requests never act as a signed-in staff member: the API
#: authenticates by token, and a gateway's webhook finds its organization
#: through the charge. Loading a staff session there would only cost time.
_NOT_STAFF = frozenset({"api", "webhooks"})


def _scope_staff_request() -> None:
    if request.blueprint in _NOT_STAFF:
        return
    if current_user.is_authenticated:
        g.tenancy_token = tenancy.activate(current_user.organization_id)


def _unscope(exc: BaseException | None) -> None:
    token = g.pop("tenancy_token", None)
    if token is not None:
        tenancy.deactivate(token)


def install(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Entre para continuar.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.before_request(_scope_staff_request)
    app.teardown_request(_unscope)
