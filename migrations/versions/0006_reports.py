"""Schema for reports (issue 7): indexes of the Painel's queries.

Revision ID: 0006_reports
Revises: 0005_subscriptions
"""

from alembic import op

revision = "0006_reports"
down_revision = "0005_subscriptions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoices_org_paid_at", ["organization_id", "paid_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_org_paid_at")
