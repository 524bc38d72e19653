"""The root URL sends staff to their landing page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, url_for
from flask_login import login_required

bp = Blueprint("home", __name__)


@bp.route("/")
@login_required
def index() -> Any:
    for endpoint in ("dashboard.index", "invoices.index"):
        if endpoint in current_app.view_functions:
            return redirect(url_for(endpoint))
    return redirect(url_for("customers.index"))
