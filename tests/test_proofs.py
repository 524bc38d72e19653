"""Comprovantes: upload (link, staff, API), who may see them, accept and reject."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agnozys import tenancy
from agnozys.extensions import db
from agnozys.models import Event, Invoice, InvoiceStatus
from agnozys.models.payments import Proof

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture
def invoice(org: Any, make_customer: Any, make_invoice: Any) -> Invoice:
    customer = make_customer(org, name="Bruno Comprovante")
    return make_invoice(org, customer, amount=25_000, due_in=5)


def upload(api: Any, invoice: Invoice, content: bytes, name: str) -> Any:
    return api.post(
        f"/invoices/{invoice.public_id}/proofs",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def upload_from_link(client: Any, invoice: Invoice, content: bytes, name: str) -> str:
    client.post(
        f"/pay/{invoice.payment_token}/comprovante",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    [proof] = [p for p in stored_proofs() if p.original_name == name]
    return proof.public_id


def stored_proofs() -> list[Proof]:
    with tenancy.unscoped():
        return list(db.session.execute(select(Proof)).scalars())


def timeline(invoice: Invoice) -> list[Event]:
    with tenancy.unscoped():
        return list(
            db.session.execute(
                select(Event).where(Event.invoice_id == invoice.id).order_by(Event.id)
            ).scalars()
        )


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PDF, "recibo.pdf", "application/pdf"),
        (PNG, "foto.png", "image/png"),
        (JPEG, "foto.jpeg", "image/jpeg"),
        # The name says nothing: the content decides.
        (PDF, "recibo.txt", "application/pdf"),
    ],
)
def test_api_upload_accepts_pdf_png_and_jpeg_by_content(
    api: Any, invoice: Invoice, app: Any, content: bytes, name: str, content_type: str
) -> None:
    response = upload(api, invoice, content, name)
    assert response.status_code == 201
    assert response.json["status"] == "pending"
    assert response.json["id"].startswith("prf_")
    [proof] = stored_proofs()
    assert proof.content_type == content_type
    path = Path(app.config["AGNOZYS_UPLOAD_DIR"]) / proof.stored_name
    assert path.read_bytes() == content
    assert name not in proof.stored_name
    assert "proof.uploaded" in [e.type for e in timeline(invoice)]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"GIF89a" + b"\x00" * 20, "recibo.pdf"),
        (b"<html>not a receipt</html>", "recibo.png"),
        (b"MZ\x90\x00", "recibo.jpg"),
    ],
)
def test_api_upload_refuses_other_content_whatever_its_name(
    api: Any, invoice: Invoice, content: bytes, name: str
) -> None:
    response = upload(api, invoice, content, name)
    assert response.status_code == 422
    assert "PDF, PNG ou JPEG" in response.json["error"]["fields"]["file"]
    assert stored_proofs() == []


def test_api_upload_without_file_or_empty_is_a_422(api: Any, invoice: Invoice) -> None:
    response = api.post(
        f"/invoices/{invoice.public_id}/proofs",
        data={},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "file" in response.json["error"]["fields"]
    response = upload(api, invoice, b"", "vazio.pdf")
    assert response.status_code == 422
    assert response.json["error"]["fields"]["file"] == "O arquivo está vazio."


def test_api_upload_over_10_mb_is_refused_with_413(api: Any, invoice: Invoice) -> None:
    content = PDF + b"0" * (10 * 1024 * 1024)
    response = upload(api, invoice, content, "grande.pdf")
    assert response.status_code == 413
    assert "10 MB" in response.json["error"]["message"]
    assert stored_proofs() == []


def test_api_upload_far_over_the_limit_is_cut_off_with_413(
    api: Any, invoice: Invoice
) -> None:
    response = upload(api, invoice, PDF + b"0" * (12 * 1024 * 1024), "enorme.pdf")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_api_accept_marks_invoice_paid_by_hand(api: Any, invoice: Invoice) -> None:
    proof_id = upload(api, invoice, PDF, "recibo.pdf").json["id"]
    response = api.post(f"/invoices/{invoice.public_id}/proofs/{proof_id}/accept")
    assert response.status_code == 200
    assert response.json["status"] == "paid"
    assert response.json["id"] == invoice.public_id
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PAID
    assert invoice.payment_method == "manual"
    assert invoice.paid_amount == 25_000
    events = {e.type: e for e in timeline(invoice)}
    assert events["proof.accepted"].actor.startswith("token:")
    assert events["payment.received"].data["method"] == "manual"

    again = api.post(f"/invoices/{invoice.public_id}/proofs/{proof_id}/accept")
    assert again.status_code == 409


def test_api_reject_keeps_the_invoice_open_and_says_why(
    api: Any, invoice: Invoice
) -> None:
    proof_id = upload(api, invoice, PDF, "recibo.pdf").json["id"]
    path = f"/invoices/{invoice.public_id}/proofs/{proof_id}/reject"

    missing = api.post(path, json={"reason": "  "})
    assert missing.status_code == 422
    assert missing.json["error"]["fields"]["reason"] == (
        "Diga ao cliente por que o comprovante foi recusado."
    )
    response = api.post(path, json={"reason": "Valor não confere."})

    assert response.status_code == 200
    assert response.json == {
        "id": proof_id,
        "status": "rejected",
        "reason": "Valor não confere.",
    }
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PENDING
    rejected = [e for e in timeline(invoice) if e.type == "proof.rejected"]
    assert [e.data["reason"] for e in rejected] == ["Valor não confere."]
    assert rejected[0].actor.startswith("token:")
    assert api.post(path, json={"reason": "De novo."}).status_code == 409
    accept = f"/invoices/{invoice.public_id}/proofs/{proof_id}/accept"
    assert api.post(accept).status_code == 409


def test_api_proofs_of_another_organization_are_404(
    api: Any, other_api: Any, invoice: Invoice
) -> None:
    proof_id = upload(api, invoice, PDF, "recibo.pdf").json["id"]
    assert upload(other_api, invoice, PDF, "x.pdf").status_code == 404
    response = other_api.post(f"/invoices/{invoice.public_id}/proofs/{proof_id}/accept")
    assert response.status_code == 404
    rejected = other_api.post(
        f"/invoices/{invoice.public_id}/proofs/{proof_id}/reject",
        json={"reason": "Não é nosso."},
    )
    assert rejected.status_code == 404


def test_paid_invoice_takes_no_more_proofs(api: Any, invoice: Invoice) -> None:
    proof_id = upload(api, invoice, PDF, "recibo.pdf").json["id"]
    api.post(f"/invoices/{invoice.public_id}/proofs/{proof_id}/accept")
    response = upload(api, invoice, PNG, "outro.png")
    assert response.status_code == 409


def test_customer_uploads_on_the_payment_link(client: Any, invoice: Invoice) -> None:
    response = client.post(
        f"/pay/{invoice.payment_token}/comprovante",
        data={"file": (io.BytesIO(PNG), "pix.png")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Comprovante recebido" in page
    assert "Aguardando análise" in page
    [proof] = stored_proofs()
    assert proof.uploaded_by == "customer:link"


def test_customer_sees_why_a_file_was_refused(client: Any, invoice: Invoice) -> None:
    response = client.post(
        f"/pay/{invoice.payment_token}/comprovante",
        data={"file": (io.BytesIO(b"just text"), "pix.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Envie um PDF, PNG ou JPEG." in response.get_data(as_text=True)
    assert stored_proofs() == []


def test_payment_link_offers_upload_only_while_open(
    client: Any, api: Any, invoice: Invoice
) -> None:
    page = client.get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    assert "Envie o comprovante" in page
    proof_id = upload(api, invoice, PDF, "recibo.pdf").json["id"]
    api.post(f"/invoices/{invoice.public_id}/proofs/{proof_id}/accept")
    page = client.get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    assert "Envie o comprovante" not in page
    assert "Recibo de pagamento" in page


def test_proof_file_is_served_only_to_staff_of_the_organization(
    client: Any, auth: Any, owner: Any, other_org: Any, api: Any, invoice: Invoice
) -> None:
    from helpers import make_user

    proof_id = upload(api, invoice, PDF, "recibo.pdf").json["id"]
    url = f"/comprovantes/{proof_id}"
    assert client.get(url).status_code in (302, 401)

    stranger = make_user(other_org, "owner", "dono@concorrente.test")
    auth.login(stranger)
    assert client.get(url).status_code == 404
    auth.logout()

    auth.login(owner)
    response = client.get(url)
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_staff_accept_from_invoice_page(
    staff: Any, invoice: Invoice, owner: Any
) -> None:
    proof_id = upload_from_link(staff, invoice, PDF, "recibo.pdf")
    page = staff.get(f"/cobrancas/{invoice.public_id}").get_data(as_text=True)
    assert "recibo.pdf" in page
    assert "Aceitar e marcar paga" in page

    response = staff.post(
        f"/cobrancas/{invoice.public_id}/comprovantes/{proof_id}/aceitar",
        follow_redirects=True,
    )
    assert "Comprovante aceito: a cobrança está paga." in response.get_data(
        as_text=True
    )
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PAID
    accepted = [e for e in timeline(invoice) if e.type == "proof.accepted"]
    assert accepted[0].actor == f"user:{owner.email}"


def test_staff_reject_needs_a_reason_and_keeps_invoice_open(
    staff: Any, invoice: Invoice
) -> None:
    proof_id = upload_from_link(staff, invoice, JPEG, "foto.jpg")
    url = f"/cobrancas/{invoice.public_id}/comprovantes/{proof_id}/recusar"
    response = staff.post(url, data={"reason": "  "}, follow_redirects=True)
    assert "Diga ao cliente por que" in response.get_data(as_text=True)
    response = staff.post(
        url, data={"reason": "Valor diferente do devido"}, follow_redirects=True
    )
    assert "Comprovante recusado." in response.get_data(as_text=True)
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PENDING
    [proof] = stored_proofs()
    assert proof.status.value == "rejected"
    page = staff.get(f"/pay/{invoice.payment_token}").get_data(as_text=True)
    assert "Valor diferente do devido" in page


def test_staff_can_attach_a_proof(staff: Any, invoice: Invoice) -> None:
    response = staff.post(
        f"/cobrancas/{invoice.public_id}/comprovantes",
        data={"file": (io.BytesIO(PDF), "recebido-por-email.pdf")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Comprovante anexado." in response.get_data(as_text=True)
    [proof] = stored_proofs()
    assert proof.uploaded_by.startswith("user:")


def test_viewer_cannot_accept(
    client: Any, auth: Any, viewer: Any, invoice: Invoice
) -> None:
    proof_id = upload_from_link(client, invoice, PDF, "recibo.pdf")
    auth.login(viewer)
    response = client.post(
        f"/cobrancas/{invoice.public_id}/comprovantes/{proof_id}/aceitar"
    )
    assert response.status_code == 403
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.PENDING
