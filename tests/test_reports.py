"""Pareto, aging and the Painel's figures: SQL against hand-computed data."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from agnozys import clock, fees, tenancy
from agnozys.extensions import db
from agnozys.models import Event, Invoice, InvoiceStatus
from agnozys.services import recovery, reports
from agnozys.services.invoices import figures

# --- helpers --------------------------------------------------------------------


@pytest.fixture
def plain_overdue(make_invoice):
    """An overdue invoice without late charges, so amounts read as typed."""

    def build(customer, reais, days_late=10, **values):
        return make_invoice(
            customer.organization,
            customer,
            amount=reais * 100,
            due_in=-days_late,
            fine_bp=0,
            interest_bp=0,
            **values,
        )

    return build


def today(organization):
    return clock.today(organization.timezone)


def ranking(result):
    return [(row.name, row.share, row.cumulative_share, row.top) for row in result.rows]


# --- late charges in SQL ---------------------------------------------------------


def sql_amounts(org, on):
    statement = select(Invoice.id, reports.amount_due_today(on)).where(
        Invoice.organization_id == org.id
    )
    return dict(db.session.execute(statement).all())


def test_sql_amount_due_equals_figures_for_random_invoices(
    org, make_customer, make_invoice
):
    rng = random.Random(20261203)
    customer = make_customer(org)
    invoices = []
    for _ in range(160):
        invoices.append(
            make_invoice(
                org,
                customer,
                amount=rng.choice([1, 99, 100_000, rng.randint(1, 5_000_000)]),
                due_in=rng.randint(-400, 20),
                fine_bp=rng.choice([0, 200, 199, rng.randint(0, 1000)]),
                interest_bp=rng.choice([0, 100, 33, rng.randint(0, 1000)]),
                frozen_fine=rng.choice([0, 0, rng.randint(0, 50_000)]),
                frozen_interest=rng.choice([0, 0, rng.randint(0, 50_000)]),
                fine_settled=rng.random() < 0.3,
            )
        )
    # Days right after weekends and national holidays, when due dates that
    # fell on them are still in grace, and ordinary days.
    days = [
        date(2025, 11, 24),  # Monday after a weekend
        date(2025, 11, 21),  # Friday after Consciência Negra (Thursday)
        date(2026, 1, 2),  # after New Year's Day
        date(2026, 2, 18),  # Ash Wednesday, after Carnival
        date(2026, 4, 6),  # Monday after Good Friday
        today(org),
    ]
    days += [today(org) + timedelta(days=rng.randint(-60, 60)) for _ in range(6)]
    for on in days:
        sql = sql_amounts(org, on)
        for invoice in invoices:
            expected = figures(invoice, on).amount_due
            assert sql[invoice.id] == expected, (on, invoice.due_date)


def test_weekend_due_date_costs_nothing_on_the_next_business_day(
    org, make_customer, make_invoice
):
    monday = date(2025, 11, 24)
    customer = make_customer(org)
    invoice = make_invoice(org, customer, amount=100_000, due_in=0)
    invoice.due_date = monday - timedelta(days=2)  # Saturday
    db.session.commit()

    assert sql_amounts(org, monday)[invoice.id] == 100_000
    # A day later the grace is over: fine plus three days of interest.
    assert sql_amounts(org, monday + timedelta(days=1))[invoice.id] == 102_100


def test_grace_dates_cover_the_non_business_run_before_today():
    assert reports.grace_dates(date(2025, 11, 25)) == []  # Tuesday
    assert reports.grace_dates(date(2025, 11, 24)) == [
        date(2025, 11, 23),
        date(2025, 11, 22),
    ]
    # Good Friday, then the weekend: three days of grace on Monday.
    assert reports.grace_dates(date(2026, 4, 6)) == [
        date(2026, 4, 5),
        date(2026, 4, 4),
        date(2026, 4, 3),
    ]
    for day in reports.grace_dates(date(2026, 4, 6)):
        assert fees.days_late(day, date(2026, 4, 6)) == 0


# --- Pareto ----------------------------------------------------------------------


def test_pareto_counts_late_charges_of_paying_today(org, overdue_invoice):
    result = reports.pareto(org)

    assert result.total_overdue == 103_333
    assert [(r.name, r.overdue_amount) for r in result.rows] == [
        ("Maria Devedora", 103_333)
    ]
    assert result.rows[0].oldest_due_date == today(org) - timedelta(days=40)


def test_pareto_tie_at_the_line_marks_only_the_first_customer(
    org, make_customer, plain_overdue
):
    names = ["Alfa", "Bravo", "Charlie"]
    customers = {name: make_customer(org, name=name) for name in names}
    # Charlie's debt is made first: the tie goes by customer, not invoice.
    plain_overdue(customers["Charlie"], 15)
    plain_overdue(customers["Alfa"], 70)
    plain_overdue(customers["Bravo"], 15)

    result = reports.pareto(org)

    assert ranking(result) == [
        ("Alfa", "0.7000", "0.7000", True),
        ("Bravo", "0.1500", "0.8500", True),
        ("Charlie", "0.1500", "1.0000", False),
    ]
    assert (result.top_count, result.top_share) == (2, "0.8500")


def test_pareto_one_customer_alone_above_80_percent(org, make_customer, plain_overdue):
    big = make_customer(org, name="Grande")
    plain_overdue(big, 600)
    plain_overdue(big, 300, days_late=50)
    for name in ("Pequeno 1", "Pequeno 2"):
        plain_overdue(make_customer(org, name=name), 50)

    result = reports.pareto(org)

    assert ranking(result) == [
        ("Grande", "0.9000", "0.9000", True),
        ("Pequeno 1", "0.0500", "0.9500", False),
        ("Pequeno 2", "0.0500", "1.0000", False),
    ]
    assert result.rows[0].invoice_count == 2
    assert (result.total_overdue, result.top_count, result.top_share) == (
        100_000,
        1,
        "0.9000",
    )


@pytest.mark.parametrize(
    ("count", "top_count", "top_share"),
    [(5, 4, "0.8000"), (3, 3, "1.0000"), (1, 1, "1.0000"), (10, 8, "0.8000")],
)
def test_pareto_everyone_equal(
    org, make_customer, plain_overdue, count, top_count, top_share
):
    customers = [make_customer(org, name=f"Igual {n:02d}") for n in range(count)]
    for customer in customers:
        plain_overdue(customer, 100)

    result = reports.pareto(org)

    # Equal amounts rank in the order the customers were registered.
    assert [row.name for row in result.rows] == [c.name for c in customers]
    assert (result.top_count, result.top_share) == (top_count, top_share)
    assert [row.top for row in result.rows] == [n < top_count for n in range(count)]


def test_pareto_with_three_equal_rounds_shares_half_up(
    org, make_customer, plain_overdue
):
    for n in range(3):
        plain_overdue(make_customer(org, name=f"Terço {n}"), 100)

    result = reports.pareto(org)

    assert [(r.share, r.cumulative_share) for r in result.rows] == [
        ("0.3333", "0.3333"),
        ("0.3333", "0.6667"),
        ("0.3333", "1.0000"),
    ]


def test_pareto_with_nothing_overdue(org, make_customer, make_invoice):
    make_invoice(org, make_customer(org), due_in=5)
    make_invoice(org, make_customer(org), due_in=0)  # due today: not yet late

    result = reports.pareto(org)

    assert (result.total_overdue, result.top_count, result.rows) == (0, 0, [])
    assert result.top_share == "0.0000"


def test_pareto_leaves_out_paid_canceled_and_future_invoices(
    org, other_org, make_customer, make_invoice, plain_overdue
):
    paid = make_customer(org, name="Só pagas")
    make_invoice(
        org,
        paid,
        due_in=-20,
        status=InvoiceStatus.PAID,
        paid_at=datetime.now(UTC),
        paid_amount=100_000,
    )
    canceled = make_customer(org, name="Só canceladas")
    make_invoice(org, canceled, due_in=-20, status=InvoiceStatus.CANCELED)
    plain_overdue(make_customer(org, name="Devedor"), 10)
    make_invoice(org, make_customer(org, name="Em dia"), due_in=3)
    plain_overdue(make_customer(other_org, name="De outra organização"), 999)

    result = reports.pareto(org)

    assert [row.name for row in result.rows] == ["Devedor"]
    assert result.total_overdue == 1_000


def test_pareto_page_keeps_the_totals_of_everyone(org, make_customer, plain_overdue):
    for n, reais in enumerate([50, 40, 30, 20, 10]):
        plain_overdue(make_customer(org, name=f"C{n}"), reais)

    page = reports.pareto(org, limit=2, offset=2)
    past_end = reports.pareto(org, limit=2, offset=10)
    top = reports.pareto(org, only_top=True)

    assert [(r.rank, r.name) for r in page.rows] == [(3, "C2"), (4, "C3")]
    assert (page.total_overdue, page.customer_count, page.top_count) == (
        15_000,
        5,
        3,
    )
    assert (past_end.rows, past_end.total_overdue, past_end.top_count) == (
        [],
        15_000,
        3,
    )
    assert [r.name for r in top.rows] == ["C0", "C1", "C2"]


def test_share_strings():
    assert reports.share(0, 0) == "0.0000"
    assert reports.share(1, 3) == "0.3333"
    assert reports.share(2, 3) == "0.6667"
    assert reports.share(1, 20000) == "0.0001"  # half-up
    assert reports.share(7, 7) == "1.0000"


# --- aging -----------------------------------------------------------------------


def test_aging_bucket_boundaries(org, make_customer, plain_overdue, make_invoice):
    customer = make_customer(org)
    for days, reais in [
        (1, 1),
        (30, 2),
        (31, 4),
        (60, 8),
        (61, 16),
        (90, 32),
        (91, 64),
        (400, 128),
    ]:
        plain_overdue(customer, reais, days_late=days)
    make_invoice(org, customer, due_in=0)  # due today: not overdue

    buckets = reports.aging(org)

    assert [(b.label, b.count, b.amount) for b in buckets] == [
        ("1-30", 2, 300),
        ("31-60", 2, 1_200),
        ("61-90", 2, 4_800),
        ("91+", 2, 19_200),
    ]


def test_aging_amount_is_the_amount_due_today(org, overdue_invoice):
    buckets = reports.aging(org)

    assert [(b.count, b.amount) for b in buckets] == [
        (0, 0),
        (1, 103_333),
        (0, 0),
        (0, 0),
    ]
    assert sum(b.amount for b in buckets) == reports.pareto(org).total_overdue


def test_aging_with_nothing_overdue_has_four_empty_buckets(org):
    assert [(b.label, b.count, b.amount) for b in reports.aging(org)] == [
        ("1-30", 0, 0),
        ("31-60", 0, 0),
        ("61-90", 0, 0),
        ("91+", 0, 0),
    ]


def test_aging_due_range_matches_the_bucket():
    on = date(2026, 12, 3)
    bucket = reports.AgingBucket("31-60", 31, 60, 0, 0)
    assert reports.aging_due_range(bucket, on) == (
        date(2026, 10, 4),
        date(2026, 11, 2),
    )
    open_ended = reports.AgingBucket("91+", 91, None, 0, 0)
    assert reports.aging_due_range(open_ended, on) == (None, date(2026, 9, 3))


# --- API -------------------------------------------------------------------------


def test_api_pareto_shape(api, org, make_customer, plain_overdue, overdue_invoice):
    plain_overdue(make_customer(org, name="Outro"), 100)

    response = api.get("/reports/pareto")

    assert response.status_code == 200
    assert response.json == {
        "total_overdue": "1133.33",
        "top_count": 1,
        "top_share": "0.9118",
        "customers": [
            {
                "customer_id": overdue_invoice.customer.public_id,
                "name": "Maria Devedora",
                "overdue_amount": "1033.33",
                "share": "0.9118",
                "cumulative_share": "0.9118",
                "top": True,
            },
            {
                "customer_id": response.json["customers"][1]["customer_id"],
                "name": "Outro",
                "overdue_amount": "100.00",
                "share": "0.0882",
                "cumulative_share": "1.0000",
                "top": False,
            },
        ],
    }
    assert response.json["customers"][1]["customer_id"].startswith("cus_")


def test_api_pareto_names_survive_json_written_by_the_database(
    api, org, make_customer, plain_overdue
):
    # The database writes each customer's JSON object: quotes, backslashes,
    # accents and a tab must come back exactly as stored.
    tricky = 'João "Zé" d\'Ávila \\ Filho\tLtda ção'
    plain_overdue(make_customer(org, name=tricky), 500)
    plain_overdue(make_customer(org, name="Ana"), 100)

    customers = api.get("/reports/pareto").json["customers"]

    assert [(c["name"], c["overdue_amount"], c["top"]) for c in customers] == [
        (tricky, "500.00", True),
        ("Ana", "100.00", False),
    ]
    ranked = reports.pareto(org).rows
    assert [c["customer_id"] for c in customers] == [row.public_id for row in ranked]


def test_api_aging_shape(api, overdue_invoice):
    response = api.get("/reports/aging")

    assert response.status_code == 200
    assert response.json == {
        "buckets": [
            {"label": "1-30", "count": 0, "amount": "0.00"},
            {"label": "31-60", "count": 1, "amount": "1033.33"},
            {"label": "61-90", "count": 0, "amount": "0.00"},
            {"label": "91+", "count": 0, "amount": "0.00"},
        ]
    }


def test_api_reports_see_only_the_tokens_organization(other_api, overdue_invoice):
    pareto = other_api.get("/reports/pareto").json
    aging = other_api.get("/reports/aging").json

    assert pareto == {
        "total_overdue": "0.00",
        "top_count": 0,
        "top_share": "0.0000",
        "customers": [],
    }
    assert all(bucket["count"] == 0 for bucket in aging["buckets"])


@pytest.mark.parametrize("path", ["/reports/pareto", "/reports/aging"])
def test_api_reports_need_a_token(client, path):
    response = client.get("/api/v1" + path)

    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


# --- the Painel's recovery figures -----------------------------------------------


def add_event(invoice, type, at, subscription_id=None):
    event = Event(
        organization_id=invoice.organization_id,
        invoice_id=invoice.id if subscription_id is None else None,
        customer_id=invoice.customer_id,
        subscription_id=subscription_id,
        type=type,
        at=at,
        actor="test",
    )
    db.session.add(event)
    db.session.commit()
    return event


def pay(invoice, at, amount=None):
    with tenancy.scope(invoice.organization_id):
        invoice.status = InvoiceStatus.PAID
        invoice.paid_at = at
        invoice.paid_amount = amount or invoice.amount
        db.session.commit()


@pytest.fixture
def on_day():
    """A fixed Painel day: Wednesday 16 December 2026, 15:00 in São Paulo."""
    return date(2026, 12, 16), datetime(2026, 12, 16, 18, 0, tzinfo=UTC)


def test_recovered_and_levers(org, make_customer, make_invoice, on_day):
    day, now = on_day
    customer = make_customer(org)

    def late_invoice(amount):
        invoice = make_invoice(org, customer, amount=amount, due_in=0)
        invoice.due_date = invoice.original_due_date = day - timedelta(days=20)
        db.session.commit()
        return invoice

    reminded = late_invoice(10_000)
    add_event(reminded, "reminder.sent", now - timedelta(days=5))
    pay(reminded, now - timedelta(days=2), 10_300)

    rescheduled = late_invoice(20_000)
    add_event(rescheduled, "reminder.sent", now - timedelta(days=6))
    add_event(rescheduled, "invoice.rescheduled", now - timedelta(days=4))
    pay(rescheduled, now - timedelta(days=1))

    part = late_invoice(30_000)
    part.agreement_id = 77
    part.original_due_date = day  # a part due today, still a recovery
    db.session.commit()
    pay(part, now - timedelta(hours=3))

    suspended = late_invoice(40_000)
    suspended.subscription_id = 5
    db.session.commit()
    add_event(suspended, "subscription.suspended", now - timedelta(hours=8), 5)
    pay(suspended, now - timedelta(hours=6))

    # Not recoveries: paid on time, paid last month, reminder after payment.
    on_time = make_invoice(org, customer, amount=50_000, due_in=0)
    on_time.due_date = on_time.original_due_date = day + timedelta(days=1)
    db.session.commit()
    pay(on_time, now)
    last_month = late_invoice(60_000)
    pay(last_month, datetime(2026, 11, 30, 12, tzinfo=UTC))
    late_note = late_invoice(70_000)
    pay(late_note, now - timedelta(days=3))
    add_event(late_note, "reminder.sent", now - timedelta(days=1))

    result = recovery.overview(org, day)

    assert (result.recovered.count, result.recovered.amount) == (5, 170_300)
    assert result.levers == {
        "reminder": recovery.Figure(2, 30_300),
        "reschedule": recovery.Figure(1, 20_000),
        "agreement": recovery.Figure(1, 30_000),
        "suspension": recovery.Figure(1, 40_000),
    }
    assert result.suspension_median == timedelta(hours=2)
    assert result.suspension_samples == 1

    behind = recovery.figure_invoices(org, "reminder", day)
    assert {invoice.id for invoice, _ in behind} == {reminded.id, rescheduled.id}
    assert sum(amount for _, amount in behind) == 30_300


def test_suspension_median_of_several_payments(
    org, make_customer, make_invoice, on_day
):
    day, now = on_day
    customer = make_customer(org)
    for n, minutes in enumerate([10, 30, 600]):
        invoice = make_invoice(org, customer, amount=1_000, due_in=-40)
        invoice.subscription_id = 100 + n
        db.session.commit()
        suspended_at = now - timedelta(days=1)
        add_event(invoice, "subscription.suspended", suspended_at, 100 + n)
        pay(invoice, suspended_at + timedelta(minutes=minutes))

    result = recovery.overview(org, day)

    assert result.levers["suspension"].count == 3
    assert result.suspension_median == timedelta(minutes=30)


def test_overview_overdue_matches_pareto(org, overdue_invoice, make_customer):
    result = recovery.overview(org)

    assert (result.overdue.count, result.overdue.amount) == (1, 103_333)
    assert result.recovered == recovery.Figure(0, 0)
    assert result.suspension_median is None
    assert len(result.weeks) == 8
    assert result.weeks[-1].end == today(org)


def test_trend_rebuilds_past_weeks(org, make_customer, make_invoice, on_day):
    day, now = on_day
    customer = make_customer(org)
    invoice = make_invoice(org, customer, amount=10_000, due_in=0)
    invoice.due_date = invoice.original_due_date = date(2026, 11, 20)
    invoice.created_at = datetime(2026, 11, 1, tzinfo=UTC)
    db.session.commit()
    pay(invoice, datetime(2026, 12, 9, 15, tzinfo=UTC))

    weeks = recovery.trend(org, day, weeks=4)

    assert [(w.start, w.overdue, w.recovered) for w in weeks] == [
        (date(2026, 11, 23), 10_000, 0),
        (date(2026, 11, 30), 10_000, 0),
        (date(2026, 12, 7), 0, 10_000),
        (date(2026, 12, 14), 0, 0),
    ]


def test_trend_weeks_each_see_only_what_existed_and_was_late_then(
    org, make_customer, make_invoice, on_day
):
    day, _ = on_day
    customer = make_customer(org)
    # Created and due in the second week: overdue from that week's end on.
    newer = make_invoice(org, customer, amount=7_000, due_in=0)
    newer.due_date = newer.original_due_date = date(2026, 12, 2)
    newer.created_at = datetime(2026, 12, 1, 12, tzinfo=UTC)
    # Late since before the trend but canceled: never counted.
    canceled = make_invoice(org, customer, amount=5_000, due_in=0)
    canceled.due_date = canceled.original_due_date = date(2026, 11, 2)
    canceled.created_at = datetime(2026, 10, 1, tzinfo=UTC)
    canceled.status = InvoiceStatus.CANCELED
    db.session.commit()

    weeks = recovery.trend(org, day, weeks=4)

    assert [(w.start, w.end, w.overdue) for w in weeks] == [
        (date(2026, 11, 23), date(2026, 11, 29), 0),
        (date(2026, 11, 30), date(2026, 12, 6), 7_000),
        (date(2026, 12, 7), date(2026, 12, 13), 7_000),
        (date(2026, 12, 14), date(2026, 12, 16), 7_000),
    ]
