"""API routes for invoices (API.md): create, list, read and timeline."""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ... import auth, clock, money
from ...extensions import db
from ...models import Customer, Event
from ...services import ValidationFailed, listing
from ...services import invoices as invoice_service
from . import OPENAPI_PATHS, OPENAPI_SCHEMAS, body, bp, organization
from .openapi import errors, json_body, json_content, path_id, ref
from .serializers import event_json, invoice_json

DEFAULT_PER_PAGE = 50
_WHOLE_NUMBER = re.compile(r"[0-9]{1,7}")
_API_AMOUNT = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?")


def _amount_wire_format(data: dict[str, Any]) -> dict[str, str]:
    """Hold the amount to API.md's wire format: a string like ``"1234.56"``.

    :func:`money.parse_amount` also reads pt-BR text, where ``"10.555"``
    means ten thousand; over the API a dot is always the decimal point.
    """
    value = data.get("amount")
    if value is None:
        return {}
    if not isinstance(value, str):
        return {"amount": _('Envie o valor como texto com duas casas: "1234.56".')}
    if _API_AMOUNT.fullmatch(value.strip()):
        return {}
    try:
        money.parse_amount(value)
    except money.MoneyError as exc:
        return {"amount": str(exc)}
    return {"amount": _('Use ponto decimal e até duas casas: "1234.56".')}


@bp.post("/invoices")
def create_invoice() -> Any:
    """Create a one-off invoice; a past due date is allowed (imported debt)."""
    data = body()
    org = organization()
    fields = _amount_wire_format(data)
    if fields:
        # Report every bad field at once, not only the amount's type.
        rest = {name: value for name, value in data.items() if name not in fields}
        try:
            invoice_service.clean_new_invoice(rest, org)
        except ValidationFailed as exc:
            fields = {**exc.fields, **fields}
        raise ValidationFailed(_("Confira os campos destacados."), fields)

    invoice = invoice_service.create_invoice(data, organization=org, actor=auth.actor())
    response = jsonify(invoice_json(invoice))
    response.headers["Location"] = url_for("api.get_invoice", id=invoice.public_id)
    return response, 201


def _whole_number(name: str, default: int, maximum: int, fields: dict[str, str]) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        fields[name] = _("Use um número inteiro de 1 a %(n)d.", n=maximum)
        return default
    return int(raw)


def _list_arguments() -> dict[str, Any]:
    """Read and check the list's query string; raises ValidationFailed."""
    args = request.args
    fields: dict[str, str] = {}

    status = args.get("status", "").strip() or None
    if status is not None and status not in listing.STATUSES:
        fields["status"] = _("Use pending, overdue, paid ou canceled.")

    sort = args.get("sort", "").strip() or listing.DEFAULT_SORT
    if sort not in listing.SORTS:
        fields["sort"] = _("Use due_date, -due_date, amount ou -amount.")

    page = _whole_number("page", 1, listing.MAX_PAGE, fields)
    per_page = _whole_number("per_page", DEFAULT_PER_PAGE, listing.MAX_PER_PAGE, fields)

    customer_id = None
    customer_ref = args.get("customer_id", "").strip()
    if customer_ref:
        customer_id = db.session.execute(
            select(Customer.id).where(Customer.public_id == customer_ref)
        ).scalar_one_or_none()
        if customer_id is None:
            fields["customer_id"] = _("Cliente não encontrado.")

    if fields:
        raise ValidationFailed(_("Confira os parâmetros destacados."), fields)
    return {
        "status": status,
        "sort": sort,
        "page": page,
        "per_page": per_page,
        "customer_id": customer_id,
    }


@bp.get("/invoices")
def list_invoices() -> Any:
    """List the organization's invoices, filtered, sorted and paged."""
    arguments = _list_arguments()
    today = clock.today(organization().timezone)
    page = listing.list_invoices(search=None, today=today, **arguments)
    return jsonify(
        {
            "items": [invoice_json(invoice, today) for invoice in page.items],
            "total": page.total,
            "page": page.page,
            "per_page": page.per_page,
        }
    )


@bp.get("/invoices/<id>")
def get_invoice(id: str) -> Any:
    """Return one invoice with what it costs if paid today."""
    return jsonify(invoice_json(invoice_service.get_invoice(id)))


@bp.get("/invoices/<id>/events")
def invoice_events(id: str) -> Any:
    """Return the invoice's timeline, oldest first."""
    invoice = invoice_service.get_invoice(id)
    events = db.session.execute(
        select(Event).where(Event.invoice_id == invoice.id).order_by(Event.at, Event.id)
    ).scalars()
    return jsonify({"items": [event_json(event) for event in events]})


# --- OpenAPI -----------------------------------------------------------------

_money = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1234.56"]}
_day = {"type": "string", "format": "date", "examples": ["2026-01-30"]}
_nullable_id = {"type": ["string", "null"]}
_rate = {
    "type": ["string", "number"],
    "description": 'Percentual com até duas casas: "2", "1.5". '
    "Sem ele vale a taxa da organização.",
    "examples": ["2.00"],
}

