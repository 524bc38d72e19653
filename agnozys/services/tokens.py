"""Issue and revoke API tokens (Configurações > Tokens da API)."""

from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import select

from .. import validation
from ..extensions import db
from ..models import ApiToken, Organization, utcnow
from . import NotFound, ValidationFailed

log = logging.getLogger(__name__)


def list_tokens() -> list[ApiToken]:
    """Return the current organization's tokens, newest first."""
    return list(
        db.session.execute(
            select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).scalars()
    )


def create_token(
    organization: Organization, name: object, *, created_by_id: int | None, actor: str
) -> tuple[ApiToken, str]:
    """Issue a token and commit; returns the row and the raw secret."""
    try:
        clean = validation.text(
            name, required=True, max_length=120, label=_("o nome do token")
        )
    except validation.Invalid as exc:
        raise ValidationFailed(
            _("Confira os campos destacados."), {"name": str(exc)}
        ) from exc
    token, raw = ApiToken.issue(organization, name=clean)
    token.created_by_id = created_by_id
    db.session.add(token)
    db.session.commit()
    log.info(
        "Organization %s: API token %s issued by %s",
        organization.id,
        token.prefix,
        actor,
    )
    return token, raw


def revoke_token(token_id: int, *, actor: str) -> ApiToken:
    """Revoke a token of the current organization; revoking twice is harmless."""
    token = db.session.execute(
        select(ApiToken).where(ApiToken.id == token_id)
    ).scalar_one_or_none()
    if token is None:
        raise NotFound(_("Token não encontrado."))
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
        log.info(
            "Organization %s: API token %s revoked by %s",
            token.organization_id,
            token.prefix,
            actor,
        )
    return token
