"""Built-in gateway plugin `sandbox`: Sandbox (PSP local de testes)."""

from __future__ import annotations

from agnozys import hookimpl
from agnozys.hookspecs import PluginInfo


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="sandbox", family="gateway", title="Sandbox (PSP local de testes)"
    )
