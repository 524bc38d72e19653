"""API routes for reports (API.md): Pareto and aging."""

from __future__ import annotations

import json
from operator import itemgetter
from typing import Any

from flask import current_app, jsonify

from ... import money
from ...services import reports
from . import OPENAPI_PATHS, OPENAPI_SCHEMAS, bp, organization
from .openapi import errors, json_content, ref

_PARETO_COLUMNS = (
    "public_id",
    "name",
    "overdue_text",
    "share",
    "cumulative_share",
    "top",
)


@bp.get("/reports/pareto")
def pareto_report() -> Any:
    """Rank customers by overdue amount due today, the 80% group marked."""
    result = reports.pareto(organization())
    # Amounts and shares arrive formatted from SQL; a big book's list is
    # only copied into JSON here, reading rows by position (the fastest).
    pick = itemgetter(*(result.column_index(name) for name in _PARETO_COLUMNS))
    payload = {
        "total_overdue": money.to_api(result.total_overdue),
        "top_count": result.top_count,
        "top_share": result.top_share,
        "customers": [
            {
                "customer_id": public_id,
                "name": name,
                "overdue_amount": amount,
                "share": share,
                "cumulative_share": cumulative,
                "top": top,
            }
            for public_id, name, amount, share, cumulative, top in map(
                pick, result.rows
            )
        ],
    }
    return current_app.response_class(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        mimetype="application/json",
    )


@bp.get("/reports/aging")
def aging_report() -> Any:
    """Count and sum overdue invoices in buckets of days late."""
    buckets = reports.aging(organization())
    return jsonify(
        {
            "buckets": [
                {
                    "label": bucket.label,
                    "count": bucket.count,
                    "amount": money.to_api(bucket.amount),
                }
                for bucket in buckets
            ]
        }
    )


_money = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["1033.33"]}
_share = {
    "type": "string",
    "pattern": r"^[01]\.\d{4}$",
    "description": "Fração entre 0 e 1 com quatro casas (0.1234 = 12,34%).",
}

OPENAPI_SCHEMAS["ParetoReport"] = {
    "type": "object",
    "required": ["total_overdue", "top_count", "top_share", "customers"],
    "properties": {
        "total_overdue": _money,
        "top_count": {"type": "integer", "minimum": 0},
        "top_share": _share,
        "customers": {
            "type": "array",
            "description": (
                "Maior valor vencido primeiro; empates pela ordem de cadastro "
                "do cliente. O valor vencido é o que o cliente pagaria hoje "
                "(principal, multa e juros)."
            ),
            "items": {
                "type": "object",
                "required": [
                    "customer_id",
                    "name",
                    "overdue_amount",
                    "share",
                    "cumulative_share",
                    "top",
                ],
                "properties": {
                    "customer_id": {"type": "string"},
                    "name": {"type": "string"},
                    "overdue_amount": _money,
                    "share": _share,
                    "cumulative_share": _share,
                    "top": {
                        "type": "boolean",
                        "description": (
                            "No menor grupo que soma 80% do total vencido; num "
                            "empate na linha, só o primeiro da ordem entra."
                        ),
                    },
                },
            },
        },
    },
}

OPENAPI_SCHEMAS["AgingReport"] = {
    "type": "object",
    "required": ["buckets"],
    "properties": {
        "buckets": {
            "type": "array",
            "minItems": 4,
            "maxItems": 4,
            "items": {
                "type": "object",
                "required": ["label", "count", "amount"],
                "properties": {
                    "label": {
                        "type": "string",
                        "enum": ["1-30", "31-60", "61-90", "91+"],
                    },
                    "count": {"type": "integer", "minimum": 0},
                    "amount": _money,
                },
            },
        }
    },
}

OPENAPI_PATHS["/reports/pareto"] = {
    "get": {
        "operationId": "getParetoReport",
        "summary": "Quem ligar primeiro: clientes por valor vencido",
        "tags": ["reports"],
        "responses": {
            "200": {
                "description": "O ranking de hoje.",
                "content": json_content(ref("ParetoReport")),
            },
            **errors(401),
        },
    }
}

OPENAPI_PATHS["/reports/aging"] = {
    "get": {
        "operationId": "getAgingReport",
        "summary": "Vencido por faixa de dias de atraso",
        "tags": ["reports"],
        "responses": {
            "200": {
                "description": "As faixas 1-30, 31-60, 61-90 e mais de 90 dias.",
                "content": json_content(ref("AgingReport")),
            },
            **errors(401),
        },
    }
}
