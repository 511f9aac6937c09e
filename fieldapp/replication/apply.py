"""Central applies a page of a town's feed (docs/replication.md, "Up").

One page is one transaction: every row is upserted by its id that holds in every
tier (household id, visit uuid, uid, (household, rev)), the town's integer ids for
villages and users are mapped to central's, every stored row takes a change number
of central (so central's reports and pulls see it), and the node's cursor moves to
the page's end in the same transaction. A page whose start is not the node's cursor
is refused (``409 cursor_mismatch``), unless it ends at or before the cursor: then
it was applied already and the answer says so (a replay changes nothing).

A row central cannot store (its village in another town, its code taken by another
household of the town) is kept whole in ``replication_rejects`` with the reason,
together with the rows that depend on it; the rest of the page is stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from fieldapp import audit
from fieldapp.db import driver_rows, write_transaction
from fieldapp.db.changes import next_change
from fieldapp.households import write_members
from fieldapp.models import (
    Campaign,
    Conflict,
    DecisionConflict,
    DuplicateCandidate,
    Household,
    HouseholdMerge,
    HouseholdRevision,
    Node,
    ReplicationCommand,
    ReplicationReject,
    SyncBatch,
    User,
    Village,
    Visit,
    VisitPhoto,
    table_of,
    utcnow,
)
from fieldapp.photos.storage import photo_storage
from fieldapp.replication.rows import load
from sync.errors import SyncError
from sync.replication import BadFeedCursor, FeedCursor, parse_feed_cursor

log = logging.getLogger(__name__)
UNUSABLE_PASSWORD = "!replicated"



@dataclass
class Applied:
    """What one page did at central."""

    cursor: str
    duplicate: bool = False
    counts: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    households: list[str] = field(default_factory=list)


def _cursor(text: Any) -> FeedCursor:
    try:
        return parse_feed_cursor(text if isinstance(text, str) else None)
    except BadFeedCursor:
        raise SyncError("bad_replication_cursor", {"cursor": str(text)[:120]}) from None


def apply_page(session: Session, node_id: int, body: dict[str, Any]) -> Applied:
    """Apply one page of ``node_id``'s feed (``body`` as :func:`feed.read_page` made it)."""
    start, end = _cursor(body.get("from")), _cursor(body.get("to"))
    with write_transaction(session):
        node = session.scalars(sa.select(Node).where(Node.id == node_id).with_for_update()
                               .execution_options(populate_existing=True)).one()
        now = utcnow()
        node.last_contact_at = now
        held = _cursor(node.up_cursor)
        if start != held:
            if end <= held:
                return Applied(cursor=node.up_cursor, duplicate=True)
            raise SyncError("cursor_mismatch", {"cursor": node.up_cursor})
        writer = _PageWriter(session, node, now)
        writer.apply(body)
        node.up_cursor = str(end)
        node.up_pending = max(int(body.get("pending") or 0), 0)
        node.up_applied_at = now
        audit.insert(session, None, "replication_up", "node", node.name,
                     details={"node": node.name, "from": str(start), "to": str(end),
                              "counts": writer.counts, "rejected": writer.rejected})
        return Applied(cursor=str(end), counts=writer.counts, rejected=writer.rejected,
                       households=writer.households)


