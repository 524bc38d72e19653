"""Schema for plugins and payments (issue 4).

Revision ID: 0003_payments
Revises: 0002_negotiation
"""

revision = "0003_payments"
down_revision = "0002_negotiation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
