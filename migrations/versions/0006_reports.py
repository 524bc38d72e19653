"""Schema for reports (issue 7): indexes of the Pareto, aging and Painel queries.

Revision ID: 0006_reports
Revises: 0005_subscriptions
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reports"
down_revision = "0005_subscriptions"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoices_org_paid_at", ["organization_id", "paid_at"], unique=False
        )
        batch_op.create_index(
            "ix_invoices_open_due",
            ["organization_id", "due_date"],
            unique=False,
            postgresql_include=[
                "customer_id",
                "amount",
                "fine_bp",
                "interest_bp",
                "frozen_fine",
                "frozen_interest",
                "fine_settled",
            ],
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_open_due")
        batch_op.drop_index("ix_invoices_org_paid_at")
