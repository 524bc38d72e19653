"""Schema for reminder ladder (issue 5).

Ladder steps, the reminders they send (the exactly-once claim), the
outbox notifier's messages and the customer-level pause.

Revision ID: 0004_ladder
Revises: 0003_payments
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_ladder"
down_revision = "0003_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ladder_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("send_email", sa.Boolean(), nullable=False),
        sa.Column("send_sms", sa.Boolean(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "offset_days BETWEEN -60 AND 120",
            name=op.f("ck_ladder_steps_offset_in_range"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_ladder_steps_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ladder_steps")),
        sa.UniqueConstraint(
            "organization_id",
            "offset_days",
            name=op.f("uq_ladder_steps_organization_id_offset_days"),
        ),
    )
    with op.batch_alter_table("ladder_steps") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ladder_steps_organization_id"), ["organization_id"]
        )

    op.create_table(
        "reminder_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.Integer(), nullable=True),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("for_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "failed",
                "skipped",
                name="reminderstatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recipient", sa.String(length=254), nullable=True),
        sa.Column("notifier", sa.String(length=120), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_reminder_sends_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["step_id"],
            ["ladder_steps.id"],
            name=op.f("fk_reminder_sends_step_id_ladder_steps"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_reminder_sends_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_sends")),
        sa.UniqueConstraint(
            "invoice_id",
            "offset_days",
            "channel",
            "due_date",
            name=op.f("uq_reminder_sends_invoice_id_offset_days_channel_due_date"),
        ),
    )
    with op.batch_alter_table("reminder_sends") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminder_sends_organization_id"), ["organization_id"]
        )
        batch_op.create_index(
            "ix_reminder_sends_status_next", ["status", "next_attempt_at", "id"]
        )

    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("to", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("invoice_public_id", sa.String(length=24), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_outbox_messages_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint(
            "idempotency_key", name=op.f("uq_outbox_messages_idempotency_key")
        ),
    )
    with op.batch_alter_table("outbox_messages") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_messages_organization_id"), ["organization_id"]
        )
        batch_op.create_index("ix_outbox_messages_org_id", ["organization_id", "id"])

    with op.batch_alter_table("customers") as batch_op:
        batch_op.add_column(
            sa.Column(
                "reminders_paused",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )

    # Organizations that existed before the ladder get the default steps.
    _add_default_steps()


def _add_default_steps() -> None:
    from agnozys.models.ladder import DEFAULT_STEPS

    bind = op.get_bind()
    org_ids = [row[0] for row in bind.execute(sa.text("SELECT id FROM organizations"))]
    if not org_ids:
        return
    steps = sa.table(
        "ladder_steps",
        sa.column("organization_id", sa.Integer),
        sa.column("offset_days", sa.Integer),
        sa.column("send_email", sa.Boolean),
        sa.column("send_sms", sa.Boolean),
        sa.column("subject", sa.String),
        sa.column("body", sa.Text),
        sa.column("active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    op.bulk_insert(
        steps,
        [
            {
                "organization_id": org_id,
                "send_email": True,
                "send_sms": True,
                "active": True,
                "created_at": now,
                "updated_at": now,
                **step,
            }
            for org_id in org_ids
            for step in DEFAULT_STEPS
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch_op:
        batch_op.drop_column("reminders_paused")
    op.drop_table("outbox_messages")
    op.drop_table("reminder_sends")
    op.drop_table("ladder_steps")
