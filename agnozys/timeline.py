"""How timeline events read in Portuguese, on invoice and subscription pages.

Areas add their event types here; an unknown type shows as itself.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

EVENT_LABELS: dict[str, Any] = {
    "invoice.created": _l("Cobrança criada"),
    "invoice.rescheduled": _l("Vencimento atualizado"),
    "fees.waived": _l("Multa/juros isentados"),
    "invoice.canceled": _l("Cobrança cancelada"),
    "agreement.created": _l("Acordo criado"),
    "reminder.sent": _l("Lembrete enviado"),
    "reminder.failed": _l("Lembrete falhou"),
    "reminders.paused": _l("Lembretes pausados"),
    "reminders.resumed": _l("Lembretes retomados"),
    "link.opened": _l("Link de pagamento aberto"),
    "link.resent": _l("Link de pagamento reenviado"),
    "payment.received": _l("Pagamento recebido"),
    "payment.flagged": _l("Pagamento a conciliar"),
    "payment.resolved": _l("Pagamento conciliado"),
    "proof.uploaded": _l("Comprovante enviado"),
    "proof.accepted": _l("Comprovante aceito"),
    "proof.rejected": _l("Comprovante recusado"),
    "subscription.suspended": _l("Assinatura suspensa"),
    "subscription.reactivated": _l("Assinatura reativada"),
    "subscription.created": _l("Assinatura criada"),
    "access.retried": _l("Envio ao bloqueador refeito"),
}


def label(event_type: str) -> str:
    return str(EVENT_LABELS.get(event_type, event_type))


def actor_label(actor: str) -> str:
    """``user:ana@x`` -> ``ana@x``; ``token:agz_abc`` -> ``API (agz_abc)``."""
    kind, _, name = actor.partition(":")
    if kind == "user":
        return name
    if kind == "token":
        return f"API ({name})"
    if kind == "customer":
        return str(_l("Cliente"))
    if kind == "gateway":
        return f"Gateway ({name})"
    return str(_l("Sistema"))
