"""The storage interface the ingest engine talks to, and the plain shapes it exchanges.

Shapes: everything crossing this boundary is a frozen dataclass or a plain
dict of JSON values, never an ORM object, so the engine stays testable
without a database and free of Flask. Reads come in bulk (one call per batch
for visits, households, revisions); all writes of a batch arrive together in
one :class:`BatchWrite`, which the store applies with bulk statements inside
the transaction opened by :meth:`Store.begin_write` and made durable by
:meth:`Store.commit`.

``fieldapp/sync_store.py`` implements :class:`Store` over SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync.dedup import BlockingKeys, HouseholdRecord
from sync.dedup.members import MemberOf


@dataclass(frozen=True)
class VillageRef:
    id: int
    name: str
    town_id: int


@dataclass(frozen=True)
class Actor:
    """Who pushes: a user with a village scope.

    :param village_ids: the villages the user may read and write; ``None`` means all (admin)
    :param villages: the user's assigned villages in order (a new household goes to the first)
    """

    user_id: int
    role: str
    village_ids: frozenset[int] | None
    villages: tuple[VillageRef, ...] = ()

    def may_access(self, village_id: int) -> bool:
        return self.village_ids is None or village_id in self.village_ids


@dataclass(frozen=True)
class CampaignInfo:
    id: str
    form_version: str
    monitoring_line: float
    start: dt.date
    end: dt.date
    active: bool
    closed: bool


@dataclass
class HouseholdState:
    """A household as the merge sees it: its revision and its form field values."""

    id: str
    village_id: int
    town_id: int
    rev: int
    values: dict[str, Any]
    merged_into_id: str | None = None
    change_seq: int = 0

    @property
    def version(self) -> HouseholdVersion:
        return HouseholdVersion(self.rev, self.change_seq, self.merged_into_id)


@dataclass(frozen=True)
class HouseholdVersion:
    """What changes whenever anything changes a household: every writer bumps the
    pull change number, a field edit the revision, a merge ``merged_into_id``."""

    rev: int
    change_seq: int
    merged_into_id: str | None


@dataclass(frozen=True)
class StoredVisit:
    uuid: str
    household_id: str
    village_id: int
    worker_id: int
    sync_status: str
    review_status: str


def records_digest(uuids: Iterable[str]) -> str:
    """What tells a replay of a batch from other records sent under its id: a
    SHA-256 of the records' uuids in request order (a batch's results name them
    in the same order)."""
    return hashlib.sha256("\n".join(uuids).encode()).hexdigest()


@dataclass(frozen=True)
class StoredBatch:
    """A stored batch; ``digest`` is ``None`` for one stored before digests were kept."""

    id: str
    user_id: int
    received_at: dt.datetime
    results: list[dict[str, Any]]
    digest: str | None = None

    @property
    def records_digest(self) -> str:
        return self.digest or records_digest(r["uuid"] for r in self.results)


# -- what one batch writes ----------------------------------------------------


@dataclass
class NewHousehold:
    """A household to insert (``head_pinyin``/``head_initials`` empty: worked out from the name).

    :param source: ``field`` (created by a visit) or ``roster``
    """

    id: str
    town_id: int
    village_id: int
    values: dict[str, Any]
    head_pinyin: str = ""
    head_initials: str = ""
    rev: int = 1
    change_seq: int = 0
    code: str | None = None
    source: str = "field"


# ``HouseholdUpdate.merged_into`` when the update leaves ``merged_into_id`` as it is.
UNCHANGED = "unchanged"


@dataclass
class HouseholdUpdate:
    """The final state of an existing household after a transaction (full field values).

    :param revised: the values and ``rev`` changed (a revision row goes with it); else
        only the change number (and what is set below) is written
    :param head_pinyin: set when the name changed, else ``None``
    :param village_id: the household moved to this village (``None``: it did not)
    :param merged_into: the new ``merged_into_id`` (``None`` unmerges), or :data:`UNCHANGED`
    :param expected: the version the batch was worked out on, for a batch worked
        out before the write lock: the store writes only if the household is
        still at it, and raises :class:`StaleHousehold` otherwise
    """

    id: str
    rev: int
    values: dict[str, Any]
    head_pinyin: str | None
    head_initials: str | None
    change_seq: int = 0
    expected: HouseholdVersion | None = None
    revised: bool = True
    village_id: int | None = None
    merged_into: str | None = UNCHANGED


class StaleHousehold(Exception):
    """A household changed after the batch was worked out; nothing may be written."""


@dataclass
class RevisionRow:
    """A household's field snapshot at ``rev``, why it changed (``reason``: roster, visit,
    resolution, merge, undo) and by whom."""

    household_id: str
    rev: int
    values: dict[str, Any]
    changed: list[str]
    visit_uuid: str | None
    user_id: int | None
    reason: str = "visit"


@dataclass
class VisitRow:
    uuid: str
    campaign_id: str
    household_id: str
    village_id: int
    worker_id: int
    device_id: str
    batch_id: str
    form_version: str
    base_rev: int | None
    supersedes: str | None
    started_at: dt.datetime | None
    visited_at: dt.datetime | None
    visited_on: dt.date | None
    received_at: dt.datetime
    data: dict[str, Any]
    location: dict[str, Any] | None
    sync_status: str
    computed: dict[str, Any]
    server_seq: int = 0
    photos_expected: int | None = None


@dataclass
class ConflictRow:
    household_id: str
    visit_uuid: str
    village_id: int
    field: str
    base_value: Any
    current_value: Any
    incoming_value: Any
    current_rev: int


@dataclass
class CandidateRow:
    household_a_id: str
    household_b_id: str
    village_id: int
    campaign_id: str
    visit_uuid: str
    score: float
    evidence: list[str]


@dataclass
class BatchRow:
    id: str
    user_id: int
    device_id: str
    app_version: str | None
    received_at: dt.datetime
    record_count: int
    counts: dict[str, int]
    results: list[dict[str, Any]]

    @property
    def records_digest(self) -> str:
        return records_digest(r["uuid"] for r in self.results)


@dataclass
class HouseholdChanges:
    """The households one transaction creates and updates, and their revision rows
    (made by :class:`sync.households.HouseholdWriter`)."""

    created: list[NewHousehold] = field(default_factory=list)
    updates: list[HouseholdUpdate] = field(default_factory=list)
    revisions: list[RevisionRow] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many change numbers the households take (one each)."""
        return len(self.created) + len(self.updates)

    def number(self, first: int) -> int:
        """Give the households the change numbers ``first``, ``first + 1``, …; return the next."""
        seq = first
        for created in self.created:
            created.change_seq = seq
            seq += 1
        for update in self.updates:
            update.change_seq = seq
            seq += 1
        return seq


