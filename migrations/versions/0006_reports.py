"""Schema for reports (issue 7).

Revision ID: 0006_reports
Revises: 0005_subscriptions
"""

revision = "0006_reports"
down_revision = "0005_subscriptions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