class _PageWriter:
    """The upserts of one page, in dependency order."""

    def __init__(self, session: Session, node: Node, now: dt.datetime) -> None:
        self.session = session
        self.node = node
        self.now = now
        self.counts: dict[str, int] = {}
        self.rejected = 0
        self.households: list[str] = []
        self.town_name = node.town.name
        self.villages: dict[str, int] = {}
        self.users: dict[str, int] = {}
        self.bad_households: set[str] = set()
        self.accepted: set[str] = set()  # households central holds: stored from this page, or before
        self.bad_visits: set[str] = set()

    # -- the whole page ------------------------------------------------------

    def apply(self, body: dict[str, Any]) -> None:
        refs = body.get("refs") or {}
        self._map_villages(body.get("villages") or {})
        self._map_users(body.get("users") or {})
        self._campaigns(body.get("campaigns") or [])
        households = _unique(list(refs.get("households") or []) + list(body.get("households") or []), "id")
        visits = _unique(list(refs.get("visits") or []) + list(body.get("visits") or []), "uuid")
        candidates = _unique(list(refs.get("candidates") or []) + list(body.get("candidates") or []), "uid")
        revisions = list(body.get("revisions") or [])
        conflicts = list(body.get("conflicts") or [])
        merges = list(body.get("merges") or [])
        decisions = list(body.get("decisions") or [])
        photos = list(body.get("photos") or [])
        numbered = len(households) + len(revisions) + len(visits) + len(conflicts) + len(candidates) \
            + len(merges) + len(decisions) + len(photos)
        self.seq = next_change(self.session, numbered) if numbered else 0
        self._households(households)
        self._revisions(revisions)
        self._batches(body.get("batches") or [])
        self._visits(visits)
        self._conflicts(conflicts)
        self._candidates(candidates)
        self._merges(merges)
        self._decisions(decisions)
        self._settle_commands(body.get("commands") or [])
        self._photos(photos)

    def _number(self) -> int:
        seq = self.seq
        self.seq += 1
        return seq

    def _count(self, name: str, n: int) -> None:
        if n:
            self.counts[name] = self.counts.get(name, 0) + n

    def _reject(self, kind: str, key: str, reason: str, item: dict[str, Any]) -> None:
        self.rejected += 1
        self.session.execute(sa.insert(ReplicationReject), [{
            "node_id": self.node.id, "kind": kind, "key": str(key)[:64], "reason": reason,
            "payload": item, "created_at": self.now}])
        log.warning("replication from %s: %s %s refused: %s", self.node.name, kind, key, reason)

    def _upsert(self, table: sa.Table, rows: list[dict[str, Any]], keys: list[str]) -> None:
        """``INSERT ... ON CONFLICT (keys) DO UPDATE``, executemany (psycopg pipelines the rows:
        seven times faster here than one statement with many VALUES rows), with the driver's
        parameters made by the columns' bind processors and sent as they are
        (``driver_rows``: SQLAlchemy's own per-row work was a third of central's CPU)."""
        if not rows:
            return
        connection = self.session.connection()
        for names, group in _by_columns(rows).items():
            upsert = driver_rows.row_insert(table, connection.dialect, names, keys)
            for start in range(0, len(group), 1000):
                upsert.execute(connection, [upsert.params(row) for row in group[start:start + 1000]])

    # -- who and where -------------------------------------------------------

    def _map_villages(self, villages: dict[str, dict[str, Any]]) -> None:
        town_id = self.node.town_id
        known = {v.name: v.id for v in self.session.scalars(sa.select(Village).where(Village.town_id == town_id))}
        for local_id, ref in villages.items():
            if ref.get("town") != self.town_name:
                continue  # its rows are refused with the reason
            if ref["name"] not in known:
                village = Village(town_id=town_id, name=ref["name"], code=ref.get("code"),
                                  kind=ref.get("kind") or "village")
                self.session.add(village)
                self.session.flush()
                known[ref["name"]] = village.id
            self.villages[local_id] = known[ref["name"]]

    def _village(self, local_id: Any) -> int | None:
        return None if local_id is None else self.villages.get(str(local_id))

    def _map_users(self, users: dict[str, dict[str, Any]]) -> None:
        """A town's users are kept at central as inactive copies (``origin`` = the node), found
        again by ``uid``; a copy of one of central's own users is central's user itself."""
        if not users:
            return
        uids = {ref["uid"] for ref in users.values()}
        existing = {row.uid: row for row in self.session.execute(
            sa.select(User.uid, User.id, User.origin, User.display_name, User.role).where(User.uid.in_(sorted(uids))))}
        for local_id, ref in sorted(users.items()):
            known = existing.get(ref["uid"])
            user_id = known.id if known is not None else None
            if known is None:
                username = f"{str(ref['username'])[:40]}@{self.node.name}"[:50]
                user = User(uid=ref["uid"], origin=self.node.name, username=username,
                            display_name=ref.get("display_name") or ref["username"],
                            role=ref.get("role") or "worker", active=False,
                            password_hash=UNUSABLE_PASSWORD)
                self.session.add(user)
                self.session.flush()
                user_id = user.id
            elif known.origin == self.node.name and (known.display_name, known.role) != (
                    ref.get("display_name") or ref["username"], ref.get("role") or "worker"):
                self.session.execute(sa.update(User).where(User.id == user_id).values(
                    display_name=ref.get("display_name") or ref["username"], role=ref.get("role") or "worker"))
            assert user_id is not None
            self.users[local_id] = user_id

    def _user(self, local_id: Any) -> int | None:
        return None if local_id is None else self.users.get(str(local_id))

    def _campaigns(self, campaigns: list[dict[str, Any]]) -> None:
        """A town's own campaign (one it ran before joining) becomes known at central;
        central's campaigns are never changed by a town."""
        table = table_of(Campaign)
        for item in campaigns:
            if self.session.get(Campaign, item["id"]) is None:
                row = load(table, item)
                row["active"] = False
                self.session.execute(sa.insert(Campaign), [row])

    # -- rows ------------------------------------------------------------------

    def _households(self, items: list[dict[str, Any]]) -> None:
        table = table_of(Household)
        codes = {item["code"]: item["id"] for item in items if item.get("code")}
        taken: dict[str, str] = {}
        if codes:
            taken = {row.code: row.id for row in self.session.execute(
                sa.select(Household.code, Household.id).where(
                    Household.town_id == self.node.town_id, Household.code.in_(sorted(codes))))}
        rows = []
        for item in items:
            village_id = self._village(item.get("village_id"))
            if village_id is None:
                self._reject_household(item, f"村不属于本节点的乡镇（{self.town_name}）")
                continue
            if item.get("code") and taken.get(item["code"], item["id"]) != item["id"]:
                self._reject_household(item, f"户编号 {item['code']} 在中心已属于另一户")
                continue
            row = load(table, item)
            row.update(town_id=self.node.town_id, village_id=village_id, change_seq=self._number())
            rows.append(row)
            self.households.append(item["id"])
            self.accepted.add(item["id"])
        self._upsert(table, rows, ["id"])
        self._count("households", len(rows))
        # Their members as the town holds them (a household item of the feed carries them).
        applied = {row["id"] for row in rows}
        by_source: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for item in items:
            if item["id"] in applied and isinstance(item.get("members"), list):
                by_source.setdefault(item.get("members_source") or "roster", {})[item["id"]] = item["members"]
        for source, lists in by_source.items():
            write_members(self.session, lists, self.now, source=source)

    def _keep(self, kind: str, items: list[dict[str, Any]], refused: Callable[[dict[str, Any]], bool],
              reason: str) -> list[dict[str, Any]]:
        """The items not ``refused``; the others are kept as rejects with ``reason``."""
        kept = []
        for item in items:
            if refused(item):
                self._reject(kind, item["uid"], reason, item)
            else:
                kept.append(item)
        return kept

    def _reject_household(self, item: dict[str, Any], reason: str) -> None:
        self.bad_households.add(item["id"])
        self._reject("household", item["id"], reason, item)

    def _dependent(self, kind: str, key: str, item: dict[str, Any], household_ids: Iterable[Any]) -> bool:
        """Whether the row hangs on a household central does not hold: refused in this page,
        or refused in an earlier one (then it is refused too, with the reason)."""
        if any(h in self.bad_households for h in household_ids if h):
            self._reject(kind, key, "所属农户未能同步", item)
            return True
        return False

    def _note_absent(self, household_ids: set[Any]) -> None:
        """Households named by the page's rows that central holds neither from this page nor
        from before (refused in an earlier page): their rows are refused, never a failed page."""
        unknown = sorted(h for h in household_ids if h and h not in self.bad_households
                         and h not in self.accepted)
        held: set[Any] = set()
        for start in range(0, len(unknown), 900):
            held.update(self.session.scalars(sa.select(Household.id).where(
                Household.id.in_(unknown[start:start + 900]))))
        self.accepted.update(held)
        self.bad_households.update(set(unknown) - held)

    def _rows(self, kind: str, model: Any, items: list[dict[str, Any]], key: str,
              households: Callable[[dict[str, Any]], Iterable[Any]],
              fix: Callable[[dict[str, Any], dict[str, Any]], None]) -> list[dict[str, Any]]:
        table = table_of(model)
        self._note_absent({h for item in items for h in households(item)})
        village_required = "village_id" in table.c and not table.c.village_id.nullable
        rows = []
        for item in items:
            if self._dependent(kind, str(item.get(key)), item, households(item)):
                continue
            row = load(table, item)
            if key != "id":
                row.pop("id", None)  # the town's own integer id; central numbers its rows itself
            fix(row, item)
            if village_required and row.get("village_id") is None:
                self._reject(kind, str(item.get(key)), f"村不属于本节点的乡镇（{self.town_name}）", item)
                continue
            row["change_seq"] = self._number()
            rows.append(row)
        return rows

    def _revisions(self, items: list[dict[str, Any]]) -> None:
        def fix(row: dict[str, Any], item: dict[str, Any]) -> None:
            row["user_id"] = self._user(item.get("user_id"))

        rows = self._rows("revision", HouseholdRevision, items, "household_id",
                          lambda i: [i["household_id"]], fix)
        self._upsert(table_of(HouseholdRevision), rows, ["household_id", "rev"])
        self._count("revisions", len(rows))

    def _batches(self, items: list[dict[str, Any]]) -> None:
        table = table_of(SyncBatch)
        rows = []
        for item in items:
            row = load(table, item)
            user_id = self._user(item.get("user_id"))
            if user_id is None:
                continue
            row["user_id"] = user_id
            rows.append(row)
        self._upsert(table, rows, ["id"])

    def _visits(self, items: list[dict[str, Any]]) -> None:
        def fix(row: dict[str, Any], item: dict[str, Any]) -> None:
            row.update(village_id=self._village(item.get("village_id")),
                       worker_id=self._user(item.get("worker_id")),
                       reviewed_by_id=self._user(item.get("reviewed_by_id")))

        rows = self._rows("visit", Visit, items, "uuid", lambda i: [i["household_id"]], fix)
        self.bad_visits = {item["uuid"] for item in items} - {row["uuid"] for row in rows}
        self._upsert(table_of(Visit), rows, ["uuid"])
        self._count("visits", len(rows))

    def _conflicts(self, items: list[dict[str, Any]]) -> None:
        def fix(row: dict[str, Any], item: dict[str, Any]) -> None:
            row.update(village_id=self._village(item.get("village_id")),
                       resolved_by_id=self._user(item.get("resolved_by_id")))

        kept = self._keep("conflict", items, lambda i: i["visit_uuid"] in self.bad_visits, "所属走访未能同步")
        rows = self._rows("conflict", Conflict, kept, "uid", lambda i: [i["household_id"]], fix)
        self._upsert(table_of(Conflict), rows, ["uid"])
        self._count("conflicts", len(rows))

    def _candidates(self, items: list[dict[str, Any]]) -> None:
        pairs = {(i["household_a_id"], i["household_b_id"]): i["uid"] for i in items}
        clash: set[tuple[str, str]] = set()
        if pairs:
            for row in self.session.execute(sa.select(
                    DuplicateCandidate.household_a_id, DuplicateCandidate.household_b_id, DuplicateCandidate.uid)
                    .where(DuplicateCandidate.household_a_id.in_(sorted({a for a, _ in pairs})))):
                pair = (row.household_a_id, row.household_b_id)
                if pair in pairs and pairs[pair] != row.uid:
                    clash.add(pair)

        def fix(row: dict[str, Any], item: dict[str, Any]) -> None:
            row.update(village_id=self._village(item.get("village_id")),
                       decided_by_id=self._user(item.get("decided_by_id")))

        kept = self._keep("candidate", items, lambda i: (i["household_a_id"], i["household_b_id"]) in clash,
                          "中心已有这一对农户的疑似重复记录")
        rows = self._rows("candidate", DuplicateCandidate, kept, "uid",
                          lambda i: [i["household_a_id"], i["household_b_id"]], fix)
        self._upsert(table_of(DuplicateCandidate), rows, ["uid"])
        self._count("candidates", len(rows))

    def _merges(self, items: list[dict[str, Any]]) -> None:
        uids = {i.get("candidate_uid") for i in items if i.get("candidate_uid")}
        ids: dict[Any, int] = dict(self.session.execute(sa.select(DuplicateCandidate.uid, DuplicateCandidate.id)
                                        .where(DuplicateCandidate.uid.in_(sorted(uids)))).all()) if uids else {}

        def fix(row: dict[str, Any], item: dict[str, Any]) -> None:
            row.update(candidate_id=ids.get(item.get("candidate_uid")),
                       merged_by_id=self._user(item.get("merged_by_id")),
                       undone_by_id=self._user(item.get("undone_by_id")))

        rows = self._rows("merge", HouseholdMerge, items, "uid",
                          lambda i: [i["survivor_id"], i["merged_id"]], fix)
        self._upsert(table_of(HouseholdMerge), rows, ["uid"])
        self._count("merges", len(rows))

    def _decisions(self, items: list[dict[str, Any]]) -> None:
        def fix(row: dict[str, Any], item: dict[str, Any]) -> None:
            row.update(village_id=self._village(item.get("village_id")),
                       resolved_by_id=self._user(item.get("resolved_by_id")))

        rows = self._rows("decision", DecisionConflict, items, "uid", lambda i: [], fix)
        self._upsert(table_of(DecisionConflict), rows, ["uid"])
        self._count("decisions", len(rows))

    def _settle_commands(self, items: list[dict[str, Any]]) -> None:
        """The town's record of applying central's commands settles them here."""
        for item in items:
            self.session.execute(sa.update(ReplicationCommand).where(
                ReplicationCommand.uid == item["uid"], ReplicationCommand.node_id == self.node.id)
                .values(status=item["status"], message=item.get("message"), settled_at=self.now))
        self._count("commands", len(items))

    def _photos(self, items: list[dict[str, Any]]) -> None:
        """Complete photos with their bytes: checked against their SHA-256, stored in central's
        photo storage, the row upserted. Idempotent by the bytes: a photo central holds for
        the visit already (same SHA-256) is left as it is."""
        if not items:
            return
        visits = {item["visit_uuid"] for item in items}
        known = set(self.session.scalars(sa.select(Visit.uuid).where(Visit.uuid.in_(sorted(visits)))))
        held = set(self.session.execute(sa.select(VisitPhoto.visit_uuid, VisitPhoto.sha256, VisitPhoto.id)
                                        .where(VisitPhoto.visit_uuid.in_(sorted(visits)))).all())
        held_bytes = {(v, sha) for v, sha, _id in held}
        held_ids = {(v, sha): photo_id for v, sha, photo_id in held}
        storage = photo_storage()
        table = table_of(VisitPhoto)
        rows = []
        for item in items:
            visit_uuid, sha = item["visit_uuid"], item["sha256"]
            if visit_uuid in self.bad_visits or visit_uuid not in known:
                self._reject("photo", item["id"], "所属走访未能同步", _without_data(item))
                continue
            if (visit_uuid, sha) in held_bytes and held_ids[(visit_uuid, sha)] != item["id"]:
                continue  # the same bytes under another id: central has the photo
            data = base64.b64decode(str(item.get("data") or ""), validate=True)
            if hashlib.sha256(data).hexdigest() != sha or len(data) != item["length"]:
                self._reject("photo", item["id"], "照片内容与校验值不符", _without_data(item))
                continue
            worker_id = self._user(item.get("worker_id"))
            if worker_id is None:
                self._reject("photo", item["id"], "上传照片的网格员未能同步", _without_data(item))
                continue
            row = load(table, item)
            row.update(worker_id=worker_id, storage_key=f"{visit_uuid}/{item['id']}", change_seq=self._number())
            storage.put(row["storage_key"], data)
            rows.append(row)
        self._upsert(table, rows, ["id"])
        self._count("photos", len(rows))


def _without_data(item: dict[str, Any]) -> dict[str, Any]:
    """A photo's row as a reject keeps it: without its bytes."""
    return {key: value for key, value in item.items() if key != "data"}


def _by_columns(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """The rows grouped by the columns they give (a town on an older schema lacks some)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return groups


def _unique(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """One item per key, the last one (the page's own row after a ride-along copy)."""
    found: dict[Any, dict[str, Any]] = {}
    for item in items:
        found[item[key]] = item
    return list(found.values())
