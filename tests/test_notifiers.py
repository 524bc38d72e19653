"""Notifier plugins: outbox, real SMTP (aiosmtpd) and SMS (a Zenvia stand-in)."""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import Message as EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask
from sqlalchemy import select

from agnozys import plugins, tenancy
from agnozys.extensions import db
from agnozys.hookspecs import Message
from agnozys.models import Customer, Event, Invoice, Organization, OutboxMessage
from agnozys.plugins import PluginError
from agnozys.services import ladder

SENDER = "Cobrança Aurora <cobranca@aurora.test>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- a local SMTP server ------------------------------------------------------


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(
            message_from_bytes(envelope.original_content, policy=policy.default)
        )
        return "250 OK"


def _authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login == b"aurora" and auth_data.password == b"segredo"
    )
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def smtp_server(certificate: tuple[Path, Path]) -> Iterator[tuple[Inbox, int]]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=_authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def plain_smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def smtp_config(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "AGNOZYS_NOTIFIERS": "smtp",
        "AGNOZYS_SMTP_HOST": "127.0.0.1",
        "AGNOZYS_SMTP_PORT": port,
        "AGNOZYS_SMTP_SENDER": SENDER,
        **extra,
    }


MESSAGE = Message(
    channel="email",
    to="maria@example.com",
    subject="Sua cobrança vence hoje",
    text="Olá, Maria! Pague pelo link: http://agnozys.test/pay/abc",
    html="<p>Olá, Maria! <a href='http://agnozys.test/pay/abc'>Pagar</a></p>",
    organization_id=None,
    idempotency_key="reminder-42",
)


def test_smtp_sends_text_and_html_over_starttls_with_login(
    make_app: Callable[..., Flask],
    smtp_server: tuple[Inbox, int],
    certificate: tuple[Path, Path],
) -> None:
    inbox, port = smtp_server
    app = make_app(
        **smtp_config(
            port,
            AGNOZYS_SMTP_SECURITY="starttls",
            AGNOZYS_SMTP_USERNAME="aurora",
            AGNOZYS_SMTP_PASSWORD="segredo",
            AGNOZYS_SMTP_CA_FILE=str(certificate[0]),
        )
    )
    with app.app_context():
        results = plugins.hook().agnozys_send_message(message=MESSAGE)

    assert [r.notifier for r in results] == ["smtp"]
    (email,) = inbox.messages
    assert email["To"] == "maria@example.com"
    assert "cobranca@aurora.test" in email["From"]
    assert email["Subject"] == "Sua cobrança vence hoje"
    assert email["Message-ID"] == results[0].provider_id
    parts = {part.get_content_type(): part for part in email.walk()}
    assert "Pague pelo link" in parts["text/plain"].get_payload(decode=True).decode()
    assert "<a href=" in parts["text/html"].get_payload(decode=True).decode()


def test_smtp_wrong_password_fails_loudly(
    make_app: Callable[..., Flask],
    smtp_server: tuple[Inbox, int],
    certificate: tuple[Path, Path],
) -> None:
    inbox, port = smtp_server
    app = make_app(
        **smtp_config(
            port,
            AGNOZYS_SMTP_USERNAME="aurora",
            AGNOZYS_SMTP_PASSWORD="errada",
            AGNOZYS_SMTP_TIMEOUT=3,
            AGNOZYS_SMTP_CA_FILE=str(certificate[0]),
        )
    )
    with app.app_context(), pytest.raises(smtplib.SMTPException):
        plugins.hook().agnozys_send_message(message=MESSAGE)
    assert inbox.messages == []


def test_smtp_refuses_an_untrusted_certificate(
    make_app: Callable[..., Flask], smtp_server: tuple[Inbox, int]
) -> None:
    _, port = smtp_server
    app = make_app(**smtp_config(port))
    with app.app_context(), pytest.raises(ssl.SSLError):
        plugins.hook().agnozys_send_message(message=MESSAGE)


def test_smtp_over_implicit_tls(
    make_app: Callable[..., Flask], certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    try:
        app = make_app(
            **smtp_config(
                port, AGNOZYS_SMTP_SECURITY="tls", AGNOZYS_SMTP_CA_FILE=str(cert)
            )
        )
        with app.app_context():
            plugins.hook().agnozys_send_message(message=MESSAGE)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1


def test_smtp_ignores_other_channels(
    make_app: Callable[..., Flask], plain_smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = plain_smtp_server
    app = make_app(**smtp_config(port, AGNOZYS_SMTP_SECURITY="none"))
    sms = Message(channel="sms", to="11987654321", subject="", text="oi")
    with app.app_context():
        assert plugins.hook().agnozys_send_message(message=sms) == []
    assert inbox.messages == []


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"AGNOZYS_SMTP_HOST": None}, "defina AGNOZYS_SMTP_HOST"),
        ({"AGNOZYS_SMTP_SENDER": None}, "defina AGNOZYS_SMTP_SENDER"),
        ({"AGNOZYS_SMTP_SENDER": "cobranca"}, "remetente válido"),
        ({"AGNOZYS_SMTP_SECURITY": "ssl3"}, "starttls, tls ou none"),
        ({"AGNOZYS_SMTP_PORT": "smtp"}, "número de porta"),
    ],
)
def test_smtp_configuration_problems_stop_start_up_in_portuguese(
    make_app: Callable[..., Flask], config: dict[str, Any], problem: str
) -> None:
    with pytest.raises(PluginError, match=problem):
        make_app(**{**smtp_config(2525), **config})


# --- a local Zenvia stand-in -------------------------------------------------