@dataclass
class BatchWrite:
    batch: BatchRow
    households: HouseholdChanges = field(default_factory=HouseholdChanges)
    visits: list[VisitRow] = field(default_factory=list)
    conflicts: list[ConflictRow] = field(default_factory=list)
    candidates: list[CandidateRow] = field(default_factory=list)
    superseded: dict[str, int] = field(default_factory=dict)  # visit uuid -> change_seq

    @property
    def change_count(self) -> int:
        """How many pull change numbers the batch takes: one per row a phone may pull."""
        return len(self.visits) + len(self.superseded) + self.households.count

    def number(self, first: int) -> None:
        """Give the rows the change numbers ``first``, ``first + 1``, ... reserved for them.

        Households first: a visit then comes after its household in the replication feed,
        so a page of visits needs no copy of households that the feed has yet to reach."""
        seq = self.households.number(first)
        for visit in self.visits:
            visit.server_seq = seq
            seq += 1
        for uuid in self.superseded:
            self.superseded[uuid] = seq
            seq += 1


class Store(Protocol):
    """What ingest needs from storage. One instance serves one batch."""

    def find_batch(self, batch_id: str) -> StoredBatch | None:
        """The stored batch with this id, if any."""

    def load_campaigns(self, ids: Iterable[str]) -> dict[str, CampaignInfo]:
        """Campaigns by id (unknown ids are absent)."""

    def load_visits(self, uuids: Iterable[str]) -> dict[str, StoredVisit]:
        """Stored visits by uuid (unknown uuids are absent)."""

    def begin_write(self) -> None:
        """Open the batch's write transaction (SQLite: ``BEGIN IMMEDIATE``)."""

    def load_households(self, ids: Iterable[str], *, lock: bool) -> dict[str, HouseholdState]:
        """Households by id. With ``lock``, rows are locked until commit, taken in
        sorted id order so that two batches never wait on each other in a cycle."""

    def load_revisions(self, keys: Iterable[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
        """Field snapshots by ``(household_id, rev)``; missing ones are absent."""

    def find_villages(self, name: str) -> list[VillageRef]:
        """Villages with this name."""

    def find_duplicates(self, keys: BlockingKeys) -> list[HouseholdRecord]:
        """Live (not merged) households found under any of the blocking keys."""

    def find_member_households(self, id_number: str) -> list[MemberOf]:
        """Live households that list ``id_number`` among their members."""

    def dismissed_pairs(self, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of the canonical ``(a, b)`` pairs a supervisor dismissed before."""

    def prepare_rows(self, batch: BatchWrite) -> None:
        """Get the batch's rows ready for the database now, outside the write lock,
        as far as that can be done before the change numbers are known."""

    def write_unnumbered(self, batch: BatchWrite) -> None:
        """Write the rows that take no change number and depend on no household's
        version (the batch row and its audit entry). Called before
        :meth:`reserve_changes`: on PostgreSQL the reservation holds the counter
        row's lock until commit, and every other writer waits for it."""

    def reserve_changes(self, count: int) -> int:
        """Reserve ``count`` consecutive pull change numbers; return the first."""

    def write(self, batch: BatchWrite) -> None:
        """Write the rest of the batch (bulk statements, no commit). Households are
        updated first; :class:`StaleHousehold` if one is no longer at its expected version."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


def household_record(state: HouseholdState | NewHousehold) -> HouseholdRecord:
    """The dedup view of a household."""
    values: Mapping[str, Any] = state.values
    return HouseholdRecord(
        id=state.id, village_id=state.village_id, head_name=str(values.get("head_name") or ""),
        head_id=str(values.get("head_id") or ""), phone=values.get("phone"),
        group=values.get("group"), hamlet=values.get("hamlet"), size=values.get("size"),
        town_id=state.town_id,
    )
