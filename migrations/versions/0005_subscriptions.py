"""Schema for subscriptions (issue 6).

Revision ID: 0005_subscriptions
Revises: 0004_ladder
"""

revision = "0005_subscriptions"
down_revision = "0004_ladder"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
