"""Schema for plugins and payments (issue 4).

Revision ID: 0003_payments
Revises: 0002_negotiation
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_payments"
down_revision = "0002_negotiation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("charge_id", sa.String(length=120), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("expected_amount", sa.BigInteger(), nullable=True),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("flag_reason", sa.String(length=16), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=300), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_payments_organization_id_organizations"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_payments_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "gateway", "event_id", name=op.f("uq_payments_gateway_event_id")
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_payments_public_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payments_org_status", ["organization_id", "status", "id"]
        )
        batch_op.create_index("ix_payments_invoice", ["invoice_id"])
        batch_op.create_index(
            batch_op.f("ix_payments_organization_id"), ["organization_id"]
        )

    op.create_table(
        "proofs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=80), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by", sa.String(length=300), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=300), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sa.String(length=500), nullable=True),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_proofs_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_proofs_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proofs")),
        sa.UniqueConstraint("public_id", name=op.f("uq_proofs_public_id")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_proofs_stored_name")),
    )
    with op.batch_alter_table("proofs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_proofs_invoice_id"), ["invoice_id"])
        batch_op.create_index(
            batch_op.f("ix_proofs_organization_id"), ["organization_id"]
        )

    op.create_table(
        "pix_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=77), nullable=False),
        sa.Column("merchant_name", sa.String(length=25), nullable=False),
        sa.Column("merchant_city", sa.String(length=15), nullable=False),
        sa.Column("updated_by", sa.String(length=300), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_pix_settings_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pix_settings")),
        sa.UniqueConstraint(
            "organization_id", name=op.f("uq_pix_settings_organization_id")
        ),
    )
    with op.batch_alter_table("pix_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pix_settings_organization_id"), ["organization_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("pix_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pix_settings_organization_id"))
    op.drop_table("pix_settings")
    with op.batch_alter_table("proofs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proofs_organization_id"))
        batch_op.drop_index(batch_op.f("ix_proofs_invoice_id"))
    op.drop_table("proofs")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_organization_id"))
        batch_op.drop_index("ix_payments_invoice")
        batch_op.drop_index("ix_payments_org_status")
    op.drop_table("payments")
