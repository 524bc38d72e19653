"""Comprovantes on the payment link and on the invoice page.

Customers upload from ``/pay/<token>``; staff upload, open, accept and
reject from the invoice page (``invoices/_extra.html``). Files are served
only to logged-in staff of the invoice's organization.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select

from .. import auth, tenancy
from ..extensions import db
from ..models import Invoice, Role
from ..models.payments import Payment, Proof, ProofStatus
from ..services import NotFound, ServiceError
from ..services import invoices as invoice_service
from ..services import proofs as proof_service
from ..services.payments import flag_label

bp = Blueprint("payments", __name__)

log = logging.getLogger(__name__)

PROOF_STATUS_LABELS = {
    ProofStatus.PENDING: _l("Aguardando análise"),
    ProofStatus.ACCEPTED: _l("Aceito"),
    ProofStatus.REJECTED: _l("Recusado"),
}


@bp.app_template_global()
def invoice_proofs(invoice: Invoice) -> list[Proof]:
    """The invoice's comprovantes, for ``invoices/_extra.html``."""
    return proof_service.proofs_of(invoice)


@bp.app_template_global()
def invoice_payments(invoice: Invoice) -> list[Payment]:
    """The payments gateways reported for the invoice, flagged ones included."""
    return list(
        db.session.execute(
            select(Payment).where(Payment.invoice_id == invoice.id).order_by(Payment.id)
        ).scalars()
    )


@bp.app_template_global()
def proof_status_label(status: ProofStatus | str) -> str:
    return str(PROOF_STATUS_LABELS.get(ProofStatus(status), status))


bp.add_app_template_global(flag_label, "flag_label")


# --- the customer, on the payment link ----------------------------------------


@bp.post("/pay/<token>/comprovante")
def upload_from_link(token: str) -> Any:
    """Take a comprovante from the customer, then show the link again."""
    with tenancy.unscoped():
        invoice = db.session.execute(
            select(Invoice).where(Invoice.payment_token == token)
        ).scalar_one_or_none()
    if invoice is None:
        abort(404)
    upload = request.files.get("file")
    with tenancy.scope(invoice.organization_id):
        try:
            proof_service.upload_proof(
                invoice,
                upload.stream if upload and upload.filename else None,
                upload.filename or "" if upload else "",
                actor="customer:link",
            )
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.fields.get("file") or exc.message, "error")
            return redirect(f"/pay/{token}#comprovante", code=303)
    flash(
        _("Comprovante recebido! A empresa vai conferir e confirmar o pagamento."),
        "success",
    )
    return redirect(f"/pay/{token}#comprovante", code=303)


# --- staff, on the invoice page -------------------------------------------------


def _back(invoice_id: str) -> Any:
    return redirect(url_for("invoices.show", public_id=invoice_id), code=303)


def _invoice_or_404(invoice_id: str) -> Invoice:
    try:
        return invoice_service.get_invoice(invoice_id)
    except NotFound:
        abort(404)


@bp.get("/comprovantes/<proof_id>")
@login_required
def proof_file(proof_id: str) -> Any:
    """Serve a comprovante's file to staff of its organization only."""
    try:
        proof = proof_service.get_proof(proof_id)
    except NotFound:
        abort(404)
    path = proof_service.path_of(proof)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype=proof.content_type,
        download_name=proof.original_name or proof.stored_name,
        as_attachment=proof.content_type == "application/pdf"
        and request.args.get("download") == "1",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/cobrancas/<invoice_id>/comprovantes")
@auth.require_role(Role.AGENT)
def upload_by_staff(invoice_id: str) -> Any:
    invoice = _invoice_or_404(invoice_id)
    upload = request.files.get("file")
    try:
        proof_service.upload_proof(
            invoice,
            upload.stream if upload and upload.filename else None,
            upload.filename or "" if upload else "",
            actor=auth.actor(),
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.fields.get("file") or exc.message, "error")
        return _back(invoice_id)
    flash(_("Comprovante anexado."), "success")
    return _back(invoice_id)


@bp.post("/cobrancas/<invoice_id>/comprovantes/<proof_id>/aceitar")
@auth.require_role(Role.AGENT)
def accept(invoice_id: str, proof_id: str) -> Any:
    try:
        proof_service.accept_proof(invoice_id, proof_id, actor=auth.actor())
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(exc.message, "error")
        return _back(invoice_id)
    flash(_("Comprovante aceito: a cobrança está paga."), "success")
    return _back(invoice_id)


@bp.post("/cobrancas/<invoice_id>/comprovantes/<proof_id>/recusar")
@auth.require_role(Role.AGENT)
def reject(invoice_id: str, proof_id: str) -> Any:
    reason = request.form.get("reason", "")
    try:
        proof_service.reject_proof(
            invoice_id, proof_id, reason=reason, actor=auth.actor()
        )
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 404:
            abort(404)
        flash(exc.fields.get("reason") or exc.message, "error")
        return _back(invoice_id)
    flash(_("Comprovante recusado."), "success")
    return _back(invoice_id)
