"""Writing the audit log (inside the caller's transaction)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session, scoped_session

from fieldapp.access import Scoped
from fieldapp.db import AnySession, write_transaction
from fieldapp.models import AuditLog, table_of


def _values(user: Scoped | None, action: str, object_type: str, object_id: object, *, before: Any,
            after: Any, details: dict[str, Any] | None, village_id: int | None) -> dict[str, Any]:
    return {
        "user_id": getattr(user, "id", None),
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "before": before,
        "after": after,
        "details": details,
        "village_id": village_id,
        "address": request.remote_addr if has_request_context() else None,
    }


def record(
    session: AnySession,
    user: Scoped | None,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    before: Any = None,
    after: Any = None,
    details: dict[str, Any] | None = None,
    village_id: int | None = None,
) -> AuditLog:
    entry = AuditLog(**_values(user, action, object_type, object_id, before=before, after=after,
                               details=details, village_id=village_id))
    session.add(entry)
    return entry


def insert(
    session: AnySession,
    user: Scoped | None,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    details: dict[str, Any] | None = None,
    village_id: int | None = None,
) -> None:
    """The entry :func:`record` makes, written at once as a plain INSERT: for paths as hot
    as every push, where the ORM's flush of one object costs about a millisecond."""
    values = _values(user, action, object_type, object_id, before=None, after=None, details=details,
                     village_id=village_id)
    del values["before"], values["after"]  # left out, as the ORM leaves out unset columns: SQL NULL
    session.execute(table_of(AuditLog).insert(), [values])


def record_read(session: Session | scoped_session[Any], user: Scoped | None, action: str, object_type: str,
                object_id: object, *, details: dict[str, Any] | None = None,
                village_id: int | None = None) -> None:
    """Audit a read of personal data (a signature, full ID numbers) in its own write
    transaction, committed before the data is handed out: what cannot be audited is not shown."""
    with write_transaction(session) as writer:
        record(writer, user, action, object_type, object_id, details=details, village_id=village_id)
