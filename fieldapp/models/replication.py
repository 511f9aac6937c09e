"""The central tier (docs/replication.md): town servers registered on central as nodes,
central's decisions on a town's data waiting to go down, and each side's bookkeeping.

On central: :class:`Node`, :class:`ReplicationCommand`, :class:`ReplicationReject`.
On a town: :class:`UpstreamState`, :class:`AppliedCommand`.
On both: :class:`DecisionConflict` (made at a town, replicated up).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fieldapp.models.base import Base, JSONType, UtcDateTime, new_uuid, utcnow
from fieldapp.models.geo import Town


class Node(Base):
    """A town server registered on central; only the SHA-256 of its token is stored.

    ``up_cursor`` is how far central has applied the town's feed (the town's change
    number), moved in the same transaction as the rows it covers.
    """

    __tablename__ = "nodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    town_id: Mapped[int] = mapped_column(sa.ForeignKey("towns.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_contact_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    up_cursor: Mapped[str] = mapped_column(sa.String(120), default="")
    up_pending: Mapped[int] = mapped_column(default=0)  # what the town said it still had to send
    up_applied_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    down_cursor: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # what the town said it applied
    # Central's change number up to which the town's households were looked for in other towns.
    dedup_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    town: Mapped[Town] = relationship()


class ReplicationCommand(Base):
    """A decision taken at central on a town's data, waiting for the town to apply it
    through its own use cases. ``seq`` is a change number of central (taken in the
    deciding transaction, so commands become visible to the town in order)."""

    __tablename__ = "replication_commands"
    __table_args__ = (sa.Index("ix_replication_commands_node_seq", "node_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id"))
    seq: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(30))
    target: Mapped[str] = mapped_column(sa.String(64))  # the visit uuid, conflict uid, ... it is about
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    # pending | applied | conflict (the town had decided otherwise) | refused
    status: Mapped[str] = mapped_column(sa.String(12), default="pending", index=True)
    message: Mapped[str | None] = mapped_column(sa.Text)
    settled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class ReplicationReject(Base):
    """An item of a town's feed that central could not store (kept whole, shown to an admin,
    never dropped silently)."""

    __tablename__ = "replication_rejects"

    id: Mapped[int] = mapped_column(primary_key=True)
    node_id: Mapped[int] = mapped_column(sa.ForeignKey("nodes.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    key: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class UpstreamState(Base):
    """A town's replication with its upstream (one row): what came down, how it went."""

    __tablename__ = "upstream_state"

    name: Mapped[str] = mapped_column(sa.String(20), primary_key=True)  # "upstream"
    down_cursor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    up_cursor: Mapped[str] = mapped_column(sa.String(120), default="")  # central's, as last heard
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    failures: Mapped[int] = mapped_column(default=0)
    last_round: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class AppliedCommand(Base):
    """A central decision this town has applied (or found in conflict with its own): the
    record that makes applying it again a no-op, sent up so central can settle it."""

    __tablename__ = "applied_commands"

    uid: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(sa.BigInteger)  # central's number of the command
    kind: Mapped[str] = mapped_column(sa.String(30))
    status: Mapped[str] = mapped_column(sa.String(12))  # applied | conflict | refused
    message: Mapped[str | None] = mapped_column(sa.Text)
    applied_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)


class DecisionConflict(Base):
    """Central and the town decided differently on the same record: both decisions kept,
    shown side by side, until a person picks one (never a silent overwrite)."""

    __tablename__ = "decision_conflicts"
    __table_args__ = (sa.Index("ix_decision_conflicts_village_status", "village_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    command_uid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    target: Mapped[str] = mapped_column(sa.String(64))
    village_id: Mapped[int | None] = mapped_column(sa.ForeignKey("villages.id"))
    town_decision: Mapped[dict[str, Any]] = mapped_column(JSONType)
    county_decision: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(10), default="open")  # open | resolved
    resolution: Mapped[str | None] = mapped_column(sa.String(10))  # town | county
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    change_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)
