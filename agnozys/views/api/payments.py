"""API routes for comprovantes (API.md, Invoices: proofs)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from ...auth import actor
from ...services import invoices as invoice_service
from ...services import proofs
from . import OPENAPI_PATHS, OPENAPI_SCHEMAS, body, bp
from .openapi import errors, json_body, json_content, path_id, ref
from .serializers import invoice_json


@bp.post("/invoices/<id>/proofs")
def upload_proof(id: str) -> Any:
    invoice = invoice_service.get_invoice(id)
    upload = request.files.get("file")
    proof = proofs.upload_proof(
        invoice,
        upload.stream if upload else None,
        upload.filename or "" if upload else "",
        actor=actor(),
    )
    return jsonify({"id": proof.public_id, "status": proof.status.value}), 201


@bp.post("/invoices/<id>/proofs/<proof_id>/accept")
def accept_proof(id: str, proof_id: str) -> Any:
    invoice = proofs.accept_proof(id, proof_id, actor=actor())
    return jsonify(invoice_json(invoice))


@bp.post("/invoices/<id>/proofs/<proof_id>/reject")
def reject_proof(id: str, proof_id: str) -> Any:
    """Refuse a comprovante with the reason the customer will read."""
    reason = body().get("reason")
    proof = proofs.reject_proof(
        id, proof_id, reason=reason if isinstance(reason, str) else "", actor=actor()
    )
    return jsonify(
        {"id": proof.public_id, "status": proof.status.value, "reason": reason}
    )


OPENAPI_SCHEMAS["Proof"] = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string", "examples": ["prf_8k2m4q7rx1t9vz3a"]},
        "status": {"type": "string", "enum": ["pending", "accepted", "rejected"]},
        "reason": {"type": "string", "description": "Por que foi recusado."},
    },
}

OPENAPI_PATHS["/invoices/{id}/proofs"] = {
    "post": {
        "summary": "Enviar comprovante (PDF, PNG ou JPEG, até 10 MB).",
        "parameters": [path_id()],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {
                                "type": "string",
                                "contentMediaType": "application/octet-stream",
                                "description": "Verificado pelo conteúdo, "
                                "não pelo nome.",
                            }
                        },
                    }
                }
            },
        },
        "responses": {
            "201": {
                "description": "Comprovante recebido, aguardando análise.",
                "content": json_content(ref("Proof")),
            },
            **errors(401, 404, 409, 422),
            "413": {
                "description": "Arquivo acima de 10 MB.",
                "content": json_content(ref("Error")),
            },
        },
    }
}
OPENAPI_PATHS["/invoices/{id}/proofs/{proof_id}/accept"] = {
    "post": {
        "summary": "Aceitar comprovante: a cobrança fica paga (forma manual).",
        "parameters": [path_id(), path_id("proof_id")],
        "responses": {
            "200": {
                "description": "A cobrança, agora paga.",
                "content": json_content(ref("Invoice")),
            },
            **errors(401, 404, 409),
        },
    }
}

OPENAPI_PATHS["/invoices/{id}/proofs/{proof_id}/reject"] = {
    "post": {
        "summary": "Recusar comprovante, dizendo o motivo; a cobrança segue aberta.",
        "parameters": [path_id(), path_id("proof_id")],
        "requestBody": json_body(
            {
                "type": "object",
                "required": ["reason"],
                "properties": {"reason": {"type": "string", "maxLength": 500}},
            }
        ),
        "responses": {
            "200": {
                "description": "O comprovante, agora recusado.",
                "content": json_content(ref("Proof")),
            },
            **errors(400, 401, 404, 409, 422),
        },
    }
}
