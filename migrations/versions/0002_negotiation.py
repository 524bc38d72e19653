"""Schema for negotiation (issue 3).

Revision ID: 0002_negotiation
Revises: 0001_foundation
"""

revision = "0002_negotiation"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
