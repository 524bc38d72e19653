"""Late charges: fine, interest, frozen charges, waivers and business days.

Pure rules, no database and no Flask. Amounts are integer centavos, rates
are hundredths of a percent (``200`` is 2%). See DOMAIN.md, "Money and
late charges".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays


class Waive(enum.StrEnum):
    NONE = "none"
    FINE = "fine"
    INTEREST = "interest"
    ALL = "all"

    @property
    def fine(self) -> bool:
        return self in (Waive.FINE, Waive.ALL)

    @property
    def interest(self) -> bool:
        return self in (Waive.INTEREST, Waive.ALL)


def round_div(numerator: int, denominator: int) -> int:
    """Divide non-negative integers, rounding half up."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_div takes a non-negative numerator")
    return (2 * numerator + denominator) // (2 * denominator)


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("BR", years=year)


def is_business_day(day: date) -> bool:
    """Return False on weekends and Brazilian national holidays."""
    return day.weekday() < 5 and day not in _national_holidays(day.year)


def next_business_day(day: date) -> date:
    """Return ``day`` itself when it is a business day, else the next one."""
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def days_late(due_date: date, pay_date: date) -> int:
    """Calendar days from the due date to the payment date.

    Zero when paid by the due date, or when the due date falls on a
    weekend or holiday and payment comes on the next business day.
    """
    if pay_date <= next_business_day(due_date):
        return 0
    return (pay_date - due_date).days


def fine(principal: int, fine_bp: int) -> int:
    """The one-off fine on a principal."""
    return round_div(principal * fine_bp, 10_000)


def interest(principal: int, interest_bp: int, days: int) -> int:
    """Simple interest pro rata die: ``principal × rate × days / 30``."""
    if days <= 0:
        return 0
    return round_div(principal * interest_bp * days, 10_000 * 30)


@dataclass(frozen=True)
class Terms:
    """What an unpaid invoice owes besides the principal's running charges."""

    principal: int
    fine_bp: int
    interest_bp: int
    due_date: date
    frozen_fine: int = 0
    frozen_interest: int = 0
    fine_settled: bool = False


@dataclass(frozen=True)
class Charges:
    fine: int
    interest: int

    @property
    def total(self) -> int:
        return self.fine + self.interest


def charges_on(terms: Terms, pay_date: date) -> Charges:
    """Fine and interest owed when paying on ``pay_date``.

    Frozen charges are always included; the live fine is added only when
    the invoice is late and its fine was never frozen or waived, and live
    interest runs on the principal from the current due date.
    """
    late = days_late(terms.due_date, pay_date)
    live_fine = 0
    if late and not terms.fine_settled:
        live_fine = fine(terms.principal, terms.fine_bp)
    live_interest = interest(terms.principal, terms.interest_bp, late)
    return Charges(
        fine=terms.frozen_fine + live_fine,
        interest=terms.frozen_interest + live_interest,
    )


def amount_due(terms: Terms, pay_date: date) -> int:
    return terms.principal + charges_on(terms, pay_date).total


@dataclass(frozen=True)
class Reschedule:
    """The outcome of moving a due date: what gets frozen, what is waived."""

    new_due_date: date
    fine: int
    interest: int
    waived_fine: int
    waived_interest: int
    fine_settled: bool

    @property
    def waived(self) -> int:
        return self.waived_fine + self.waived_interest


def reschedule(terms: Terms, new_due_date: date, waive: Waive) -> Reschedule:
    """Freeze the charges that will have accrued by ``new_due_date``.

    Days are counted from the current due date to the new one; what staff
    waive is dropped. The fine, once frozen or waived, is settled for good.
    """
    accrued = charges_on(terms, new_due_date)
    fine_now = 0 if waive.fine else accrued.fine
    interest_now = 0 if waive.interest else accrued.interest
    late = days_late(terms.due_date, new_due_date) > 0
    return Reschedule(
        new_due_date=new_due_date,
        fine=fine_now,
        interest=interest_now,
        waived_fine=accrued.fine - fine_now,
        waived_interest=accrued.interest - interest_now,
        fine_settled=terms.fine_settled or late,
    )


@dataclass(frozen=True)
class Outstanding:
    """What an unpaid invoice owes on one day once staff waivers are applied."""

    principal: int
    fine: int
    interest: int
    waived_fine: int
    waived_interest: int

    @property
    def total(self) -> int:
        return self.principal + self.fine + self.interest

    @property
    def waived(self) -> int:
        return self.waived_fine + self.waived_interest


def outstanding(terms: Terms, today: date, waive: Waive) -> Outstanding:
    """Return what paying on ``today`` costs, less what staff waive."""
    accrued = charges_on(terms, today)
    fine_now = 0 if waive.fine else accrued.fine
    interest_now = 0 if waive.interest else accrued.interest
    return Outstanding(
        principal=terms.principal,
        fine=fine_now,
        interest=interest_now,
        waived_fine=accrued.fine - fine_now,
        waived_interest=accrued.interest - interest_now,
    )


def split_evenly(total: int, parts: int) -> list[int]:
    """Split centavos into ``parts`` amounts; leftover centavos go to part 1."""
    if parts < 1:
        raise ValueError("at least one part")
    base, leftover = divmod(total, parts)
    return [base + leftover] + [base] * (parts - 1)


def add_months(day: date, months: int) -> date:
    """Return the same day ``months`` later, clamped to the month's end."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError("unreachable")  # pragma: no cover


def installment_dates(
    first: date, count: int, interval_days: int | None = None
) -> list[date]:
    """Due dates of ``count`` parts: monthly from ``first``, or every N days."""
    if interval_days is None:
        return [add_months(first, n) for n in range(count)]
    return [first + timedelta(days=interval_days * n) for n in range(count)]
