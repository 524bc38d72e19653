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


# --- details: one readable line of an event's data ----------------------------


def _brl(value: Any) -> str:
    from . import money

    try:
        return money.format_brl(money.parse_amount(str(value), allow_zero=True))
    except (ValueError, TypeError):
        return str(value)


def _day(value: Any) -> str:
    from datetime import date

    from . import money

    try:
        return money.format_day(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


WAIVE_WORDS: dict[str, Any] = {
    "none": _l("nada isento"),
    "fine": _l("multa isenta"),
    "interest": _l("juros isentos"),
    "all": _l("multa e juros isentos"),
}


def _rescheduled(data: dict[str, Any]) -> str:
    return str(
        _l(
            "De %(old_day)s (%(old)s) para %(new_day)s (%(new)s); %(waive)s.",
            old_day=_day(data.get("old_due_date")),
            old=_brl(data.get("old_amount_due")),
            new_day=_day(data.get("new_due_date")),
            new=_brl(data.get("new_amount_due")),
            waive=WAIVE_WORDS.get(data.get("waive", "none"), data.get("waive")),
        )
    )


def _waived(data: dict[str, Any]) -> str:
    return str(
        _l(
            "Multa isenta: %(fine)s; juros isentos: %(interest)s.",
            fine=_brl(data.get("fine", "0")),
            interest=_brl(data.get("interest", "0")),
        )
    )


def _agreement(data: dict[str, Any]) -> str:
    parts = data.get("parts") or []
    listed = "; ".join(
        str(
            _l(
                "nº %(n)s: %(amount)s em %(day)s",
                n=part.get("number"),
                amount=_brl(part.get("amount")),
                day=_day(part.get("due_date")),
            )
        )
        for part in parts
    )
    return str(
        _l(
            "%(count)s parcelas somando %(total)s (%(parts)s).",
            count=len(parts),
            total=_brl(data.get("total")),
            parts=listed,
        )
    )


def _canceled(data: dict[str, Any]) -> str:
    reason = data.get("reason")
    if reason == "agreement":
        return str(_l("Motivo: acordo."))
    if reason:
        return str(_l("Motivo: %(reason)s", reason=reason))
    return ""


def _resent(data: dict[str, Any]) -> str:
    return str(_l("Enviado para %(to)s.", to=", ".join(data.get("to") or [])))


EVENT_DETAILS: dict[str, Any] = {
    "invoice.rescheduled": _rescheduled,
    "fees.waived": _waived,
    "agreement.created": _agreement,
    "invoice.canceled": _canceled,
    "link.resent": _resent,
}


def detail(event: Any) -> str:
    """Return one readable pt-BR line of an event's data ("" when none)."""
    describe = EVENT_DETAILS.get(event.type)
    if describe is None:
        return ""
    try:
        return str(describe(event.data or {}))
    except Exception:  # a malformed old event must not break the page
        return ""
