"""Built-in blocker plugin `log`: Registro (log)."""

from __future__ import annotations

from agnozys import hookimpl
from agnozys.hookspecs import PluginInfo


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(name="log", family="blocker", title="Registro (log)")
