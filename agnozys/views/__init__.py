"""Blueprints, one module per area; each module declares ``bp`` at the top.

Every module in this package that has a ``bp`` is registered, so adding an
area means adding a module, nothing else.
"""

from __future__ import annotations

import importlib
import pkgutil

from flask import Blueprint, Flask


def register_blueprints(app: Flask) -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        bp = getattr(module, "bp", None)
        if isinstance(bp, Blueprint):
            app.register_blueprint(bp)
