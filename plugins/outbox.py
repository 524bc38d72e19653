"""Built-in notifier plugin `outbox`: Caixa de saída (banco de dados)."""

from __future__ import annotations

from agnozys import hookimpl
from agnozys.hookspecs import PluginInfo


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="outbox", family="notifier", title="Caixa de saída (banco de dados)"
    )
