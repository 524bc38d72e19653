"""Create and edit customers."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import validation
from ..extensions import db
from ..models import Customer
from . import NotFound, ValidationFailed


def search_key(name: str) -> str:
    """Lower-case, accent-free form of a name, for searching."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def clean(data: dict[str, Any]) -> dict[str, Any]:
    """Validate a customer's fields; raises :class:`ValidationFailed`."""
    fields: dict[str, str] = {}
    values: dict[str, Any] = {}
    checks = {
        "name": lambda v: validation.text(
            v, required=True, max_length=200, label=_("o nome")
        ),
        "email": lambda v: validation.email(_text_or_none(v, 254)),
        "phone": lambda v: validation.phone(_text_or_none(v, 30)),
        "document": lambda v: validation.document(_text_or_none(v, 30)),
        "external_id": lambda v: _text_or_none(v, 100),
    }
    for name, check in checks.items():
        try:
            values[name] = check(data.get(name))
        except validation.Invalid as exc:
            fields[name] = str(exc)
    if fields:
        raise ValidationFailed(_("Confira os campos destacados."), fields)
    return values


def _text_or_none(value: Any, max_length: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation.Invalid(_("Deve ser texto."))
    value = value.strip()
    if len(value) > max_length:
        raise validation.Invalid(_("Longo demais."))
    return value or None


def create_customer(data: dict[str, Any], *, actor: str) -> Customer:
    """Create a customer in the current organization and commit."""
    values = clean(data)
    customer = Customer(**values, search_name=search_key(values["name"]))
    db.session.add(customer)
    _commit_unique(customer)
    return customer


def update_customer(public_id: str, data: dict[str, Any], *, actor: str) -> Customer:
    customer = get_customer(public_id)
    values = clean(data)
    for name, value in values.items():
        setattr(customer, name, value)
    customer.search_name = search_key(values["name"])
    _commit_unique(customer)
    return customer


def get_customer(public_id: str) -> Customer:
    customer = db.session.execute(
        select(Customer).where(Customer.public_id == public_id)
    ).scalar_one_or_none()
    if customer is None:
        raise NotFound(_("Cliente não encontrado."))
    return customer


def _commit_unique(customer: Customer) -> None:
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ValidationFailed(
            _("Confira os campos destacados."),
            {"external_id": _("Já existe um cliente com este id externo.")},
        ) from exc
