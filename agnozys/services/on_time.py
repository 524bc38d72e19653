"""One statement that settles a payment arriving by its due date (PostgreSQL).

Most gateway payments arrive on or before the due date, for exactly the
amount of the invoice and its frozen charges: nothing to compute in
Python, nothing to flag. For those, :func:`settle` does in a single
autocommitted statement what :func:`~agnozys.services.payments.
record_payment` does in a transaction of five: mark the invoice paid,
insert the payment, its ``payment.received`` timeline event and its
``invoice.paid`` job. One statement is one transaction, so either all of
it happens or none does.

Anything else (a late payment, a wrong amount, a canceled or paid
invoice, an unknown charge, an event already recorded) matches nothing
here and goes the general way. The payment insert has no ``ON
CONFLICT``: a repeated event id aborts the statement, invoice update
included, and the general path then answers it as a duplicate.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import psycopg

from .. import clock, jobs
from ..extensions import db
from ..hookspecs import PaymentEvent
from ..models import public_id, utcnow
from ..models.payments import Payment, PaymentStatus
from . import timeline

log = logging.getLogger(__name__)

_SETTLE = """
WITH settled AS (
    UPDATE invoices AS i
    SET status = 'paid', fine_settled = true, paid_at = %(paid_at)s,
        paid_amount = %(amount)s, payment_method = %(method)s,
        version = i.version + 1, updated_at = %(now)s
    FROM organizations AS o
    WHERE o.id = i.organization_id
      AND i.gateway_charge_id = %(charge_id)s
      AND i.status = 'pending'
      AND (%(paid_at)s AT TIME ZONE coalesce(o.timezone, %(default_tz)s))::date
          <= i.due_date
      AND i.amount + i.frozen_fine + i.frozen_interest = %(amount)s
    RETURNING i.id, i.organization_id, i.public_id, i.customer_id,
              i.subscription_id
), payment AS (
    INSERT INTO payments (public_id, organization_id, gateway, event_id,
        charge_id, invoice_id, amount, expected_amount, method, paid_at,
        received_at, status, raw)
    SELECT %(payment_id)s, organization_id, %(gateway)s, %(event_id)s,
        %(charge_id)s, id, %(amount)s, %(amount)s, %(method)s, %(paid_at)s,
        %(now)s, 'confirmed', %(raw)s::json
    FROM settled
    RETURNING id
), event AS (
    INSERT INTO events (organization_id, invoice_id, customer_id,
        subscription_id, type, at, actor, data)
    SELECT organization_id, id, customer_id, subscription_id,
        'payment.received', %(now)s, %(actor)s, %(data)s::json
    FROM settled
), job AS (
    INSERT INTO pending_jobs (name, kwargs, created_at)
    SELECT 'invoice.paid', json_build_object('invoice_id', id), %(now)s
    FROM settled
    RETURNING id
)
SELECT s.id, s.public_id, (SELECT id FROM payment), (SELECT id FROM job)
FROM settled AS s
"""


def settle(event: PaymentEvent) -> Payment | None:
    """Settle an on-time, exact payment in one statement; None if it is not one.

    Only on PostgreSQL (elsewhere it always answers None). The caller goes
    the general way on None; the returned payment is confirmed and new.
    """
    if db.engine.dialect.name != "postgresql":
        return None
    now = utcnow()
    payment_public_id = public_id(Payment.PREFIX)
    params: dict[str, Any] = {
        "charge_id": event.charge_id,
        "amount": event.amount,
        "paid_at": event.paid_at,
        "method": event.gateway,
        "gateway": event.gateway,
        "event_id": event.event_id,
        "now": now,
        "default_tz": clock.DEFAULT_TIMEZONE,
        "payment_id": payment_public_id,
        "raw": json.dumps(event.raw),
        "actor": f"gateway:{event.gateway}",
        "data": json.dumps(
            timeline.paid_event_data(
                event.amount,
                event.paid_at,
                event.gateway,
                {"payment_id": payment_public_id, "event_id": event.event_id},
            )
        ),
    }
    raw = db.engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        conn: psycopg.Connection[Any] = driver
        conn.autocommit = True
        try:
            row = conn.execute(_SETTLE, params, prepare=True).fetchone()
        except psycopg.errors.UniqueViolation:
            # The event is known already: nothing was written.
            return None
        finally:
            conn.autocommit = False
    finally:
        raw.close()
    if row is None:
        return None

    invoice_id, invoice_public_id, payment_id, job_id = row
    jobs.hand_over([(job_id, "invoice.paid", {"invoice_id": invoice_id}, None)])
    log.info(
        "Invoice %s: paid %s by %s", invoice_public_id, event.amount, event.gateway
    )
    return Payment(
        id=payment_id,
        public_id=payment_public_id,
        gateway=event.gateway,
        event_id=event.event_id,
        charge_id=event.charge_id,
        invoice_id=invoice_id,
        amount=event.amount,
        expected_amount=event.amount,
        method=event.gateway,
        paid_at=event.paid_at,
        received_at=now,
        status=PaymentStatus.CONFIRMED,
        raw=event.raw,
    )
