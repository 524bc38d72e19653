"""Schema for reminder ladder (issue 5).

Revision ID: 0004_ladder
Revises: 0003_payments
"""

revision = "0004_ladder"
down_revision = "0003_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
