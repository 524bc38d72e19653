"""Money is BRL held as integer centavos; this module parses and formats it.

No float ever touches an amount: input is parsed from text (or a
``Decimal`` that JSON was decoded into), output is built from integers.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "pt_BR"
MAX_CENTS = 10**13  # R$ 100 bilhões: far above any real invoice.

_API_FORM = re.compile(r"^[0-9]{1,13}(\.[0-9]{1,2})?$")
_BR_FORM = re.compile(r"^([0-9]{1,3}(\.[0-9]{3})+|[0-9]{1,13})(,[0-9]{1,2})?$")


class MoneyError(ValueError):
    """An amount that cannot be accepted; ``str()`` is the pt-BR reason."""


def parse_amount(value: object, *, allow_zero: bool = False) -> int:
    """Parse an amount into centavos.

    Accepts API text (``"1234.56"``), pt-BR text (``"1.234,56"``, with or
    without ``R$``), an ``int`` of reais or a ``Decimal``. Rejects more than
    two decimal places, negatives, non-numbers and floats.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError('Informe o valor como texto, por exemplo "1234.56".')
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
    elif isinstance(value, str):
        text = value.strip().replace("R$", "").replace("\xa0", "").strip()
    else:
        raise MoneyError("Valor inválido.")
    if not text:
        raise MoneyError("Informe um valor.")
    if text.startswith("-"):
        raise MoneyError("O valor não pode ser negativo.")
    if _API_FORM.match(text):
        number = text
    elif _BR_FORM.match(text):
        number = text.replace(".", "").replace(",", ".")
    elif re.match(r"^[0-9]+([.,][0-9]{3,})$", text):
        raise MoneyError("Use no máximo duas casas decimais.")
    else:
        raise MoneyError("Valor inválido: use números, como 1234,56.")
    try:
        cents = int((Decimal(number) * 100).to_integral_exact())
    except InvalidOperation as exc:  # pragma: no cover - regexes prevent it
        raise MoneyError("Valor inválido.") from exc
    if cents == 0 and not allow_zero:
        raise MoneyError("O valor deve ser maior que zero.")
    if cents > MAX_CENTS:
        raise MoneyError("Valor alto demais.")
    return cents


def to_api(cents: int) -> str:
    """Return the API form: ``123456`` becomes ``"1234.56"``."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def to_decimal(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def format_brl(cents: int) -> str:
    """Return ``R$ 1.234,56`` (a plain space, as the payment link shows it)."""
    number = format_decimal(to_decimal(abs(cents)), format="#,##0.00", locale=LOCALE)
    return ("-R$ " if cents < 0 else "R$ ") + number


def format_plain(cents: int) -> str:
    """Return ``1.234,56``, for form fields and pt-BR CSV."""
    return format_decimal(to_decimal(cents), format="#,##0.00", locale=LOCALE)


def format_day(day: date) -> str:
    """Return ``dd/mm/aaaa``."""
    return format_date(day, format="dd/MM/yyyy", locale=LOCALE)


def parse_rate(value: object) -> int:
    """Parse a percentage such as ``"2"``, ``"1.5"`` or ``"0,33"`` into
    hundredths of a percent (``200``, ``150``, ``33``)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError('Informe a taxa como texto, por exemplo "2.00".')
    if isinstance(value, int | Decimal):
        text = format(Decimal(value), "f")
    elif isinstance(value, str):
        text = value.strip().replace("%", "").strip().replace(",", ".")
    else:
        raise MoneyError("Taxa inválida.")
    if text.startswith("-"):
        raise MoneyError("A taxa não pode ser negativa.")
    if not re.match(r"^[0-9]{1,3}(\.[0-9]{1,2})?$", text):
        raise MoneyError("Taxa inválida: use até duas casas decimais.")
    bp = int(Decimal(text) * 100)
    if bp > 10000:
        raise MoneyError("A taxa não pode passar de 100%.")
    return bp


def format_rate(bp: int) -> str:
    """Return ``2,00%`` for ``200``."""
    return format_decimal(Decimal(bp).scaleb(-2), format="0.00", locale=LOCALE) + "%"


def rate_to_api(bp: int) -> str:
    return to_api(bp)
