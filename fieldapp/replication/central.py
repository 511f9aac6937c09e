"""Central's side of replication, as the API calls it: where a node stands, receiving a
page of its feed, and what goes down to it (docs/replication.md)."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.db import AnySession, write_transaction
from fieldapp.db.retry import run_again_if_aborted
from fieldapp.ingest_slot import ONE_INGEST_AT_A_TIME
from fieldapp.models import Campaign, Node, ReplicationCommand, User, table_of, utcnow
from fieldapp.replication import county_dedup
from fieldapp.replication.apply import apply_page
from fieldapp.replication.rows import dump
from sync.errors import SyncError
from sync.replication import STREAMS

log = logging.getLogger(__name__)
DOWN_LIMIT = 200
_LISTS = (*STREAMS, "batches", "campaigns")


def up_state(session: AnySession, node_id: int) -> dict[str, Any]:
    node = session.get(Node, node_id)
    assert node is not None
    body = {"node": node.name, "town": node.town.name, "cursor": node.up_cursor}
    session.rollback()
    return body


def _invalid(reason: str) -> SyncError:
    return SyncError("invalid_page", {"reason": reason})


def _check_shape(body: Any) -> dict[str, Any]:
    """The page's outline (every item an object, the maps maps); the rows' own columns are
    checked by the database and the upserts."""
    if not isinstance(body, dict):
        raise _invalid("expected an object")
    for key in ("from", "to"):
        if not isinstance(body.get(key), str):
            raise _invalid(f"{key}: expected a string")
    for key in _LISTS:
        items = body.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _invalid(f"{key}: expected a list of objects")
    refs = body.get("refs", {})
    if not isinstance(refs, dict) or not all(
            isinstance(v, list) and all(isinstance(i, dict) for i in v) for v in refs.values()):
        raise _invalid("refs: expected lists of objects")
    for key in ("villages", "users"):
        value = body.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise _invalid(f"{key}: expected an object of objects")
    return body


def receive_page(session: Session, node_id: int, body: Any) -> dict[str, Any]:
    """Apply one page of a node's feed, then look for the same household in other towns
    (one page at a time per process: :mod:`fieldapp.ingest_slot`)."""
    page = _check_shape(body)
    with ONE_INGEST_AT_A_TIME:
        return _receive_page(session, node_id, page)


def _receive_page(session: Session, node_id: int, page: dict[str, Any]) -> dict[str, Any]:
    try:
        # Another town's page or a county decision may lock the same rows in another order:
        # PostgreSQL aborts one of them, and the page (one transaction) simply runs again.
        applied = run_again_if_aborted(lambda: apply_page(session, node_id, page), rollback=session.rollback,
                                       what=f"replication page of node {node_id}")
    except (KeyError, TypeError, ValueError) as exc:
        session.rollback()
        log.warning("replication page from node %s refused: %r", node_id, exc)
        raise _invalid(f"{type(exc).__name__}: {str(exc)[:160]}") from exc
    found = 0
    if not page.get("more") and not applied.duplicate:
        # The town has sent all it had: look for its new households in the other towns.
        found = county_dedup.find_for_node(session, node_id)
    return {"cursor": applied.cursor, "duplicate": applied.duplicate, "counts": applied.counts,
            "rejected": applied.rejected, "candidates": found}


def _parse_since(since: str | None) -> int:
    if since in (None, ""):
        return 0
    if not since.isdigit() or len(since) > 18:
        raise SyncError("bad_replication_cursor", {"since": since[:40]})
    return int(since)


def down_page(session: AnySession, node_id: int, since: str | None, limit: str | None) -> dict[str, Any]:
    """Every campaign (central owns them), and this node's commands numbered after ``since``."""
    after = _parse_since(since)
    size = min(max(int(limit), 1), 1000) if limit and limit.isdigit() else DOWN_LIMIT
    campaigns = table_of(Campaign)
    with write_transaction(session):
        node = session.get(Node, node_id)
        assert node is not None
        node.last_contact_at = utcnow()
        node.down_cursor = max(node.down_cursor, after)
        rows = session.execute(
            sa.select(ReplicationCommand, User.uid, User.username, User.display_name, User.role)
            .outerjoin(User, User.id == ReplicationCommand.created_by_id)
            .where(ReplicationCommand.node_id == node_id, ReplicationCommand.seq > after)
            .order_by(ReplicationCommand.seq).limit(size + 1)).all()
        more = len(rows) > size
        commands = [
            {"uid": c.uid, "seq": c.seq, "kind": c.kind, "target": c.target, "payload": c.payload,
             "created_at": c.created_at.isoformat() if c.created_at else None,
             "by": {"uid": uid, "username": username, "display_name": display_name, "role": role}
             if uid else None}
            for c, uid, username, display_name, role in rows[:size]]
        if commands:
            audit.insert(session, None, "replication_down", "node", node.name,
                         details={"node": node.name, "commands": len(commands), "since": after})
        campaign_rows = [dump(campaigns, row) for row in session.execute(
            sa.select(campaigns).order_by(campaigns.c.id)).mappings()]
    cursor = commands[-1]["seq"] if commands else after
    return {"cursor": cursor, "more": more, "campaigns": campaign_rows, "commands": commands}
