"""Built-in notifier plugin `outbox`: Caixa de saída (banco de dados).

Messages on every channel are kept in the database instead of being
delivered, and staff read them on Caixa de saída. A demo without any
mail server still shows the ladder working. A message carrying an
idempotency key is recorded once, however often it is sent.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from agnozys import hookimpl
from agnozys.extensions import db
from agnozys.hookspecs import Message, PluginInfo, SendResult
from agnozys.models import Invoice, OutboxMessage, utcnow

NAME = "outbox"


@hookimpl
def agnozys_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        family="notifier",
        title="Caixa de saída (banco de dados)",
        description="Guarda as mensagens no banco e as mostra em Caixa de saída.",
        channels=("email", "sms", "whatsapp"),
    )


def _organization_id(message: Message) -> int:
    if message.organization_id is not None:
        return message.organization_id
    if message.invoice_id:
        found = db.session.execute(
            select(Invoice.organization_id).where(
                Invoice.public_id == message.invoice_id
            )
        ).scalar_one_or_none()
        if found is not None:
            return int(found)
    raise ValueError("outbox: a mensagem não diz de qual organização é")


@hookimpl
def agnozys_send_message(message: Message) -> SendResult:
    row: dict[str, Any] = {
        "organization_id": _organization_id(message),
        "channel": message.channel,
        "to": message.to[:254],
        "subject": message.subject[:300],
        "text": message.text,
        "html": message.html,
        "invoice_public_id": message.invoice_id,
        "idempotency_key": message.idempotency_key,
    }
    # Recorded in a transaction of its own, so the caller's rollback or
    # crash cannot lose a message that was reported as sent.
    table = OutboxMessage.__table__
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    row["created_at"] = utcnow()
    with db.engine.begin() as connection:
        new_id = connection.execute(
            dialect.insert(table)
            .values(**row)
            .on_conflict_do_nothing()
            .returning(table.c.id)
        ).scalar_one_or_none()
        if new_id is None:
            new_id = connection.execute(
                select(table.c.id).where(
                    table.c.idempotency_key == message.idempotency_key
                )
            ).scalar_one()
    return SendResult(notifier=NAME, provider_id=f"outbox-{new_id}")
