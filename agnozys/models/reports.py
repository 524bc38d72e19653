"""Indexes the reports need on tables other areas own.

Declared here, beside nothing else, so the reports area keeps its schema
needs in one place; ``migrations/versions/0006_reports.py`` creates them.
"""

from __future__ import annotations

from sqlalchemy import Index

from .billing import Invoice

# The Painel: invoices paid in a month or a week ("recovered").
ix_invoices_org_paid_at = Index(
    "ix_invoices_org_paid_at", Invoice.organization_id, Invoice.paid_at
)
