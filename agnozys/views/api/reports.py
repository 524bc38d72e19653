"""API routes for reports (API.md): Pareto and aging."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, jsonify

from ... import money
from ...services import reports
from . import OPENAPI_PATHS, OPENAPI_SCHEMAS, bp, organization
from .openapi import errors, json_content, ref


@bp.get("/reports/pareto")
def pareto_report() -> Any:
    """Rank customers by overdue amount due today, the 80% group marked."""
    # The database writes each customer's JSON object; here they are only
    # joined, so listing a big book costs about what its query does.
    head, customers = reports.pareto_json(organization())
    opening = json.dumps(
        {
            "total_overdue": money.to_api(head.total_overdue),
            "top_count": head.top_count,
            "top_share": head.top_share,
        },
        separators=(",", ":"),
    )
    body = f'{opening[:-1]},"customers":[{",".join(customers)}]}}'
    return current_app.response_class(body, mimetype="application/json")


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
