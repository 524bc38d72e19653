"""Late charges, reschedules, waivers, business days and even splits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agnozys import fees
from agnozys.fees import Terms, Waive

# A Wednesday with no holiday near it, so "40 days ago" is a business day.
TODAY = date(2026, 3, 18)
DUE_40_AGO = TODAY - timedelta(days=40)


def example(**changes: object) -> Terms:
    """The DOMAIN.md invoice: R$ 1.000,00, 2% fine, 1% a month."""
    values: dict[str, object] = {
        "principal": 100_000,
        "fine_bp": 200,
        "interest_bp": 100,
        "due_date": DUE_40_AGO,
    }
    values.update(changes)
    return Terms(**values)  # type: ignore[arg-type]


# --- the DOMAIN.md examples ----------------------------------------------------


def test_overdue_40_days_owes_fine_20_and_interest_13_33() -> None:
    assert fees.is_business_day(DUE_40_AGO)
    charges = fees.charges_on(example(), TODAY)
    assert (charges.fine, charges.interest) == (2_000, 1_333)
    assert fees.amount_due(example(), TODAY) == 103_333


def test_paying_on_the_due_date_costs_nothing() -> None:
    terms = example(due_date=TODAY)
    assert fees.charges_on(terms, TODAY) == fees.Charges(0, 0)
    assert fees.amount_due(terms, TODAY - timedelta(days=3)) == 100_000


def test_one_day_late_charges_fine_and_one_day_of_interest() -> None:
    terms = example(due_date=TODAY - timedelta(days=1))
    charges = fees.charges_on(terms, TODAY)
    # 1000.00 × 1% × 1/30 = 0.333... -> 0.33
    assert (charges.fine, charges.interest) == (2_000, 33)


def test_reschedule_to_five_days_from_today_freezes_fine_and_45_days_interest() -> None:
    moved = fees.reschedule(example(), TODAY + timedelta(days=5), Waive.NONE)
    assert (moved.fine, moved.interest) == (2_000, 1_500)
    assert 100_000 + moved.fine + moved.interest == 103_500
    assert moved.fine_settled and moved.waived == 0


@pytest.mark.parametrize(
    ("waive", "total", "waived_fine", "waived_interest"),
    [
        (Waive.NONE, 103_500, 0, 0),
        (Waive.ALL, 100_000, 2_000, 1_500),
        (Waive.INTEREST, 102_000, 0, 1_500),
        (Waive.FINE, 101_500, 2_000, 0),
    ],
)
def test_reschedule_waivers(
    waive: Waive, total: int, waived_fine: int, waived_interest: int
) -> None:
    moved = fees.reschedule(example(), TODAY + timedelta(days=5), waive)
    assert 100_000 + moved.fine + moved.interest == total
    assert (moved.waived_fine, moved.waived_interest) == (waived_fine, waived_interest)


def frozen_after(moved: fees.Reschedule, terms: Terms) -> Terms:
    """The invoice's terms once a reschedule is saved."""
    return Terms(
        principal=terms.principal,
        fine_bp=terms.fine_bp,
        interest_bp=terms.interest_bp,
        due_date=moved.new_due_date,
        frozen_fine=moved.fine,
        frozen_interest=moved.interest,
        fine_settled=moved.fine_settled,
    )


def test_after_the_new_date_passes_interest_runs_again_and_fine_is_not_repeated() -> (
    None
):
    new_date = date(2026, 3, 23)  # a Monday
    moved = fees.reschedule(example(), new_date, Waive.NONE)
    terms = frozen_after(moved, example())
    # On the new date itself: exactly what was agreed.
    assert fees.amount_due(terms, new_date) == 103_500 + (
        fees.interest(100_000, 100, (new_date - DUE_40_AGO).days) - 1_500
    )
    assert fees.amount_due(terms, new_date) == 100_000 + moved.fine + moved.interest
    # Ten days later: interest on the principal from the new date, no new fine.
    later = fees.charges_on(terms, new_date + timedelta(days=10))
    assert later.fine == moved.fine
    assert later.interest == moved.interest + 333  # 1000 × 1% × 10/30


def test_a_waived_fine_is_not_charged_when_the_new_date_passes_too() -> None:
    new_date = date(2026, 3, 23)
    moved = fees.reschedule(example(), new_date, Waive.ALL)
    terms = frozen_after(moved, example())
    later = fees.charges_on(terms, new_date + timedelta(days=30))
    assert later.fine == 0
    assert later.interest == 1_000


def test_moving_a_not_yet_due_invoice_earlier_freezes_nothing() -> None:
    terms = example(due_date=TODAY + timedelta(days=10))
    moved = fees.reschedule(terms, TODAY + timedelta(days=3), Waive.NONE)
    assert (moved.fine, moved.interest, moved.fine_settled) == (0, 0, False)


# --- business days ---------------------------------------------------------------


def test_saturday_due_date_can_be_paid_on_monday_without_charges() -> None:
    saturday = date(2026, 3, 14)
    monday = date(2026, 3, 16)
    assert not fees.is_business_day(saturday)
    assert fees.next_business_day(saturday) == monday
    assert fees.charges_on(example(due_date=saturday), monday) == fees.Charges(0, 0)


def test_after_the_next_business_day_days_count_from_the_real_due_date() -> None:
    saturday = date(2026, 3, 14)
    tuesday = date(2026, 3, 17)
    assert fees.days_late(saturday, tuesday) == 3
    assert fees.charges_on(example(due_date=saturday), tuesday).interest == 100


