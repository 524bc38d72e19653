"""Where an organization receives Pix: its key, name and city."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from .. import brcode
from ..extensions import db
from ..models.payments import PixSettings
from . import ValidationFailed


@dataclass(frozen=True)
class Receiver:
    """The Pix receiver a BR Code names."""

    key: str
    merchant_name: str
    merchant_city: str
    source: str  # "organization" or "deployment"


def deployment_receiver(config: Any) -> Receiver | None:
    """Return the receiver set by ``AGNOZYS_PIX_*``, if complete."""
    key = config.get("AGNOZYS_PIX_KEY")
    name = config.get("AGNOZYS_PIX_MERCHANT_NAME")
    city = config.get("AGNOZYS_PIX_MERCHANT_CITY")
    if not (key and name and city):
        return None
    return Receiver(brcode.normalize_key(key), name, city, "deployment")


def receiver(organization_id: int) -> Receiver | None:
    """Return the organization's receiver, else the deployment's, else None."""
    row = db.session.execute(
        select(PixSettings)
        .where(PixSettings.organization_id == organization_id)
        .execution_options(agnozys_unscoped=True)
    ).scalar_one_or_none()
    if row is not None:
        return Receiver(row.key, row.merchant_name, row.merchant_city, "organization")
    return deployment_receiver(current_app.config)


def clean(data: dict[str, Any]) -> dict[str, str]:
    """Validate a receiver's fields; raises :class:`ValidationFailed`."""
    fields: dict[str, str] = {}
    values: dict[str, str] = {}
    try:
        values["key"] = brcode.normalize_key(str(data.get("key") or ""))
    except brcode.BRCodeError as exc:
        fields["key"] = _("Chave Pix inválida: %(reason)s.", reason=str(exc))
    for name, limit, label in (
        ("merchant_name", brcode.NAME_MAX, _("o nome do recebedor")),
        ("merchant_city", brcode.CITY_MAX, _("a cidade")),
    ):
        value = brcode.ascii_text(str(data.get(name) or ""), 200)
        if not value:
            fields[name] = _("Informe %(label)s.", label=label)
        elif len(value) > limit:
            fields[name] = _("Use no máximo %(n)d caracteres.", n=limit)
        else:
            values[name] = value
    if fields:
        raise ValidationFailed(_("Confira os campos destacados."), fields)
    return values


def save_settings(
    organization_id: int, data: dict[str, Any], *, actor: str
) -> PixSettings:
    """Set the organization's Pix receiver and commit."""
    values = clean(data)
    row = db.session.execute(
        select(PixSettings)
        .where(PixSettings.organization_id == organization_id)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = PixSettings(organization_id=organization_id)
        db.session.add(row)
    row.key = values["key"]
    row.merchant_name = values["merchant_name"]
    row.merchant_city = values["merchant_city"]
    row.updated_by = actor
    db.session.commit()
    return row
