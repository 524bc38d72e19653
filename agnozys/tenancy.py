"""Every tenant-owned query is scoped to one organization by construction.

While a scope is active (a staff request, an API request, a job working for
one organization), every ORM ``SELECT``, ``UPDATE`` and ``DELETE`` gets
``organization_id = <scope>`` on each tenant-owned entity it touches,
including joins, subqueries and relationship loads, and every new
tenant-owned row is stamped with the scope's organization. Flushing a row
that belongs (or belonged) to another organization, whether new, changed
or deleted, raises :class:`TenantViolation`. Code outside any scope
(migrations, the CLI's bulk loaders, the public payment link before it
knows its invoice) sees all rows and must say so by calling
:func:`unscoped` or by running where no scope was set.

Two things the listeners cannot see: textual SQL (``text()``) and
``Session.get()`` of a row already in the session's identity map, which
answers without a query. Requests load only their own user and token
unscoped, so neither reaches another organization's rows in practice;
keep it that way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from .extensions import db
from .models.base import TenantOwned

_current: ContextVar[int | None] = ContextVar("agnozys_organization", default=None)


class TenantViolation(RuntimeError):
    """A row of one organization was about to be written under another."""


def current_organization_id() -> int | None:
    """Return the organization id of the active scope, if any."""
    return _current.get()


def activate(organization_id: int | None) -> Any:
    """Set the scope for the rest of this context; returns a reset token."""
    return _current.set(organization_id)


def deactivate(token: Any) -> None:
    _current.reset(token)


@contextmanager
def scope(organization_id: int) -> Iterator[None]:
    """Run the block scoped to one organization."""
    token = _current.set(organization_id)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def unscoped() -> Iterator[None]:
    """Run the block with no organization scope (system work only)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def _scope_statements(state: ORMExecuteState) -> None:
    organization_id = _current.get()
    if organization_id is None:
        return
    # Bulk UPDATE and DELETE too: ``update(Invoice).values(...)`` under a
    # scope must not touch another organization's rows.
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("agnozys_unscoped"):
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantOwned,
            lambda cls: cls.organization_id == organization_id,
            include_aliases=True,
        )
    )


def _stamp_new_rows(session: Session, flush_context: Any, instances: Any) -> None:
    organization_id = _current.get()
    if organization_id is None:
        return
    for obj in session.new:
        if not isinstance(obj, TenantOwned):
            continue
        if obj.organization_id is None:
            obj.organization_id = organization_id
        elif obj.organization_id != organization_id:
            _refuse(obj, obj.organization_id, organization_id)
    for obj in list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantOwned):
            continue
        # Check where the row came from as well as where it is going, so
        # a row cannot be moved into this organization either.
        history = inspect(obj).attrs.organization_id.history
        for owner in [*history.deleted, obj.organization_id]:
            if owner is not None and owner != organization_id:
                _refuse(obj, owner, organization_id)


def _refuse(obj: object, owner: int, organization_id: int) -> None:
    raise TenantViolation(
        f"{type(obj).__name__} of organization {owner} "
        f"written under organization {organization_id}"
    )


def install() -> None:
    """Attach the scoping listeners to the Flask-SQLAlchemy session class."""
    session_class = db.session.session_factory.class_  # type: ignore[attr-defined]
    if not event.contains(session_class, "do_orm_execute", _scope_statements):
        event.listen(session_class, "do_orm_execute", _scope_statements)
        event.listen(session_class, "before_flush", _stamp_new_rows)
