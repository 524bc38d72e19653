"""The tables. Each area keeps its models in a module of its own here."""

from .base import PublicId, TenantOwned, public_id, utcnow
from .billing import DISPLAY_STATUSES, Customer, Event, Invoice, InvoiceStatus
from .core import ApiToken, Organization, Role, User
from .jobs import PendingJob
from .ladder import LadderStep, OutboxMessage, ReminderSend  # noqa: F401
from .negotiation import Agreement
from .payments import Payment, Proof  # noqa: F401
from .subscriptions import (  # noqa: F401
    AccessAttempt,
    AccessDelivery,
    Contact,
    Plan,
    Subscription,
    SubscriptionPeriod,
)

__all__ = [
    "Agreement",
    "DISPLAY_STATUSES",
    "ApiToken",
    "Customer",
    "Event",
    "Invoice",
    "InvoiceStatus",
    "Organization",
    "PendingJob",
    "PublicId",
    "Role",
    "TenantOwned",
    "User",
    "public_id",
    "utcnow",
]

# Indexes the reports area adds to other areas' tables.
from . import reports  # noqa: E402,F401
