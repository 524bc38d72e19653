"""Configurações: one blueprint shared by every area's settings pages.

Blueprint names must be unique, so each area adds a submodule here that
registers its routes on :data:`bp` (imported at the bottom), and links its
page through ``web.NAV`` under the "Configurações" section.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, redirect, url_for
from flask_login import login_required

from ...web import NAV

bp = Blueprint("settings", __name__, url_prefix="/configuracoes")


@bp.route("/")
@login_required
def index() -> Any:
    """Send staff to the first settings page that exists."""
    for endpoint, _label, _section in NAV:
        if endpoint.startswith("settings.") and endpoint in current_app.view_functions:
            return redirect(url_for(endpoint))
    abort(404)


# Area modules register their pages on `bp` when imported.
from . import billing, integrations, ladder, subscriptions, tokens  # noqa: E402,F401
