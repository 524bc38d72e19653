"""Indexes the reports need on tables other areas own.

Declared here, beside nothing else, so the reports area keeps its schema
needs in one place; ``migrations/versions/0006_reports.py`` creates them.
"""

from __future__ import annotations

from sqlalchemy import Index

from .billing import Invoice, InvoiceStatus

# The Painel: invoices paid in a month or a week ("recovered").
ix_invoices_org_paid_at = Index(
    "ix_invoices_org_paid_at", Invoice.organization_id, Invoice.paid_at
)

# Pareto, aging and the Painel's overdue total read only unpaid invoices
# past a date: a partial index holding every column the amount due needs
# lets PostgreSQL answer from the index alone (an index-only scan).
ix_invoices_open_due = Index(
    "ix_invoices_open_due",
    Invoice.organization_id,
    Invoice.due_date,
    postgresql_include=[
        "customer_id",
        "amount",
        "fine_bp",
        "interest_bp",
        "frozen_fine",
        "frozen_interest",
        "fine_settled",
    ],
    postgresql_where=Invoice.status == InvoiceStatus.PENDING,
    sqlite_where=Invoice.status == InvoiceStatus.PENDING,
)
