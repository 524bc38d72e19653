"""Built-in notifier plugin `smtp`: E-mail (SMTP).

Delivers e-mail through any SMTP server with :mod:`smtplib`. Settings
(environment or app configuration):

- ``AGNOZYS_SMTP_HOST`` (required) and ``AGNOZYS_SMTP_PORT`` (default 587
  with STARTTLS, 465 with TLS, 25 without);
- ``AGNOZYS_SMTP_SECURITY``: ``starttls`` (default), ``tls`` or ``none``;
- ``AGNOZYS_SMTP_USERNAME`` and ``AGNOZYS_SMTP_PASSWORD`` (optional);
- ``AGNOZYS_SMTP_SENDER`` (required), such as
  ``Cobrança <cobranca@empresa.com.br>``;
- ``AGNOZYS_SMTP_TIMEOUT`` in seconds (default 20);
- ``AGNOZYS_SMTP_CA_FILE``: a CA bundle to trust instead of the system's
  (a private mail relay).

Each message goes out with a text part and, when given, an HTML part.
The idempotency key becomes the Message-ID, so a message sent twice
after a crash can be recognised by the receiving side.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from flask import current_app

from agnozys import hookimpl
from agnozys.hookspecs import Message, PluginInfo, SendResult

NAME = "smtp"
SECURITY = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        family="notifier",
        title="E-mail (SMTP)",
        description="Envia e-mails por um servidor SMTP.",
        channels=("email",),
    )


def settings(config: Any) -> dict[str, Any]:
    """Read the SMTP settings from the configuration mapping."""
    security = str(config.get("AGNOZYS_SMTP_SECURITY") or "starttls").lower()
    port = config.get("AGNOZYS_SMTP_PORT") or DEFAULT_PORTS.get(security, 587)
    return {
        "host": config.get("AGNOZYS_SMTP_HOST"),
        "port": port,
        "security": security,
        "username": config.get("AGNOZYS_SMTP_USERNAME"),
        "password": config.get("AGNOZYS_SMTP_PASSWORD"),
        "sender": config.get("AGNOZYS_SMTP_SENDER"),
        "timeout": float(config.get("AGNOZYS_SMTP_TIMEOUT") or 20),
        "ca_file": config.get("AGNOZYS_SMTP_CA_FILE") or None,
    }


@hookimpl
def agnozys_check_config(config: dict[str, Any]) -> list[str]:
    values = settings(config)
    problems = []
    if not values["host"]:
        problems.append("defina AGNOZYS_SMTP_HOST (o servidor SMTP)")
    if not values["sender"] or "@" not in parseaddr(str(values["sender"]))[1]:
        problems.append(
            "defina AGNOZYS_SMTP_SENDER com um remetente válido, "
            "como Cobrança <cobranca@empresa.com.br>"
        )
    if values["security"] not in SECURITY:
        problems.append("AGNOZYS_SMTP_SECURITY deve ser starttls, tls ou none")
    try:
        port = int(values["port"])
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        problems.append("AGNOZYS_SMTP_PORT deve ser um número de porta (1 a 65535)")
    if values["password"] and not values["username"]:
        problems.append("AGNOZYS_SMTP_PASSWORD sem AGNOZYS_SMTP_USERNAME")
    return problems


def build(message: Message, sender: str) -> EmailMessage:
    """Turn a :class:`Message` into a MIME e-mail with text and HTML parts."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].partition("@")[2] or "agnozys.local"
    if message.idempotency_key:
        digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:32]
        email["Message-ID"] = f"<{digest}@{domain}>"
    else:
        from email.utils import make_msgid

        email["Message-ID"] = make_msgid(domain=domain)
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


@hookimpl
def agnozys_send_message(message: Message) -> SendResult | None:
    if message.channel != "email":
        return None
    values = settings(current_app.config)
    email = build(message, str(values["sender"]))
    host, port, timeout = str(values["host"]), int(values["port"]), values["timeout"]
    context = ssl.create_default_context(cafile=values["ca_file"])
    client: smtplib.SMTP
    if values["security"] == "tls":
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if values["security"] == "starttls":
            client.starttls(context=context)
        if values["username"]:
            client.login(str(values["username"]), str(values["password"] or ""))
        client.send_message(email)
    return SendResult(notifier=NAME, provider_id=str(email["Message-ID"]))
