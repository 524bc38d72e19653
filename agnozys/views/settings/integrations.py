"""Configurações > Integrações: active plugins, their health, the Pix key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ... import auth, plugins
from ...models import Role
from ...services import ValidationFailed
from ...services import pix as pix_service
from . import bp

FAMILY_LABELS = {
    "gateway": _l("Gateway de pagamento"),
    "notifier": _l("Notificadores"),
    "blocker": _l("Bloqueio de acesso"),
    "listener": _l("Outros plugins"),
}


@dataclass
class PluginRow:
    name: str
    family: str
    title: str
    description: str
    problems: list[str] = field(default_factory=list)


def plugin_rows() -> list[PluginRow]:
    """Describe every active plugin and what its configuration check says."""
    rows = []
    families = {
        name: family
        for family, names in plugins.selected(current_app.config).items()
        for name in names
    }
    for name, plugin in plugins.manager().list_name_plugin():
        info_impl = getattr(plugin, "agnozys_plugin_info", None)
        info = info_impl() if info_impl else None
        check = getattr(plugin, "agnozys_check_config", None)
        try:
            problems = list(check(config=current_app.config) or []) if check else []
        except Exception as exc:  # a broken check is itself a problem to show
            problems = [str(exc)]
        rows.append(
            PluginRow(
                name=name,
                family=families.get(name) or (info.family if info else "listener"),
                title=info.title if info else name,
                description=info.description if info else "",
                problems=problems,
            )
        )
    return rows


def _render(errors: dict[str, str] | None = None, status: int = 200) -> Any:
    rows = plugin_rows()
    grouped = {
        family: [row for row in rows if row.family == family]
        for family in FAMILY_LABELS
    }
    gateway = plugins.selected(current_app.config)["gateway"]
    receiver = pix_service.receiver(current_user.organization_id)
    values = request.form if request.method == "POST" else {}
    return render_template(
        "settings/integrations.html",
        grouped=grouped,
        family_labels=FAMILY_LABELS,
        gateway=gateway[0] if gateway else None,
        webhook_url=current_app.config["AGNOZYS_BASE_URL"].rstrip("/")
        + "/webhooks/"
        + (gateway[0] if gateway else ""),
        pix_active="pix" in gateway,
        receiver=receiver,
        values=values,
        errors=errors or {},
    ), status


@bp.get("/integracoes")
@auth.require_role(Role.ADMIN)
def integrations() -> Any:
    """Show which plugins are active and whether each is configured."""
    return _render()


@bp.post("/integracoes/pix")
@auth.require_role(Role.ADMIN)
def save_pix() -> Any:
    """Set the organization's own Pix key, name and city."""
    try:
        pix_service.save_settings(
            current_user.organization_id, request.form, actor=auth.actor()
        )
    except ValidationFailed as exc:
        return _render(exc.fields, status=422)
    flash(_("Chave Pix salva."), "success")
    return redirect(url_for("settings.integrations"), code=303)