def test_national_holiday_moves_the_deadline_to_the_next_business_day() -> None:
    # Tiradentes, Tuesday 21 April 2026.
    holiday = date(2026, 4, 21)
    assert not fees.is_business_day(holiday)
    assert fees.days_late(holiday, date(2026, 4, 22)) == 0
    # Christmas 2026 is a Friday: the weekend follows, Monday 28 is the day.
    assert fees.next_business_day(date(2026, 12, 25)) == date(2026, 12, 28)
    assert fees.days_late(date(2026, 12, 25), date(2026, 12, 28)) == 0
    assert fees.days_late(date(2026, 12, 25), date(2026, 12, 29)) == 4


def test_the_day_after_a_sunday_holiday_is_a_business_day() -> None:
    # Proclamação da República 2026 falls on a Sunday; Monday is not a holiday.
    assert fees.is_business_day(date(2026, 11, 16)) is True
    assert fees.is_business_day(date(2026, 11, 15)) is False  # a Sunday


# The test machine is shared: time limits per example would make these flaky.
relaxed = settings(deadline=None)

# --- properties --------------------------------------------------------------------

principals = st.integers(min_value=1, max_value=10**11)
rates = st.integers(min_value=0, max_value=10_000)
days = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
waives = st.sampled_from(list(Waive))


@st.composite
def any_terms(draw: st.DrawFn) -> Terms:
    return Terms(
        principal=draw(principals),
        fine_bp=draw(rates),
        interest_bp=draw(rates),
        due_date=draw(days),
        frozen_fine=draw(st.integers(min_value=0, max_value=10**9)),
        frozen_interest=draw(st.integers(min_value=0, max_value=10**9)),
        fine_settled=draw(st.booleans()),
    )


@relaxed
@given(any_terms(), days)
def test_charges_are_never_negative(terms: Terms, pay_date: date) -> None:
    charges = fees.charges_on(terms, pay_date)
    assert charges.fine >= 0 and charges.interest >= 0
    assert fees.amount_due(terms, pay_date) >= terms.principal


@relaxed
@given(any_terms(), days, st.integers(min_value=0, max_value=400))
def test_charges_never_decrease_as_days_pass(
    terms: Terms, pay_date: date, wait: int
) -> None:
    before = fees.charges_on(terms, pay_date)
    after = fees.charges_on(terms, pay_date + timedelta(days=wait))
    assert after.fine >= before.fine
    assert after.interest >= before.interest


@relaxed
@given(any_terms(), st.integers(min_value=0, max_value=400), waives)
def test_reschedule_never_charges_more_than_paying_then_and_waivers_add_up(
    terms: Terms, ahead: int, waive: Waive
) -> None:
    new_date = terms.due_date + timedelta(days=ahead)
    moved = fees.reschedule(terms, new_date, waive)
    accrued = fees.charges_on(terms, new_date)
    assert moved.fine + moved.waived_fine == accrued.fine
    assert moved.interest + moved.waived_interest == accrued.interest
    assert min(moved.fine, moved.interest, moved.waived) >= 0
    if waive.fine:
        assert moved.fine == 0
    if waive.interest:
        assert moved.interest == 0


@relaxed
@given(
    any_terms(), st.integers(min_value=1, max_value=400), waives, st.integers(0, 400)
)
def test_fine_is_charged_at_most_once_across_a_reschedule(
    terms: Terms, ahead: int, waive: Waive, later: int
) -> None:
    new_date = terms.due_date + timedelta(days=ahead)
    moved = fees.reschedule(terms, new_date, waive)
    saved = frozen_after(moved, terms)
    charges = fees.charges_on(saved, new_date + timedelta(days=later))
    if moved.fine_settled:
        assert charges.fine == moved.fine
    else:
        # Moved within the grace of a weekend or holiday: no fine was due
        # yet, so it may still be charged, once, if the new date passes.
        assert moved.fine == (0 if waive.fine else terms.frozen_fine)
        assert charges.fine - moved.fine in (
            0,
            fees.fine(terms.principal, terms.fine_bp),
        )


@relaxed
@given(st.integers(min_value=0, max_value=10**12), st.integers(1, 24))
def test_even_split_sums_to_the_total_with_leftover_on_part_one(
    total: int, parts: int
) -> None:
    amounts = fees.split_evenly(total, parts)
    assert len(amounts) == parts
    assert sum(amounts) == total
    assert all(a == amounts[-1] for a in amounts[1:])
    assert 0 <= amounts[0] - amounts[-1] < parts


def test_split_of_1033_33_in_two_puts_the_odd_centavo_on_part_one() -> None:
    assert fees.split_evenly(103_333, 2) == [51_667, 51_666]
    assert fees.split_evenly(100_000, 3) == [33_334, 33_333, 33_333]
    with pytest.raises(ValueError):
        fees.split_evenly(100, 0)


@relaxed
@given(any_terms(), days, waives)
def test_outstanding_is_principal_plus_charges_less_waivers(
    terms: Terms, today: date, waive: Waive
) -> None:
    owed = fees.outstanding(terms, today, waive)
    accrued = fees.charges_on(terms, today)
    assert owed.total + owed.waived == terms.principal + accrued.total
    assert owed.total >= terms.principal


def test_installment_dates_are_monthly_and_clamped_to_month_end() -> None:
    assert fees.installment_dates(date(2026, 1, 31), 3) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]
    assert fees.installment_dates(date(2026, 11, 15), 3, 15) == [
        date(2026, 11, 15),
        date(2026, 11, 30),
        date(2026, 12, 15),
    ]
    assert fees.add_months(date(2026, 12, 10), 1) == date(2027, 1, 10)


def test_interest_rounds_half_up_to_the_centavo() -> None:
    # 150 centavos × 1% × 1/30 = 0.05 centavo -> 0; 1500 × 1% × 1 day = 0.5 -> 1.
    assert fees.interest(150, 100, 1) == 0
    assert fees.interest(1_500, 100, 1) == 1
    assert fees.fine(25, 200) == 1  # 0.5 centavo rounds up