OPENAPI_SCHEMAS["Invoice"] = {
    "type": "object",
    "required": [
        "id",
        "number",
        "customer_id",
        "subscription_id",
        "description",
        "status",
        "amount",
        "fine",
        "interest",
        "amount_due",
        "due_date",
        "original_due_date",
        "payment_url",
        "gateway_charge_id",
        "agreement_id",
        "replaced_by",
        "paid_at",
    ],
    "properties": {
        "id": {"type": "string", "examples": ["inv_8k2m4q7rx1t9vz3a"]},
        "number": {"type": "integer", "description": "Número na organização."},
        "customer_id": {"type": "string"},
        "subscription_id": _nullable_id,
        "description": {"type": "string"},
        "status": {"type": "string", "enum": list(listing.STATUSES)},
        "amount": {**_money, "description": "O principal."},
        "fine": {**_money, "description": "Multa devida se pago hoje."},
        "interest": {**_money, "description": "Juros devidos se pago hoje."},
        "amount_due": {**_money, "description": "amount + fine + interest."},
        "due_date": _day,
        "original_due_date": _day,
        "payment_url": {"type": "string", "format": "uri"},
        "gateway_charge_id": _nullable_id,
        "agreement_id": {
            **_nullable_id,
            "description": "O acordo de que esta cobrança é parte.",
        },
        "replaced_by": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Ids das partes do acordo que substituiu esta cobrança.",
        },
        "paid_at": {"type": ["string", "null"], "format": "date-time"},
    },
}

OPENAPI_SCHEMAS["InvoiceCreate"] = {
    "type": "object",
    "required": ["customer_id", "amount", "due_date"],
    "properties": {
        "customer_id": {"type": "string"},
        "amount": {**_money, "description": "Maior que zero, duas casas no máximo."},
        "due_date": {**_day, "description": "Pode estar no passado (dívida antiga)."},
        "description": {"type": ["string", "null"], "maxLength": 500},
        "fine_percent": _rate,
        "interest_percent": {
            **_rate,
            "description": "Juros ao mês. " + str(_rate["description"]),
        },
    },
}

OPENAPI_SCHEMAS["InvoicePage"] = {
    "type": "object",
    "required": ["items", "total", "page", "per_page"],
    "properties": {
        "items": {"type": "array", "items": ref("Invoice")},
        "total": {"type": "integer", "description": "Quantas o filtro seleciona."},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
    },
}

OPENAPI_SCHEMAS["EventList"] = {
    "type": "object",
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "at", "actor", "data"],
                "properties": {
                    "type": {"type": "string", "examples": ["invoice.created"]},
                    "at": {"type": "string", "format": "date-time"},
                    "actor": {
                        "type": "string",
                        "examples": ["user:ana@exemplo.com.br", "token:agz_k2m9x"],
                    },
                    "data": {"type": "object"},
                },
            },
        }
    },
}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


OPENAPI_PATHS["/invoices"] = {
    "post": {
        "operationId": "createInvoice",
        "summary": "Cria uma cobrança avulsa",
        "tags": ["invoices"],
        "requestBody": json_body(ref("InvoiceCreate")),
        "responses": {
            "201": {
                "description": "Cobrança criada.",
                "content": json_content(ref("Invoice")),
            },
            **errors(400, 401, 422),
        },
    },
    "get": {
        "operationId": "listInvoices",
        "summary": "Lista as cobranças",
        "description": (
            "Valores inválidos respondem 422 com `fields`. Páginas de "
            f"{DEFAULT_PER_PAGE} por padrão e no máximo {listing.MAX_PER_PAGE}; "
            f"page vai de 1 a {listing.MAX_PAGE} (filtre mais para ir além)."
        ),
        "tags": ["invoices"],
        "parameters": [
            _query(
                "status",
                {"type": "string", "enum": list(listing.STATUSES)},
                "overdue é pending com vencimento passado (fuso da organização).",
            ),
            _query("customer_id", {"type": "string"}, "Só as cobranças deste cliente."),
            _query(
                "sort",
                {
                    "type": "string",
                    "enum": list(listing.SORTS),
                    "default": listing.DEFAULT_SORT,
                },
                "Pelo vencimento ou pelo principal; empates pelo id.",
            ),
            _query(
                "page",
                {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": listing.MAX_PAGE,
                    "default": 1,
                },
                "Página, a partir de 1.",
            ),
            _query(
                "per_page",
                {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": listing.MAX_PER_PAGE,
                    "default": DEFAULT_PER_PAGE,
                },
                "Itens por página.",
            ),
        ],
        "responses": {
            "200": {
                "description": "Uma página.",
                "content": json_content(ref("InvoicePage")),
            },
            **errors(401, 422),
        },
    },
}

OPENAPI_PATHS["/invoices/{id}"] = {
    "get": {
        "operationId": "getInvoice",
        "summary": "Mostra uma cobrança",
        "tags": ["invoices"],
        "parameters": [path_id()],
        "responses": {
            "200": {
                "description": "A cobrança.",
                "content": json_content(ref("Invoice")),
            },
            **errors(401, 404),
        },
    }
}

OPENAPI_PATHS["/invoices/{id}/events"] = {
    "get": {
        "operationId": "listInvoiceEvents",
        "summary": "Linha do tempo da cobrança, da mais antiga à mais nova",
        "tags": ["invoices"],
        "parameters": [path_id()],
        "responses": {
            "200": {
                "description": "Os eventos.",
                "content": json_content(ref("EventList")),
            },
            **errors(401, 404),
        },
    }
}
