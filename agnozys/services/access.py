"""Access deliveries: tell the access blocker to cut or restore access.

A suspension or reactivation adds an :class:`AccessDelivery` in its own
transaction and enqueues ``access.deliver`` after commit. The job sends
a subscription's pending deliveries oldest first, so the merchant never
gets an unblock before the block it undoes; each try is recorded as an
:class:`AccessAttempt`, and a failed one is retried with backoff until
the delays run out (then staff retry by hand).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from .. import jobs, plugins
from ..extensions import db
from ..hookspecs import AccessChange, AccessDeliveryFailed
from ..models import utcnow
from ..models.subscriptions import (
    AccessAttempt,
    AccessDelivery,
    DeliveryStatus,
    Subscription,
)
from . import Conflict, NotFound
from .timeline import record

log = logging.getLogger(__name__)

BLOCKED = "access.blocked"
UNBLOCKED = "access.unblocked"

#: Seconds to wait before each retry; the first within 30 seconds.
RETRY_DELAYS: tuple[float, ...] = (
    15,
    60,
    300,
    900,
    3600,
    3 * 3600,
    6 * 3600,
    12 * 3600,
)


def retry_delays() -> tuple[float, ...]:
    return tuple(current_app.config.get("AGNOZYS_ACCESS_RETRY_DELAYS", RETRY_DELAYS))


def create_delivery(subscription: Subscription, type: str) -> AccessDelivery:
    """Add a delivery to the current transaction; sent after commit."""
    delivery = AccessDelivery(
        organization_id=subscription.organization_id,
        subscription_id=subscription.id,
        customer_id=subscription.customer_id,
        type=type,
        status=DeliveryStatus.PENDING,
        attempts=0,
    )
    db.session.add(delivery)
    db.session.flush()
    jobs.enqueue_after_commit("access.deliver", delivery_id=delivery.id)
    return delivery


def change_for(delivery: AccessDelivery) -> AccessChange:
    """Describe a delivery to the blocker plugin."""
    customer = delivery.customer
    return AccessChange(
        delivery_id=delivery.public_id,
        type=delivery.type,
        organization_id=delivery.organization_id,
        customer_id=customer.public_id,
        customer_external_id=customer.external_id,
        subscription_id=delivery.subscription.public_id,
        at=delivery.created_at,
    )


@jobs.job("access.deliver")
def deliver(delivery_id: int, attempt: int | None = None) -> None:
    """Send the pending deliveries of ``delivery_id``'s subscription in order.

    ``attempt`` is set on scheduled retries: when the delivery was tried
    since (by hand or by a newer delivery), that newer path owns the
    next retry and this one stops.
    """
    first = db.session.get(AccessDelivery, delivery_id)
    if first is None:
        return
    if attempt is not None and (
        first.status != DeliveryStatus.PENDING or first.attempts != attempt
    ):
        return
    subscription_id = first.subscription_id
    db.session.rollback()

    while True:
        try:
            delivery = db.session.execute(
                select(AccessDelivery)
                .where(
                    AccessDelivery.subscription_id == subscription_id,
                    AccessDelivery.status == DeliveryStatus.PENDING,
                )
                .order_by(AccessDelivery.id)
                .limit(1)
                .with_for_update(nowait=True)
            ).scalar_one_or_none()
        except OperationalError:
            # Another worker is sending this subscription's deliveries and
            # will go on to the newer ones once it is done.
            db.session.rollback()
            log.debug("Subscription %s: deliveries busy elsewhere", subscription_id)
            return
        if delivery is None:
            db.session.rollback()
            return
        if not _attempt(delivery):
            return


def _attempt(delivery: AccessDelivery) -> bool:
    """Try one delivery, record the attempt and commit; True when confirmed."""
    change = change_for(delivery)
    relay = plugins.hook()
    call = (
        relay.agnozys_block_access
        if delivery.type == BLOCKED
        else relay.agnozys_unblock_access
    )
    status_code: int | None = None
    error: str | None = None
    started = time.monotonic()
    try:
        result: Any = call(change=change)
        status_code = getattr(result, "status_code", None)
        if not result:
            error = _("Nenhum bloqueador de acesso confirmou.")
    except AccessDeliveryFailed as exc:
        error = str(exc)
        status_code = exc.status_code
    except Exception as exc:
        log.warning("Delivery %s: blocker raised", delivery.public_id, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
    elapsed = int((time.monotonic() - started) * 1000)

    delivery.attempts += 1
    db.session.add(
        AccessAttempt(
            organization_id=delivery.organization_id,
            delivery_id=delivery.id,
            at=utcnow(),
            ok=error is None,
            status_code=status_code,
            error=error[:2000] if error else None,
            duration_ms=elapsed,
        )
    )
    if error is None:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = utcnow()
        delivery.next_attempt_at = None
        log.info("Delivery %s: %s confirmed", delivery.public_id, delivery.type)
        db.session.commit()
        return True

    delays = retry_delays()
    if delivery.attempts <= len(delays):
        wait = timedelta(seconds=delays[delivery.attempts - 1])
        delivery.next_attempt_at = utcnow() + wait
        jobs.enqueue_after_commit(
            "access.deliver",
            delay=wait,
            delivery_id=delivery.id,
            attempt=delivery.attempts,
        )
        log.info(
            "Delivery %s: attempt %s failed (%s), retry in %s",
            delivery.public_id,
            delivery.attempts,
            error,
            wait,
        )
    else:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        log.warning(
            "Delivery %s: gave up after %s attempts (%s)",
            delivery.public_id,
            delivery.attempts,
            error,
        )
    db.session.commit()
    return False


def get_delivery(public_id: str) -> AccessDelivery:
    delivery = db.session.execute(
        select(AccessDelivery).where(AccessDelivery.public_id == public_id)
    ).scalar_one_or_none()
    if delivery is None:
        raise NotFound(_("Envio não encontrado."))
    return delivery


def retry_delivery(public_id: str, *, actor: str) -> AccessDelivery:
    """Send a delivery again now, at staff's request; commits."""
    delivery = db.session.execute(
        select(AccessDelivery)
        .where(AccessDelivery.public_id == public_id)
        .with_for_update()
    ).scalar_one_or_none()
    if delivery is None:
        raise NotFound(_("Envio não encontrado."))
    if delivery.status == DeliveryStatus.DELIVERED:
        raise Conflict(_("Este envio já foi confirmado."), "already_delivered")
    newer = db.session.execute(
        select(AccessDelivery.id)
        .where(
            AccessDelivery.subscription_id == delivery.subscription_id,
            AccessDelivery.id > delivery.id,
        )
        .limit(1)
    ).first()
    if newer is not None:
        raise Conflict(
            _("Há um envio mais recente para esta assinatura; este não vale mais."),
            "superseded",
        )
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = None
    record(
        "access.retried",
        actor=actor,
        customer_id=delivery.customer_id,
        subscription_id=delivery.subscription_id,
        organization_id=delivery.organization_id,
        data={"delivery_id": delivery.public_id, "type": delivery.type},
    )
    jobs.enqueue_after_commit("access.deliver", delivery_id=delivery.id)
    db.session.commit()
    return delivery


def deliveries_of(subscription: Subscription) -> list[AccessDelivery]:
    """Return a subscription's deliveries, newest first."""
    return list(
        db.session.execute(
            select(AccessDelivery)
            .where(AccessDelivery.subscription_id == subscription.id)
            .order_by(AccessDelivery.id.desc())
        ).scalars()
    )
