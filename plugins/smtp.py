"""Built-in notifier plugin `smtp`: E-mail (SMTP)."""

from __future__ import annotations

from agnozys import hookimpl
from agnozys.hookspecs import PluginInfo


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(name="smtp", family="notifier", title="E-mail (SMTP)")
