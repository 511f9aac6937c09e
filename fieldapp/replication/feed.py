"""A town's replication feed: every row that took a change number after a cursor, as pages
bounded in records and bytes (docs/replication.md, "Up").

The feed is read the way a phone's pull is: up to the change counter's value, whose
row a writer holds from taking its numbers until it commits, so every change numbered
up to that value is committed and none is skipped. Rows are whole (every column), in
``(change number, stream, key)`` order. What a row points to travels with it: the
villages and users it names, and the households, visits and candidates it refers to
that come later in the feed (their current state; they come again at their own place).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp.db import changes
from fieldapp.households import load_members
from fieldapp.models import (
    AppliedCommand,
    Campaign,
    Conflict,
    DecisionConflict,
    DuplicateCandidate,
    Household,
    HouseholdMember,
    HouseholdMerge,
    HouseholdRevision,
    SyncBatch,
    Town,
    User,
    Village,
    Visit,
    VisitPhoto,
    table_of,
)
from fieldapp.photos.storage import photo_storage
from fieldapp.replication.rows import dump
from sync.replication import STREAMS, FeedCursor


@dataclass(frozen=True)
class Stream:
    name: str
    table: sa.Table
    key: str
    int_key: bool = False
    complete: Any = None  # a column that must not be NULL for a row to be sent

    def sendable(self) -> sa.ColumnElement[bool]:
        return sa.true() if self.complete is None else self.table.c[self.complete].is_not(None)

    @property
    def index(self) -> int:
        return STREAMS.index(self.name)

    def key_value(self, text: str) -> Any:
        return int(text) if self.int_key else text


FEED: tuple[Stream, ...] = (
    Stream("households", table_of(Household), "id"),
    Stream("revisions", table_of(HouseholdRevision), "id", int_key=True),
    Stream("visits", table_of(Visit), "uuid"),
    Stream("conflicts", table_of(Conflict), "uid"),
    Stream("candidates", table_of(DuplicateCandidate), "uid"),
    Stream("merges", table_of(HouseholdMerge), "uid"),
    Stream("decisions", table_of(DecisionConflict), "uid"),
    Stream("commands", table_of(AppliedCommand), "uid"),
    # Complete photos only, each with its bytes (``data``, base64): a record of its own,
    # about 400 KB of JSON, within a page's byte bound.
    Stream("photos", table_of(VisitPhoto), "id", complete="completed_at"),
)
assert tuple(s.name for s in FEED) == STREAMS


@dataclass
class FeedPage:
    """One page: the JSON body to send, where it ends, whether more is waiting."""

    body: dict[str, Any]
    to: FeedCursor
    more: bool
    records: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    size: int = 0
    pending: int = 0  # rows of the feed after this page, as counted when it was read
    ref_households: dict[Any, int] = field(default_factory=dict)  # ride-along households: id -> change number


def _after(stream: Stream, cursor: FeedCursor) -> sa.ColumnElement[bool]:
    seq, key = stream.table.c.change_seq, stream.table.c[stream.key]
    if cursor.seq < 0:
        return sa.true()
    if stream.index < cursor.stream:
        return seq > cursor.seq
    if stream.index > cursor.stream:
        return seq >= cursor.seq
    return sa.or_(seq > cursor.seq, sa.and_(seq == cursor.seq, key > stream.key_value(cursor.key)))


def pending(session: Session, after: FeedCursor) -> int:
    """How many rows of the feed come after ``after`` (up to the counter's value)."""
    current = changes.current_change(session)
    total = 0
    for stream in FEED:
        total += session.scalar(sa.select(sa.func.count()).select_from(stream.table).where(
            stream.table.c.change_seq <= current, _after(stream, after), stream.sendable())) or 0
    return total


def read_page(session: Session, after: FeedCursor, *, max_records: int = 2000,
              max_bytes: int = 2_000_000, sent: Mapping[Any, int] | None = None) -> FeedPage:
    """The page of the feed after ``after``: at most ``max_records`` rows and about
    ``max_bytes`` of JSON (always at least one row when any is left).

    The page's rows are chosen on their positions alone (change number and key, read
    from the indexes), then only those rows are read whole. ``sent`` holds the households
    that central already stored in this round as the ride-along of an earlier page, by
    id with their change number: one of them at that same place is not sent again (a
    roster's revisions come long before their households' own places).
    """
    current = changes.current_change(session)
    positions: list[tuple[FeedCursor, Stream, Any]] = []
    for stream in FEED:
        seq, key = stream.table.c.change_seq, stream.table.c[stream.key]
        rows = session.execute(
            sa.select(seq, key).where(seq <= current, _after(stream, after), stream.sendable()).order_by(seq, key)
            .limit(max_records + 1)).all()
        positions += [(FeedCursor(int(row[0]), stream.index, str(row[1])), stream, row[1]) for row in rows]
    positions.sort(key=lambda item: item[0])
    chosen = positions[:max_records]
    sent = sent or {}
    stored = {key for position, stream, key in chosen
              if stream.name == "households" and sent.get(key) == position.seq}
    chosen_to_send = [item for item in chosen if item[1].name != "households" or item[2] not in stored]
    whole = _whole_rows(session, chosen_to_send)
    body: dict[str, Any] = {name: [] for name in STREAMS}
    size = 0
    taken = skipped = 0
    last = after
    for position, stream, key in chosen:
        if stream.name == "households" and key in stored:
            skipped += 1
            last = position
            continue
        item = whole[stream.name][key]
        item_size = len(orjson.dumps(item))
        if taken and size + item_size > max_bytes:
            break
        body[stream.name].append(item)
        size += item_size
        taken += 1
        last = position
    more = taken + skipped < len(positions)
    if not more:
        # Every row up to ``current`` was there to be read: the next page starts after it.
        last = max(last, FeedCursor(max(current, 0)))
    _ride_along(session, body, last)
    counts = {name: len(body[name]) for name in STREAMS if body[name]}
    if skipped:
        counts["households"] = counts.get("households", 0) + skipped
    refs = {item["id"]: int(item["change_seq"]) for item in body["refs"]["households"]}
    return FeedPage(body=body, to=last, more=more, records=taken + skipped, counts=counts, size=size,
                    ref_households=refs)


def _whole_rows(session: Session, chosen: list[tuple[FeedCursor, Stream, Any]]) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every column of the chosen rows, dumped, by stream and key."""
    keys: dict[str, list[Any]] = {}
    for _position, stream, key in chosen:
        keys.setdefault(stream.name, []).append(key)
    found: dict[str, dict[Any, dict[str, Any]]] = {name: {} for name in STREAMS}
    for stream in FEED:
        wanted = keys.get(stream.name, [])
        column = stream.table.c[stream.key]
        for start in range(0, len(wanted), 900):
            rows = session.execute(sa.select(stream.table).where(column.in_(wanted[start:start + 900]))).mappings()
            found[stream.name].update((row[stream.key], dump(stream.table, row)) for row in rows)
    _attach_members(session, found["households"])
    if found["photos"]:
        storage = photo_storage()
        for item in found["photos"].values():
            item["data"] = base64.b64encode(storage.read(item["storage_key"])).decode("ascii")
    return found


def _attach_members(session: Session, households: dict[Any, dict[str, Any]]) -> None:
    """A household goes up with its members (form 2024.1) as they stand: ``members`` (the
    records) and ``members_source``. Members change only with a household's change number
    (a visit touches its household), so the household's place in the feed carries them."""
    if not households:
        return
    members = load_members(session, households)
    sources = dict(session.execute(
        sa.select(HouseholdMember.household_id, HouseholdMember.source)
        .where(HouseholdMember.household_id.in_(sorted(members)), HouseholdMember.position == 0)).all()) \
        if members else {}
    for household_id, item in households.items():
        item["members"] = members.get(household_id, [])
        item["members_source"] = sources.get(household_id)


def _ride_along(session: Session, body: dict[str, Any], to: FeedCursor) -> None:
    """What the page's rows point to: villages, towns, users, batches, and the households,
    visits and candidates that the feed has not reached yet."""
    if body["merges"]:
        # A merge names its candidate by id here; central knows it by uid.
        ids = {m["candidate_id"] for m in body["merges"] if m["candidate_id"] is not None}
        uids = dict(session.execute(sa.select(DuplicateCandidate.id, DuplicateCandidate.uid)
                                    .where(DuplicateCandidate.id.in_(sorted(ids)))).all()) if ids else {}
        for merge in body["merges"]:
            merge["candidate_uid"] = uids.get(merge["candidate_id"])
    refs: dict[str, list[dict[str, Any]]] = {"households": [], "visits": [], "candidates": []}
    later = _later(session, FEED[4], _referenced(body["merges"], ("candidate_uid",)), body["candidates"], to)
    refs["candidates"] = later
    visit_ids = _referenced(body["conflicts"] + body["candidates"] + later + body["photos"], ("visit_uuid",))
    refs["visits"] = _later(session, FEED[2], visit_ids, body["visits"], to)
    household_ids = _referenced(
        body["revisions"] + body["visits"] + refs["visits"] + body["conflicts"] + body["candidates"]
        + later + body["merges"],
        ("household_id", "household_a_id", "household_b_id", "survivor_id", "merged_id"))
    refs["households"] = _later(session, FEED[0], household_ids, body["households"], to)
    body["refs"] = refs
    everything = [item for name in STREAMS for item in body[name]] + [
        item for items in refs.values() for item in items]
    body["villages"] = _villages(session, _referenced(everything, ("village_id",)))
    body["users"] = _users(session, _referenced(everything, (
        "worker_id", "reviewed_by_id", "user_id", "resolved_by_id", "decided_by_id", "merged_by_id",
        "undone_by_id")))
    campaign_ids = _referenced(body["visits"] + refs["visits"] + body["candidates"] + later, ("campaign_id",))
    campaigns = table_of(Campaign)
    body["campaigns"] = [dump(campaigns, row) for row in session.execute(
        sa.select(campaigns).where(campaigns.c.id.in_(sorted(campaign_ids)))).mappings()] if campaign_ids else []
    batch_ids = {item["batch_id"] for item in body["visits"] + refs["visits"]}
    batches = table_of(SyncBatch)
    body["batches"] = [dump(batches, row) for row in session.execute(
        sa.select(batches).where(batches.c.id.in_(sorted(batch_ids)))).mappings()] if batch_ids else []
    body["users"].update(_users(session, {b["user_id"] for b in body["batches"]}))


def _referenced(items: Iterable[dict[str, Any]], keys: Sequence[str]) -> set[Any]:
    return {item[key] for item in items for key in keys if item.get(key) is not None}


def _later(session: Session, stream: Stream, wanted: set[Any], present: list[dict[str, Any]],
           to: FeedCursor) -> list[dict[str, Any]]:
    """The rows among ``wanted`` (by key) not in the page whose place in the feed is after ``to``."""
    missing = sorted(wanted - {item[stream.key] for item in present})
    key, seq = stream.table.c[stream.key], stream.table.c.change_seq
    later: list[Any] = []
    for start in range(0, len(missing), 900):  # their places first (from the index), whole rows only of those
        later += [row[0] for row in session.execute(sa.select(key, seq).where(key.in_(missing[start:start + 900])))
                  if FeedCursor(int(row[1]), stream.index, str(row[0])) > to]
    found: list[dict[str, Any]] = []
    for start in range(0, len(later), 900):
        rows = session.execute(sa.select(stream.table).where(key.in_(later[start:start + 900]))).mappings()
        found += [dump(stream.table, row) for row in rows]
    return found


def _villages(session: Session, ids: set[int]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(sa.select(Village.id, Village.name, Village.code, Village.kind,
                                     Town.name.label("town"))
                           .join(Town, Town.id == Village.town_id).where(Village.id.in_(sorted(ids))))
    return {str(r.id): {"name": r.name, "code": r.code, "kind": r.kind, "town": r.town} for r in rows}


def _users(session: Session, ids: set[int]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = session.execute(sa.select(User.id, User.uid, User.username, User.display_name, User.role,
                                     User.origin).where(User.id.in_(sorted(ids))))
    return {str(r.id): {"uid": r.uid, "username": r.username, "display_name": r.display_name,
                        "role": r.role, "origin": r.origin} for r in rows}
