"""The pluggy manager: which plugins are active and how hooks are reached.

Every plugin, built-in or not, is found through the ``agnozys`` entry-point
group and activated by name from configuration: one gateway
(``AGNOZYS_GATEWAY``), the notifiers (``AGNOZYS_NOTIFIERS``), one access
blocker (``AGNOZYS_ACCESS_BLOCKER``) and any listeners
(``AGNOZYS_PLUGINS``). Core code never imports a plugin module.
"""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import Flask, current_app

from . import hookspecs

log = logging.getLogger(__name__)

GROUP = "agnozys"


class PluginError(RuntimeError):
    """A plugin is unknown, misconfigured or broken; stops start-up."""


class WebhookRejected(Exception):
    """A webhook refused before (or while) reading it.

    ``status`` is 401 for a bad or stale signature, 400 for a body that is
    not what the gateway documents.
    """

    def __init__(self, message: str, status: int = 401, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code or ("invalid_signature" if status == 401 else "bad_request")


def _names(value: str | None) -> list[str]:
    return [name.strip() for name in (value or "").split(",") if name.strip()]


def selected(config: dict[str, Any]) -> dict[str, list[str]]:
    """Return the plugin names the configuration asks for, by family."""
    return {
        "gateway": _names(config.get("AGNOZYS_GATEWAY")),
        "notifier": _names(config.get("AGNOZYS_NOTIFIERS")),
        "blocker": _names(config.get("AGNOZYS_ACCESS_BLOCKER")),
        "listener": _names(config.get("AGNOZYS_PLUGINS")),
    }


def available() -> dict[str, Any]:
    """Return the entry points of every installed plugin, by name."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


SETTINGS = {
    "gateway": "AGNOZYS_GATEWAY",
    "notifier": "AGNOZYS_NOTIFIERS",
    "blocker": "AGNOZYS_ACCESS_BLOCKER",
    "listener": "AGNOZYS_PLUGINS",
}
# Families that must have exactly one plugin.
SINGLE = ("gateway", "blocker")


def build_manager(config: dict[str, Any]) -> pluggy.PluginManager:
    """Load, register and check the plugins the configuration names.

    Raises :class:`PluginError` naming the plugin and what is wrong, so a
    deployment with a misnamed or misconfigured plugin never starts.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    found = available()
    for family, names in selected(config).items():
        setting = SETTINGS[family]
        if family in SINGLE and len(names) != 1:
            raise PluginError(
                f"{setting} deve nomear exatamente um plugin de {family}; "
                f"recebeu {names or 'nenhum'}."
            )
        for name in names:
            _register(pm, found, family, name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        name = pm.get_name(exc.plugin) or "?"
        raise PluginError(f"Plugin '{name}': hook desconhecido. {exc}") from exc
    for name, plugin in pm.list_name_plugin():
        impl = getattr(plugin, "agnozys_check_config", None)
        if impl is None:
            continue
        try:
            problems = impl(config=config) or []
        except Exception as exc:
            raise PluginError(
                f"Plugin '{name}': a verificação da configuração falhou: {exc}"
            ) from exc
        if problems:
            raise PluginError(f"Plugin '{name}': " + "; ".join(problems))
    return pm


def _register(
    pm: pluggy.PluginManager, found: dict[str, Any], family: str, name: str
) -> None:
    setting = SETTINGS[family]
    if name not in found:
        known = ", ".join(sorted(found)) or "nenhum"
        raise PluginError(
            f"Plugin '{name}' ({setting}) não está instalado. Instalados: {known}."
        )
    if pm.has_plugin(name):
        return
    try:
        module = found[name].load()
    except Exception as exc:
        raise PluginError(f"Plugin '{name}' não carregou: {exc}") from exc
    info_impl = getattr(module, "agnozys_plugin_info", None)
    if info_impl is not None:
        info = info_impl()
        if family != "listener" and info.family != family:
            raise PluginError(
                f"Plugin '{name}' é do tipo {info.family}, não {family}: "
                f"confira {setting}."
            )
    try:
        pm.register(module, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"Plugin '{name}' é inválido: {exc}") from exc


def install(app: Flask) -> None:
    app.extensions["agnozys_plugins"] = build_manager(app.config)


def manager() -> pluggy.PluginManager:
    """Return the plugin manager of the current app."""
    pm: pluggy.PluginManager = current_app.extensions["agnozys_plugins"]
    return pm


def hook() -> Any:
    """Return the hook relay: ``plugins.hook().agnozys_send_message(...)``."""
    return manager().hook