class Zenvia:
    """Answers like Zenvia's SMS API and keeps what it received."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        port = free_port()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stand_in.requests.append(
                    {
                        "path": self.path,
                        "token": self.headers.get("X-API-TOKEN"),
                        "json": json.loads(body),
                    }
                )
                if stand_in.status >= 400:
                    answer = {"code": "VALIDATION_ERROR", "message": "Invalid 'to'"}
                else:
                    answer = {"id": f"zv-{len(stand_in.requests)}"}
                data = json.dumps(answer).encode()
                self.send_response(stand_in.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def zenvia() -> Iterator[Zenvia]:
    stand_in = Zenvia()
    try:
        yield stand_in
    finally:
        stand_in.stop()


def sms_config(zenvia: Zenvia) -> dict[str, Any]:
    return {
        "AGNOZYS_NOTIFIERS": "sms",
        "AGNOZYS_ZENVIA_TOKEN": "token-de-teste",
        "AGNOZYS_ZENVIA_FROM": "aurora",
        "AGNOZYS_ZENVIA_BASE_URL": zenvia.url,
    }


def test_sms_posts_to_zenvia_with_country_code(
    make_app: Callable[..., Flask], zenvia: Zenvia
) -> None:
    app = make_app(**sms_config(zenvia))
    sms = Message(
        channel="sms",
        to="(11) 98765-4321",
        subject="",
        text="Sua cobrança vence hoje",
        idempotency_key="reminder-7",
    )
    with app.app_context():
        results = plugins.hook().agnozys_send_message(message=sms)

    assert [(r.notifier, r.provider_id) for r in results] == [("sms", "zv-1")]
    (request,) = zenvia.requests
    assert request["path"] == "/v2/channels/sms/messages"
    assert request["token"] == "token-de-teste"
    assert request["json"] == {
        "from": "aurora",
        "to": "5511987654321",
        "contents": [{"type": "text", "text": "Sua cobrança vence hoje"}],
        "externalId": "reminder-7",
    }


def test_sms_refusal_raises_with_the_providers_reason(
    make_app: Callable[..., Flask], zenvia: Zenvia
) -> None:
    zenvia.status = 400
    app = make_app(**sms_config(zenvia))
    sms = Message(channel="sms", to="11987654321", subject="", text="oi")
    with app.app_context(), pytest.raises(Exception, match="Zenvia respondeu 400"):
        plugins.hook().agnozys_send_message(message=sms)


def test_sms_configuration_problems_stop_start_up(
    make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AGNOZYS_ZENVIA_TOKEN", raising=False)
    with pytest.raises(PluginError, match="defina AGNOZYS_ZENVIA_TOKEN"):
        make_app(AGNOZYS_NOTIFIERS="sms", AGNOZYS_ZENVIA_FROM="aurora")


# --- the ladder through real notifiers ---------------------------------------


def test_ladder_delivers_over_smtp_and_sms(
    make_app: Callable[..., Flask],
    plain_smtp_server: tuple[Inbox, int],
    zenvia: Zenvia,
    org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
) -> None:
    inbox, port = plain_smtp_server
    customer = make_customer(
        org, name="João Pagador", email="joao@example.com", phone="11912345678"
    )
    invoice = make_invoice(org, customer, amount=25_000, due_in=0, description="Plano")
    config = {
        **smtp_config(port, AGNOZYS_SMTP_SECURITY="none"),
        **sms_config(zenvia),
        "AGNOZYS_NOTIFIERS": "smtp,sms",
    }
    app = make_app(**config)
    with app.app_context():
        ladder.run_ladder()
        db.session.remove()

    (email,) = inbox.messages
    assert email["Subject"] == "Sua cobrança vence hoje"
    assert inbox.envelopes[0].rcpt_tos == ["joao@example.com"]
    (request,) = zenvia.requests
    assert request["json"]["to"] == "5511912345678"
    assert "R$ 250,00" in request["json"]["contents"][0]["text"]
    with tenancy.unscoped():
        sent = db.session.execute(
            select(Event).where(
                Event.invoice_id == invoice.id, Event.type == "reminder.sent"
            )
        ).scalars()
        assert sorted(e.data["notifier"] for e in sent) == ["sms", "smtp"]


# --- outbox ------------------------------------------------------------------


def test_outbox_records_a_message_once_per_idempotency_key(
    app: Flask, org: Organization
) -> None:
    message = Message(
        channel="email",
        to="maria@example.com",
        subject="Oi",
        text="Olá",
        organization_id=org.id,
        idempotency_key="link-resent-1",
    )
    first = plugins.hook().agnozys_send_message(message=message)
    again = plugins.hook().agnozys_send_message(message=message)
    plugins.hook().agnozys_send_message(
        message=Message(
            channel="sms",
            to="11987654321",
            subject="",
            text="x",
            organization_id=org.id,
        )
    )

    assert first == again
    with tenancy.unscoped():
        rows = db.session.execute(select(OutboxMessage)).scalars().all()
    assert len(rows) == 2
    assert {r.organization_id for r in rows} == {org.id}


def test_outbox_finds_the_organization_from_the_invoice(
    app: Flask,
    org: Organization,
    make_customer: Callable[..., Customer],
    make_invoice: Callable[..., Invoice],
) -> None:
    invoice = make_invoice(org, make_customer(org))
    plugins.hook().agnozys_send_message(
        message=Message(
            channel="email",
            to="a@example.com",
            subject="Link",
            text="Pague",
            invoice_id=invoice.public_id,
        )
    )

    with tenancy.scope(org.id):
        (row,) = db.session.execute(select(OutboxMessage)).scalars().all()
    assert row.invoice_public_id == invoice.public_id
