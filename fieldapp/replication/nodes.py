"""Town servers registered on central (``fieldapp node create|list|revoke``) and their tokens.

A node token is not a user token: it opens only the replication endpoints, and what
it sends is stored only under its own town. Only its SHA-256 is kept.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from fieldapp import audit
from fieldapp.db import AnySession, write_transaction
from fieldapp.models import Node, ReplicationCommand, ReplicationReject, Town, utcnow
from fieldapp.tokens import hash_token
from sync.errors import SyncError

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class NodeError(SyncError, ValueError):
    """A refused node action: a kind of the error catalogue (``str(error)`` is its Chinese message)."""


@dataclass(frozen=True)
class NodeStatus:
    """One line of ``fieldapp node list`` and of central's nodes page."""

    name: str
    town: str
    created_at: dt.datetime
    revoked: bool
    last_contact_at: dt.datetime | None
    up_applied_at: dt.datetime | None
    pending_up: int
    pending_down: int
    rejected: int

    def lag(self, now: dt.datetime) -> dt.timedelta | None:
        """How long since central last heard from the town (``None``: never)."""
        if self.last_contact_at is None:
            return None
        seen = self.last_contact_at if self.last_contact_at.tzinfo else self.last_contact_at.replace(tzinfo=dt.UTC)
        return now - seen


def create_node(session: AnySession, name: str, town_name: str) -> tuple[Node, str]:
    """Register a town server; returns the node and its token (shown once, never stored)."""
    name, town_name = name.strip(), town_name.strip()
    if not NAME.match(name):
        raise NodeError("node_name_invalid")
    if not town_name:
        raise NodeError("node_town_missing")
    token = secrets.token_urlsafe(32)
    with write_transaction(session):
        if session.scalar(sa.select(Node.id).where(Node.name == name)) is not None:
            raise NodeError("node_exists", name=name)
        town = session.scalar(sa.select(Town).where(Town.name == town_name))
        if town is None:
            town = Town(name=town_name)
            session.add(town)
            session.flush()
        elif session.scalar(sa.select(Node.name).where(Node.town_id == town.id)) is not None:
            raise NodeError("town_has_node", town=town_name)
        node = Node(name=name, town_id=town.id, token_hash=hash_token(token), up_cursor="")
        session.add(node)
        session.flush()
        audit.record(session, None, "node_create", "node", name, after={"town": town_name})
    return node, token


def revoke_node(session: AnySession, name: str) -> Node:
    """Revoke a node's token: its calls get 401 from now on; its data stays."""
    with write_transaction(session):
        node = session.scalar(sa.select(Node).where(Node.name == name))
        if node is None:
            raise NodeError("node_not_found", name=name)
        if node.revoked_at is None:
            node.revoked_at = utcnow()
            audit.record(session, None, "node_revoke", "node", name)
    return node


def new_token(session: AnySession, name: str) -> str:
    """A new token for a node (after a revocation, or a lost one): the old one stops working."""
    token = secrets.token_urlsafe(32)
    with write_transaction(session):
        node = session.scalar(sa.select(Node).where(Node.name == name))
        if node is None:
            raise NodeError("node_not_found", name=name)
        node.token_hash = hash_token(token)
        node.revoked_at = None
        audit.record(session, None, "node_token", "node", name)
    return token


def node_for_token(session: AnySession, token: str | None) -> tuple[int | None, str | None]:
    """The node id a presented token opens, or why not (``unauthenticated``, ``node_revoked``)."""
    if not token:
        return None, "unauthenticated"
    row = session.execute(sa.select(Node.id, Node.revoked_at).where(Node.token_hash == hash_token(token))).first()
    if row is None:
        return None, "unauthenticated"
    if row.revoked_at is not None:
        return None, "node_revoked"
    return row.id, None


def active_node_count(session: AnySession) -> int:
    """How many towns may replicate into this server now (not revoked; 0 on a town)."""
    return int(session.scalar(sa.select(sa.func.count()).select_from(Node).where(Node.revoked_at.is_(None))) or 0)


def node_statuses(session: AnySession) -> list[NodeStatus]:
    """Every node with what is waiting each way, by name."""
    pending_down = dict(session.execute(
        sa.select(ReplicationCommand.node_id, sa.func.count()).where(ReplicationCommand.status == "pending")
        .group_by(ReplicationCommand.node_id)).all())
    rejected = dict(session.execute(
        sa.select(ReplicationReject.node_id, sa.func.count()).group_by(ReplicationReject.node_id)).all())
    rows = session.execute(sa.select(Node, Town.name).join(Town, Town.id == Node.town_id).order_by(Node.name))
    return [NodeStatus(name=node.name, town=town, created_at=node.created_at,
                       revoked=node.revoked_at is not None, last_contact_at=node.last_contact_at,
                       up_applied_at=node.up_applied_at, pending_up=node.up_pending,
                       pending_down=pending_down.get(node.id, 0), rejected=rejected.get(node.id, 0))
            for node, town in rows]

