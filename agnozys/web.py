"""What every page shares: filters, navigation, labels and error pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from . import auth, clock, money

STATUS_LABELS = {
    "pending": _l("Pendente"),
    "overdue": _l("Vencida"),
    "paid": _l("Paga"),
    "canceled": _l("Cancelada"),
    "active": _l("Ativa"),
    "suspended": _l("Suspensa"),
}

ROLE_LABELS = {
    "owner": _l("Proprietário"),
    "admin": _l("Administrador"),
    "agent": _l("Agente"),
    "viewer": _l("Leitura"),
}

# (endpoint, label, section). Areas add their pages here; an entry whose
# endpoint is not registered is simply not shown.
NAV: list[tuple[str, Any, str]] = [
    ("dashboard.index", _l("Painel"), "main"),
    ("invoices.index", _l("Cobranças"), "Financeiro"),
    ("subscriptions.index", _l("Assinaturas"), "Financeiro"),
    ("reconciliation.index", _l("Pagamentos a conciliar"), "Financeiro"),
    ("customers.index", _l("Clientes"), "main"),
    ("reports.pareto", _l("Quem ligar primeiro"), "Relatórios"),
    ("reports.aging", _l("Aging"), "Relatórios"),
    ("outbox.index", _l("Caixa de saída"), "main"),
    ("settings.billing", _l("Cobrança"), "Configurações"),
    ("settings.ladder", _l("Régua de cobrança"), "Configurações"),
    ("settings.subscriptions", _l("Assinaturas"), "Configurações"),
    ("settings.integrations", _l("Integrações"), "Configurações"),
    ("settings.tokens", _l("Tokens da API"), "Configurações"),
]


def nav_items(app: Flask) -> list[dict[str, Any]]:
    """Group the registered navigation entries by section, in order."""
    sections: dict[str, list[tuple[str, Any]]] = {}
    for endpoint, label, section in NAV:
        if endpoint in app.view_functions:
            sections.setdefault(section, []).append((endpoint, label))
    return [{"section": name, "items": items} for name, items in sections.items()]


def status_badge(status: str) -> Markup:
    label = STATUS_LABELS.get(status, status)
    return Markup('<span class="badge badge-{}">{}</span>').format(status, label)


def format_moment(moment: datetime | None, timezone: str | None = None) -> str:
    if moment is None:
        return ""
    local = clock.local(moment, timezone)
    return local.strftime("%d/%m/%Y %H:%M")


def format_day(day: date | None) -> str:
    return money.format_day(day) if day else ""


def install(app: Flask) -> None:
    app.jinja_env.filters.update(
        brl=money.format_brl,
        money_plain=money.format_plain,
        day=format_day,
        moment=format_moment,
        rate=money.format_rate,
        badge=status_badge,
    )

    @app.context_processor
    def shared() -> dict[str, Any]:
        organization = None
        if current_user.is_authenticated:
            organization = current_user.organization
        return {
            "nav": nav_items(app),
            "can_edit": auth.can_edit(),
            "organization": organization,
            "status_labels": STATUS_LABELS,
            "role_labels": ROLE_LABELS,
        }

    def error_page(code: int, title: str, message: str) -> Any:
        def handler(exc: Exception) -> Any:
            if request.path.startswith("/api/"):
                from .views.api_errors import error_response

                return error_response(code, title, message)
            return render_template(
                "error.html", code=code, title=title, message=message
            ), code

        return handler

    app.register_error_handler(
        403, error_page(403, "forbidden", _l("Você não tem permissão para isso."))
    )
    app.register_error_handler(
        404, error_page(404, "not_found", _l("Página não encontrada."))
    )
    app.register_error_handler(
        405, error_page(405, "method_not_allowed", _l("Método não permitido."))
    )
    app.register_error_handler(
        413,
        error_page(413, "too_large", _l("Arquivo grande demais (máximo de 10 MB).")),
    )
    app.register_error_handler(
        500, error_page(500, "internal", _l("Erro interno. Tente de novo."))
    )
