"""Keeping phones in step when a user's village scope changes (an admin reassigns
villages or changes a role).

- A village taken away: a :class:`~fieldapp.models.ScopeRemoval` numbered from the
  pull sequence, so that the next pull of the user's phones lists the village's
  households under ``removed`` (docs/sync-protocol.md: "merged away or moved out of
  scope") and the phone drops them.
- A village given: its households take a new change number, so that they come in
  the next pull; they were numbered before the phone's cursor. Everyone else who
  sees the village gets them once more too, which is harmless.
- A role change that changes what the phone may or must hold (masked or full ID
  numbers and phones, ``reshaped``: :func:`fieldapp.access.resend_on_role_change`):
  every village in the new scope counts as given, so that the phone's copies are
  replaced in the new role's shape.
"""

from __future__ import annotations

import sqlalchemy as sa

from fieldapp.db import AnySession
from fieldapp.db.changes import next_change
from fieldapp.models import Household, ScopeRemoval, Village


def record(session: AnySession, user_id: int, before: list[int] | None, after: list[int] | None, *,
           reshaped: bool = False) -> None:
    """Note the change from scope ``before`` to ``after`` (village ids; None: every village),
    inside the caller's write transaction; ``reshaped``: the pull's values change shape
    (masked or full), so every household in scope is sent again."""
    if before is None or after is None:
        every = set(session.scalars(sa.select(Village.id)))
    old = every if before is None else set(before)
    new = every if after is None else set(after)
    removed, added = sorted(old - new), sorted(new if reshaped else new - old)
    if not removed and not added:
        return
    seq = next_change(session)
    if removed:
        session.execute(sa.insert(ScopeRemoval), [
            {"user_id": user_id, "village_id": village_id, "change_seq": seq} for village_id in removed])
    if added:
        session.execute(sa.update(Household).where(Household.village_id.in_(added))
                        .values(change_seq=seq).execution_options(synchronize_session=False))
