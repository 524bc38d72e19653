"""Schema for subscriptions (issue 6).

Revision ID: 0005_subscriptions
Revises: 0004_ladder
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_subscriptions"
down_revision = "0004_ladder"
branch_labels = None
depends_on = None


def _tenant(table: str) -> list:
    return [
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=f"fk_{table}_organization_id_organizations",
        ),
    ]


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(
            sa.Column(
                "suspension_candidate_days",
                sa.Integer(),
                nullable=False,
                server_default="30",
            )
        )
        batch.add_column(
            sa.Column(
                "auto_reactivate",
                sa.Boolean(),
                nullable=False,
                server_default=sa.true(),
            )
        )
        batch.add_column(sa.Column("auto_suspend_days", sa.Integer(), nullable=True))

    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("interval", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        *_tenant("plans"),
        sa.CheckConstraint("amount > 0", name="ck_plans_amount_positive"),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
        sa.UniqueConstraint("public_id", name="uq_plans_public_id"),
    )
    op.create_index("ix_plans_organization_id", "plans", ["organization_id"])

    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("next_billing_date", sa.Date(), nullable=False),
        sa.Column("periods_issued", sa.Integer(), nullable=False),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        *_tenant("subscriptions"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_subscriptions_customer_id_customers",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name="fk_subscriptions_plan_id_plans"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.UniqueConstraint("public_id", name="uq_subscriptions_public_id"),
    )
    op.create_index(
        "ix_subscriptions_organization_id", "subscriptions", ["organization_id"]
    )
    op.create_index("ix_subscriptions_customer_id", "subscriptions", ["customer_id"])
    op.create_index("ix_subscriptions_plan_id", "subscriptions", ["plan_id"])
    op.create_index(
        "ix_subscriptions_org_status_next",
        "subscriptions",
        ["organization_id", "status", "next_billing_date"],
    )

    op.create_table(
        "subscription_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("subscription_periods"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_subscription_periods_subscription_id_subscriptions",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name="fk_subscription_periods_invoice_id_invoices",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_periods"),
        sa.UniqueConstraint(
            "subscription_id",
            "period_start",
            name="uq_subscription_periods_subscription_id_period_start",
        ),
    )
    op.create_index(
        "ix_subscription_periods_organization_id",
        "subscription_periods",
        ["organization_id"],
    )

    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *_tenant("contacts"),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_contacts_customer_id_customers"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
    )
    op.create_index("ix_contacts_organization_id", "contacts", ["organization_id"])
    op.create_index("ix_contacts_customer_day", "contacts", ["customer_id", "day"])

    op.create_table(
        "access_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        *_tenant("access_deliveries"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name="fk_access_deliveries_subscription_id_subscriptions",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_access_deliveries_customer_id_customers",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_access_deliveries"),
        sa.UniqueConstraint("public_id", name="uq_access_deliveries_public_id"),
    )
    op.create_index(
        "ix_access_deliveries_organization_id", "access_deliveries", ["organization_id"]
    )
    op.create_index(
        "ix_access_deliveries_subscription_id", "access_deliveries", ["subscription_id"]
    )

    op.create_table(
        "access_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        *_tenant("access_attempts"),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["access_deliveries.id"],
            name="fk_access_attempts_delivery_id_access_deliveries",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_access_attempts"),
    )
    op.create_index(
        "ix_access_attempts_organization_id", "access_attempts", ["organization_id"]
    )
    op.create_index("ix_access_attempts_delivery_id", "access_attempts", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("access_attempts")
    op.drop_table("access_deliveries")
    op.drop_table("contacts")
    op.drop_table("subscription_periods")
    op.drop_table("subscriptions")
    op.drop_table("plans")
    with op.batch_alter_table("organizations") as batch:
        batch.drop_column("auto_suspend_days")
        batch.drop_column("auto_reactivate")
        batch.drop_column("suspension_candidate_days")
