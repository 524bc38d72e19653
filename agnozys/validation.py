"""Checks for what people type: CPF/CNPJ, e-mail, phone, names, dates."""

from __future__ import annotations

import re
from datetime import date

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

# ASCII digits only: ``\d`` would also take Arabic-Indic and other digits.
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class Invalid(ValueError):
    """A value that cannot be accepted; ``str()`` is the pt-BR reason."""


def digits(value: str) -> str:
    return re.sub(r"[^0-9]", "", value)


def _cpf_ok(number: str) -> bool:
    if len(number) != 11 or number == number[0] * 11:
        return False
    for size in (9, 10):
        total = sum(int(d) * w for d, w in zip(number[:size], range(size + 1, 1, -1)))
        check = (total * 10) % 11 % 10
        if check != int(number[size]):
            return False
    return True


def _cnpj_ok(number: str) -> bool:
    if len(number) != 14 or number == number[0] * 14:
        return False
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for size in (12, 13):
        w = weights if size == 12 else [6] + weights
        total = sum(int(d) * k for d, k in zip(number[:size], w))
        rest = total % 11
        check = 0 if rest < 2 else 11 - rest
        if check != int(number[size]):
            return False
    return True


def document(value: str | None) -> str | None:
    """Return a CPF or CNPJ as digits, checking its check digits."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if re.search(r"[^0-9.\-/\s]", text):
        raise Invalid(_("CPF ou CNPJ deve ter só números, pontos, traço e barra."))
    number = digits(text)
    if len(number) == 11:
        if not _cpf_ok(number):
            raise Invalid(_("CPF inválido: confira os dígitos."))
    elif len(number) == 14:
        if not _cnpj_ok(number):
            raise Invalid(_("CNPJ inválido: confira os dígitos."))
    else:
        raise Invalid(_("Informe um CPF (11 dígitos) ou CNPJ (14 dígitos)."))
    return number


def format_document(number: str | None) -> str:
    if not number:
        return ""
    if len(number) == 11:
        return f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"
    if len(number) == 14:
        return f"{number[:2]}.{number[2:5]}.{number[5:8]}/{number[8:12]}-{number[12:]}"
    return number


def email(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if len(text) > 254:
        raise Invalid(_("E-mail longo demais."))
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(_("E-mail inválido.")) from exc
    return str(result.normalized)


def phone(value: str | None) -> str | None:
    """Return a Brazilian phone as digits with country code: ``5511987654321``."""
    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    if re.search(r"[^0-9()+\-.\s]", text):
        raise Invalid(_("Telefone deve ter só números."))
    number = digits(text)
    if number.startswith("55") and len(number) in (12, 13):
        number = number[2:]
    if len(number) not in (10, 11) or number[0] == "0":
        raise Invalid(_("Telefone inválido: use DDD e número, como (11) 98765-4321."))
    if len(number) == 11 and number[2] != "9":
        raise Invalid(_("Celular inválido: o número deve começar com 9."))
    return "55" + number


def format_phone(number: str | None) -> str:
    if not number:
        return ""
    local = number[2:] if number.startswith("55") else number
    if len(local) == 11:
        return f"({local[:2]}) {local[2:7]}-{local[7:]}"
    if len(local) == 10:
        return f"({local[:2]}) {local[2:6]}-{local[6:]}"
    return number


def text(value: object, *, required: bool, max_length: int, label: str) -> str:
    """Return trimmed text; control characters and overlong values refused."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Invalid(_("%(label)s deve ser texto.", label=label))
    clean = value.strip()
    if required and not clean:
        raise Invalid(_("Informe %(label)s.", label=label))
    if len(clean) > max_length:
        raise Invalid(
            _("%(label)s passa de %(n)d caracteres.", label=label, n=max_length)
        )
    if re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", clean):
        raise Invalid(_("%(label)s tem caracteres inválidos.", label=label))
    return clean


def iso_date(value: object) -> date:
    """Parse ``YYYY-MM-DD`` (the API and HTML date inputs)."""
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value):
        raise Invalid(_("Data inválida: use AAAA-MM-DD."))
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(_("Data inexistente.")) from exc
    if not 2000 <= day.year <= 2100:
        raise Invalid(_("Data fora do intervalo aceito (2000 a 2100)."))
    return day


def complete_cpf(base: str) -> str:
    """Append the two check digits to nine digits (demo and seed data)."""
    number = base
    for size in (9, 10):
        total = sum(int(d) * w for d, w in zip(number, range(size + 1, 1, -1)))
        number += str((total * 10) % 11 % 10)
    return number
