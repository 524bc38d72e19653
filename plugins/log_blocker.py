"""Built-in blocker plugin `log`: writes access changes to the log.

For development and for merchants who cut access by hand: the change is
logged and counted as delivered.
"""

from __future__ import annotations

import logging

from agnozys import hookimpl
from agnozys.hookspecs import AccessChange, PluginInfo

log = logging.getLogger(__name__)


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="log",
        family="blocker",
        title="Registro (log)",
        description="Registra no log do servidor quando o acesso deve ser "
        "cortado ou devolvido; ninguém é avisado.",
    )


def _log(change: AccessChange) -> bool:
    log.info(
        "Customer %s (external %s): %s for subscription %s (delivery %s)",
        change.customer_id,
        change.customer_external_id or "-",
        change.type,
        change.subscription_id,
        change.delivery_id,
    )
    return True


@hookimpl
def agnozys_block_access(change: AccessChange) -> bool:
    return _log(change)


@hookimpl
def agnozys_unblock_access(change: AccessChange) -> bool:
    return _log(change)
