"""Built-in blocker plugin `webhook`: Webhook assinado."""

from __future__ import annotations

from agnozys import hookimpl
from agnozys.hookspecs import PluginInfo


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(name="webhook", family="blocker", title="Webhook assinado")
