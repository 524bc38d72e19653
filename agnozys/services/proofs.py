"""Comprovantes: receipts customers send for manual payments, judged by staff."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import IO

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from .. import clock, money
from ..extensions import db
from ..models import Invoice, utcnow
from ..models.payments import Proof, ProofStatus
from . import Conflict, NotFound, ServiceError, ValidationFailed
from .invoices import figures
from .payments import mark_paid
from .timeline import record

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024

# Content is judged by its first bytes, never by the file's name.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


class TooLarge(ServiceError):
    status = 413
    code = "too_large"


def sniff(head: bytes) -> tuple[str, str] | None:
    """Return ``(content_type, extension)`` for PDF, PNG or JPEG bytes."""
    for magic, content_type, extension in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def upload_dir() -> Path:
    path = Path(current_app.config["AGNOZYS_UPLOAD_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(proof: Proof) -> Path:
    return upload_dir() / proof.stored_name


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed(message, {"file": message})


def upload_proof(
    invoice: Invoice, stream: IO[bytes] | None, filename: str, *, actor: str
) -> Proof:
    """Store a comprovante for an open invoice and commit.

    Raises :class:`ValidationFailed` (422) for a missing, empty or
    unsupported file, :class:`TooLarge` (413) past 10 MB and
    :class:`Conflict` (409) for a paid or canceled invoice.
    """
    if invoice.is_final():
        raise Conflict(
            _("Esta cobrança já está paga ou cancelada; não recebe comprovantes."),
            "invoice_final",
        )
    if stream is None:
        raise _file_error(_("Escolha o arquivo do comprovante."))
    data = stream.read(MAX_BYTES + 1)
    if not data:
        raise _file_error(_("O arquivo está vazio."))
    if len(data) > MAX_BYTES:
        raise TooLarge(
            _("Arquivo grande demais: o máximo é 10 MB."),
            {"file": _("Arquivo grande demais: o máximo é 10 MB.")},
        )
    kind = sniff(data[:16])
    if kind is None:
        raise _file_error(_("Envie um PDF, PNG ou JPEG."))
    content_type, extension = kind

    stored_name = secrets.token_hex(16) + extension
    target = upload_dir() / stored_name
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)

    proof = Proof(
        organization_id=invoice.organization_id,
        invoice_id=invoice.id,
        stored_name=stored_name,
        original_name=_display_name(filename),
        content_type=content_type,
        size=len(data),
        status=ProofStatus.PENDING,
        uploaded_by=actor,
    )
    db.session.add(proof)
    db.session.flush()
    record(
        "proof.uploaded",
        actor=actor,
        invoice=invoice,
        data={"proof_id": proof.public_id, "content_type": content_type},
    )
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        target.unlink(missing_ok=True)
        raise
    log.info("Invoice %s: proof %s uploaded", invoice.public_id, proof.public_id)
    return proof


def _display_name(filename: str) -> str:
    name = os.path.basename((filename or "").replace("\\", "/"))
    name = "".join(c for c in name if c.isprintable())
    return name[-200:]


def proofs_of(invoice: Invoice) -> list[Proof]:
    return list(
        db.session.execute(
            select(Proof).where(Proof.invoice_id == invoice.id).order_by(Proof.id)
        ).scalars()
    )


def get_proof(proof_id: str, invoice: Invoice | None = None) -> Proof:
    """Return a proof of the current organization (of ``invoice``, if given)."""
    query = select(Proof).where(Proof.public_id == proof_id)
    if invoice is not None:
        query = query.where(Proof.invoice_id == invoice.id)
    proof = db.session.execute(query).scalar_one_or_none()
    if proof is None:
        raise NotFound(_("Comprovante não encontrado."))
    return proof


def _lock(invoice_id: str, proof_id: str) -> tuple[Invoice, Proof]:
    invoice = db.session.execute(
        select(Invoice).where(Invoice.public_id == invoice_id).with_for_update()
    ).scalar_one_or_none()
    if invoice is None:
        raise NotFound(_("Cobrança não encontrada."))
    proof = db.session.execute(
        select(Proof)
        .where(Proof.public_id == proof_id, Proof.invoice_id == invoice.id)
        .with_for_update()
    ).scalar_one_or_none()
    if proof is None:
        raise NotFound(_("Comprovante não encontrado."))
    if proof.status != ProofStatus.PENDING:
        raise Conflict(_("Este comprovante já foi analisado."), "proof_decided")
    return invoice, proof


def accept_proof(invoice_id: str, proof_id: str, *, actor: str) -> Invoice:
    """Accept a comprovante: the invoice is paid in full today, by hand; commits."""
    invoice, proof = _lock(invoice_id, proof_id)
    if invoice.is_final():
        raise Conflict(_("Esta cobrança já está paga ou cancelada."), "invoice_final")
    now = utcnow()
    amount = figures(invoice, clock.local(now, invoice.organization.timezone).date())
    proof.status = ProofStatus.ACCEPTED
    proof.decided_by = actor
    proof.decided_at = now
    record(
        "proof.accepted",
        actor=actor,
        invoice=invoice,
        data={"proof_id": proof.public_id, "amount": money.to_api(amount.amount_due)},
    )
    mark_paid(
        invoice,
        amount=amount.amount_due,
        paid_at=now,
        method="manual",
        actor=actor,
        data={"proof_id": proof.public_id},
    )
    db.session.commit()
    return invoice


def reject_proof(invoice_id: str, proof_id: str, *, reason: str, actor: str) -> Proof:
    """Refuse a comprovante, saying why; the invoice stays open; commits."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Confira os campos destacados."),
            {"reason": _("Diga ao cliente por que o comprovante foi recusado.")},
        )
    if len(reason) > 500:
        raise ValidationFailed(
            _("Confira os campos destacados."),
            {"reason": _("Use no máximo 500 caracteres.")},
        )
    invoice, proof = _lock(invoice_id, proof_id)
    proof.status = ProofStatus.REJECTED
    proof.decided_by = actor
    proof.decided_at = utcnow()
    proof.reject_reason = reason
    record(
        "proof.rejected",
        actor=actor,
        invoice=invoice,
        data={"proof_id": proof.public_id, "reason": reason},
    )
    db.session.commit()
    return proof
