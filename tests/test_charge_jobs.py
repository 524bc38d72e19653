"""Gateway calls run in jobs after commit and are retried, never lost."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from agnozys import hookimpl, jobs, tenancy
from agnozys.extensions import db
from agnozys.models import PendingJob
from agnozys.services.charges import RETRY_DELAYS


class FlakyGateway:
    """Fails the first ``failures`` calls, then lets the real gateway answer."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    @hookimpl
    def agnozys_gateway_create_charge(self, request: Any) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("PSP fora do ar")


def pending() -> list[PendingJob]:
    return list(db.session.execute(select(PendingJob)).scalars())


def test_failed_charge_is_retried_later_then_made(
    app: Any, org: Any, make_customer: Any, make_invoice: Any
) -> None:
    flaky = FlakyGateway(failures=1)
    app.extensions["agnozys_plugins"].register(flaky, name="flaky")
    invoice = make_invoice(org, make_customer(org))
    db.session.refresh(invoice)
    assert invoice.gateway_charge_id is None

    [retry] = pending()
    assert retry.name == "charge.create"
    assert retry.kwargs == {"invoice_id": invoice.id, "attempt": 1}
    assert retry.not_before is not None

    with tenancy.unscoped():
        jobs.execute(retry.name, dict(retry.kwargs))
    db.session.refresh(invoice)
    assert invoice.gateway_charge_id.startswith("sbx_")
    assert flaky.calls == 2


def test_retries_stop_after_the_last_delay(
    app: Any, org: Any, make_customer: Any, make_invoice: Any, caplog: Any
) -> None:
    app.extensions["agnozys_plugins"].register(FlakyGateway(99), name="flaky")
    invoice = make_invoice(org, make_customer(org))
    db.session.execute(PendingJob.__table__.delete())
    db.session.commit()
    last = len(RETRY_DELAYS)
    try:
        jobs.execute("charge.create", {"invoice_id": invoice.id, "attempt": last})
    except ConnectionError:
        pass
    assert pending() == []
    assert "gave up after" in caplog.text
