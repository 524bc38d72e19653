"""Agnozys: billing and collections for Brazilian businesses."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask

from .hookspecs import hookimpl

__all__ = ["create_app", "hookimpl"]

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app: configuration, extensions, plugins, blueprints."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from . import config

    app.config.from_mapping(config.load(app.instance_path, test_config))
    if not app.debug and not app.testing and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        logging.getLogger("alembic").setLevel(logging.WARNING)

    from . import auth, cli, jobs, plugins, tenancy, web
    from .extensions import babel, csrf, db, htmx, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=lambda: "pt_BR",
        timezone_selector=lambda: "America/Sao_Paulo",
    )
    htmx.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        tenancy.install()
    jobs.install(app)
    plugins.install(app)
    auth.install(app)
    web.install(app)
    cli.install(app)

    from .views import register_blueprints

    register_blueprints(app)
    return app
