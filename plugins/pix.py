"""Built-in gateway plugin `pix`: Pix estático (BR Code)."""

from __future__ import annotations

from agnozys import hookimpl
from agnozys.hookspecs import PluginInfo


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(name="pix", family="gateway", title="Pix estático (BR Code)")
