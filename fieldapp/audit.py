"""Writing the audit log (inside the caller's transaction)."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from fieldapp.models import AuditLog, User


def record(
    session: Session,
    user: User | None,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    before: Any = None,
    after: Any = None,
    details: dict[str, Any] | None = None,
    village_id: int | None = None,
) -> AuditLog:
    entry = AuditLog(
        user_id=getattr(user, "id", None),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        before=before,
        after=after,
        details=details,
        village_id=village_id,
        address=request.remote_addr if has_request_context() else None,
    )
    session.add(entry)
    return entry
