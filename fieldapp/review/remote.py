"""Decisions on a town's data taken at central go to the town as commands (docs/replication.md).

A town owns its visits, conflicts, candidates and merges: at central they are copies.
When a county supervisor decides on one of them, the review use case hands the decision
to :func:`send` instead of changing the copy; the town applies it through its own use
case and the result comes back up with its feed. Until then the record shows the
decision as waiting (:func:`waiting`), and a second decision on it is refused.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.access import Scoped
from fieldapp.db import AnySession
from fieldapp.db.changes import next_change
from fieldapp.models import Node, ReplicationCommand, Village
from fieldapp.review.errors import AlreadyDecided


def owner(session: AnySession, village_id: int | None) -> Node | None:
    """The node (town server) that owns the data of this village, if any."""
    if village_id is None:
        return None
    return session.scalar(sa.select(Node).join(Village, Village.town_id == Node.town_id)
                          .where(Village.id == village_id))


def waiting(session: AnySession, kind: str, target: str) -> ReplicationCommand | None:
    """The decision on ``target`` sent to its town and not yet settled, if any."""
    return session.scalar(sa.select(ReplicationCommand).where(
        ReplicationCommand.kind == kind, ReplicationCommand.target == target,
        ReplicationCommand.status == "pending").order_by(ReplicationCommand.seq.desc()).limit(1))


def waiting_town(session: Session, kinds: tuple[str, ...], target: str) -> str | None:
    """The town a decision of one of ``kinds`` on ``target`` waits for (its name), if any:
    what the review pages show as "等待…同步"."""
    command = session.scalar(sa.select(ReplicationCommand).where(
        ReplicationCommand.kind.in_(kinds), ReplicationCommand.target == target,
        ReplicationCommand.status == "pending").limit(1))
    if command is None:
        return None
    node = session.get(Node, command.node_id)
    return node.town.name if node else None


def send(session: Session, node: Node, user: Scoped, kind: str, target: str,
         payload: dict[str, Any], village_id: int | None = None) -> ReplicationCommand:
    """Queue a decision for ``node`` inside the caller's write transaction (audited).

    :raises AlreadyDecided: a decision on the same record is already on its way
    """
    if waiting(session, kind, target) is not None:
        raise AlreadyDecided("decision_waiting", town=node.town.name)
    command = ReplicationCommand(node_id=node.id, seq=next_change(session), kind=kind, target=target,
                                 payload=payload, created_by_id=user.id, status="pending")
    session.add(command)
    session.flush()
    audit.record(session, user, "command_send", "command", command.uid, village_id=village_id,
                 details={"node": node.name, "kind": kind, "target": target, "payload": payload})
    return command
