"""Ingest one push batch: validate -> dedup -> merge -> store, in one transaction.

Shapes: input is a :class:`~sync.protocol.PushRequest` (envelope already
checked) and an :class:`~sync.store.Actor`; output is the HTTP response
body of docs/sync-protocol.md, ``{"batch_id", "received_at", "results"}``, one
result per record in request order. All writes go through one
:class:`~sync.store.BatchWrite` handed to the store.

Two phases keep the write lock short:

1. Outside the write transaction (so that several app processes work in
   parallel): a replayed ``batch_id`` is answered from the stored results;
   each record not stored before is checked against its campaign and form;
   then the whole batch is worked out (a plan) on the households as read
   now: every record applied in request order to an in-memory view of its
   household, giving the results and every row to write.
2. Inside it (``store.begin_write()``): the plan is written, each household
   update conditional on the version (revision, change number, not merged)
   the plan read. If a household moved on meanwhile (a concurrent push,
   review or merge came first), the store raises :class:`StaleHousehold`
   and the transaction is rolled back and begun again, the batch and
   visit look-ups repeated and the batch worked out again on rows locked in
   sorted id order. A batch that may create households is always worked
   out under the lock, so that its duplicate search sees every household
   committed before it. The pull change numbers are reserved as late as
   possible: the rows that take none (the batch row, the audit entry) are
   written first, because the counter row is the one lock every writer
   shares and is held to commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sync.dedup import blocking_keys, match_one
from sync.dedup.members import with_member_links
from sync.errors import SyncError
from sync.form import CHINA, FormContext, FormDefinition, load_form
from sync.households import HouseholdWriter
from sync.merge import three_way_merge
from sync.protocol import PushRecord, PushRequest
from sync.store import (
    Actor,
    BatchRow,
    BatchWrite,
    CampaignInfo,
    CandidateRow,
    ConflictRow,
    HouseholdState,
    NewHousehold,
    StaleHousehold,
    Store,
    StoredBatch,
    StoredVisit,
    VillageRef,
    VisitRow,
    household_record,
    records_digest,
)

log = logging.getLogger(__name__)

COMPUTED_COLUMNS = ("net_income", "per_capita_income", "monitoring_income", "conclusion", "visit_method")
MAX_MERGE_CHAIN = 20

# Per-record refusal codes (the ``errors`` values of a rejected result).
OUT_OF_SCOPE = "out_of_scope"
UNKNOWN_CAMPAIGN = "unknown_campaign"
CAMPAIGN_CLOSED = "campaign_closed"
UNKNOWN_FORM_VERSION = "unknown_form_version"
SUPERSEDES_NOT_FOUND = "not_found"
SUPERSEDES_OTHER_HOUSEHOLD = "other_household"
SUPERSEDES_NOT_RETURNED = "not_returned"
VILLAGE_REQUIRED = "required"
NUMBER_OUT_OF_RANGE = "数值超出范围"
UNCHECKABLE = "该记录无法校验，请联系管理员"
MAX_SAFE_INTEGER = 2**53 - 1


@dataclass
class Checked:
    """A record after phase 1: its refusal, or its validated values and flags."""

    errors: dict[str, list[str]] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)
    form: FormDefinition | None = None


def format_time(moment: dt.datetime) -> str:
    """ISO 8601 in UTC; naive values (SQLite) are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat()


def batch_response(batch: StoredBatch) -> dict[str, Any]:
    return {"batch_id": batch.id, "received_at": format_time(batch.received_at), "results": batch.results}


def check_record(record: PushRecord, campaigns: dict[str, CampaignInfo],
                 today: dt.date | None = None) -> Checked:
    """Phase 1 for one record: campaign, form version, then the form's own validation.

    :param record: the record, envelope already checked
    :param campaigns: the campaigns the batch names, by id
    :param today: the date in China (tests pin it); ``None`` for the real date
    """
    campaign = campaigns.get(record.campaign_id)
    if campaign is None:
        return Checked(errors={"campaign_id": [UNKNOWN_CAMPAIGN]})
    if campaign.closed:
        return Checked(errors={"campaign_id": [CAMPAIGN_CLOSED]})
    try:
        form = load_form(record.form_version)
    except KeyError:
        return Checked(errors={"form_version": [UNKNOWN_FORM_VERSION]})
    unsafe = _unsafe_numbers(record.data)
    if unsafe:
        return Checked(errors={key: [NUMBER_OUT_OF_RANGE] for key in unsafe})
    context = FormContext(monitoring_line=campaign.monitoring_line, start=campaign.start,
                          end=campaign.end, today=today)
    try:
        validation = form.validate(record.data, context)
    except Exception:  # noqa: BLE001 - one record that breaks the validator must not fail its batch
        log.exception("push record %s (form %s): validation failed", record.uuid, record.form_version)
        return Checked(errors={"data": [UNCHECKABLE]})
    if validation.errors:
        return Checked(errors=validation.errors)
    return Checked(values=validation.values, flags=validation.flags, form=form)


def _unsafe_numbers(data: Mapping[str, Any]) -> list[str]:
    """Answers holding an integer beyond what a JavaScript number represents exactly
    (the phone could not have meant it, and float arithmetic on it overflows)."""
    found = []
    for key, value in data.items():
        kind = type(value)
        if kind is int:
            unsafe = not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
        elif kind is list:
            unsafe = _unsafe_items(value)
        else:
            continue
        if unsafe:
            found.append(str(key))
    return found


def _unsafe_items(items: list[Any]) -> bool:
    """Whether a list answer holds such an integer, itself or in one of its records (a repeat's)."""
    for item in items:
        kind = type(item)
        if kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return True
        elif kind is dict and _unsafe_numbers(item):
            return True
    return False


class BatchIngest:
    """Applies one batch; see the module docstring for the phases.

    :param store: the storage for this batch
    :param actor: the pushing user and their scope
    :param request: the checked envelope
    :param today: the date in China for validation (``None``: the day the batch is received)
    :param new_id: makes ids for new households (tests may pin it)
    """

    def __init__(self, store: Store, actor: Actor, request: PushRequest, *,
                 today: dt.date | None = None,
                 new_id: Callable[[], str] = lambda: str(uuidlib.uuid4())) -> None:
        self.store = store
        self.actor = actor
        self.request = request
        self.today = today
        self.new_id = new_id
        self.checked: dict[int, Checked] = {}
        self.campaigns: dict[str, CampaignInfo] = {}
        self.plan: BatchWrite | None = None

    # -- phase 1 -------------------------------------------------------------

    def prepare(self, received_at: dt.datetime) -> dict[str, Any] | None:
        """Answer a replayed batch, else validate the records not stored before and
        work the batch out on the households as they are now."""
        stored = self.store.find_batch(self.request.batch_id)
        if stored is not None:
            return self._replay(stored)
        known = self._load_known_visits()
        self.campaigns = self.store.load_campaigns({r.campaign_id for r in self.request.records})
        for index, record in enumerate(self.request.records):
            if record.uuid not in known:
                self.checked[index] = check_record(record, self.campaigns, self._today(received_at))
        if not self._creates_households(known):
            self.plan = self._work_out(known, received_at, lock=False)
            self.store.prepare_rows(self.plan)
        return None

    def _today(self, received_at: dt.datetime) -> dt.date:
        """The date in China the records are checked against: the pinned one, else the
        day the batch was received (worked out once, not for each date and ID number)."""
        return self.today or received_at.astimezone(CHINA).date()

    def _creates_households(self, known: dict[str, StoredVisit]) -> bool:
        """Whether a record may create a household: its duplicate search must see every
        household committed before it, so such a batch is worked out under the lock."""
        return any(record.household_id is None and not record.supersedes and record.uuid not in known
                   and not self.checked[index].errors
                   for index, record in enumerate(self.request.records))

    def _replay(self, stored: StoredBatch) -> dict[str, Any]:
        """The stored answer to a batch sent again; a 409 if the id came with other records
        (answering those from the stored results would tell the phone they are stored)."""
        if stored.user_id != self.actor.user_id:
            raise SyncError("batch_id_conflict", {"batch_id": stored.id})
        if stored.records_digest != records_digest(r.uuid for r in self.request.records):
            raise SyncError("batch_conflict", {"batch_id": stored.id})
        return batch_response(stored)

    # -- phase 2 -------------------------------------------------------------

    def apply(self, received_at: dt.datetime) -> dict[str, Any]:
        """Inside the write transaction: write the plan if no household it read has
        changed since, else work the batch out again on locked rows; commit.

        The plan does not look for the batch or its visits again: had another
        push stored them meanwhile, it would have moved their households on
        (stale plan), or, for a batch of rejected records only, the batch insert
        breaks its unique key and the caller retries, answering from what is stored.
        """
        store = self.store
        store.begin_write()
        if self.plan is not None:
            try:
                return self._write(self.plan, received_at)
            except StaleHousehold:
                store.rollback()
                store.begin_write()
        stored = store.find_batch(self.request.batch_id)
        if stored is not None:
            store.rollback()
            return self._replay(stored)
        return self._write(self._work_out(self._load_known_visits(), received_at, lock=True), received_at)

    def _load_known_visits(self) -> dict[str, StoredVisit]:
        """The stored visits among the batch's uuids and the visits it supersedes."""
        records = self.request.records
        return self.store.load_visits({r.uuid for r in records} | {r.supersedes for r in records if r.supersedes})

    def _write(self, write: BatchWrite, received_at: dt.datetime) -> dict[str, Any]:
        self.store.write_unnumbered(write)
        count = write.change_count
        write.number(self.store.reserve_changes(count) if count else 0)
        self.store.write(write)
        self.store.commit()
        return {"batch_id": self.request.batch_id, "received_at": format_time(received_at),
                "results": write.batch.results}

    def _work_out(self, known: dict[str, StoredVisit], received_at: dt.datetime, *, lock: bool) -> BatchWrite:
        """Apply every record in request order to an in-memory view of its household.

        Without ``lock`` (the plan), each household update carries the version it
        was worked out on, for the store to check at write time.
        """
        store = self.store
        records = self.request.records
        # Records stored before change nothing: their households are neither read nor locked.
        households = self._load_households([r for r in records if r.uuid not in known], known, lock)
        versions = {} if lock else {household.id: household.version for household in households.values()}
        revisions = store.load_revisions(
            (households[h].id, r.base_rev) for r in records
            if r.base_rev is not None and (h := self._target_id(r, known, households)) is not None
            and r.base_rev < households[h].rev
        )
        # The households' starting values are the base of records filled against
        # their current revision, even after an earlier record of the batch moved it on.
        for household in households.values():
            revisions[(household.id, household.rev)] = dict(household.values)
        state = _BatchState(actor=self.actor, received_at=received_at, households=households,
                            revisions=revisions, known=known, store=store, new_id=self.new_id,
                            request=self.request)
        for index, record in enumerate(records):
            checked = self.checked.get(index)
            if checked is None and record.uuid not in known and record.uuid not in state.stored:
                checked = check_record(record, self.campaigns or store.load_campaigns([record.campaign_id]),
                                       self._today(received_at))
            state.results.append(state.apply(record, checked))
        write = state.finish()
        if not lock:
            for update in write.households.updates:
                update.expected = versions[update.id]
        return write

    def _load_households(self, records: Iterable[PushRecord], known: dict[str, StoredVisit],
                         lock: bool) -> dict[str, HouseholdState]:
        """Every household the batch may touch, following merges to the survivor."""
        wanted = {r.household_id for r in records if r.household_id}
        wanted |= {known[r.supersedes].household_id for r in records
                   if r.supersedes and r.supersedes in known}
        households: dict[str, HouseholdState] = {}
        for _ in range(MAX_MERGE_CHAIN):
            missing = sorted(wanted - households.keys())
            if not missing:
                break
            found = self.store.load_households(missing, lock=lock)
            households.update(found)
            wanted = {h.merged_into_id for h in found.values() if h.merged_into_id}
        return households

    @staticmethod
    def _target_id(record: PushRecord, known: dict[str, StoredVisit],
                   households: dict[str, HouseholdState]) -> str | None:
        household_id = record.household_id
        if household_id is None and record.supersedes and record.supersedes in known:
            household_id = known[record.supersedes].household_id
        return resolve(household_id, households)


def resolve(household_id: str | None, households: dict[str, HouseholdState]) -> str | None:
    """Follow ``merged_into_id`` to the surviving household (``None`` if unknown)."""
    seen = 0
    while household_id is not None and household_id in households and seen < MAX_MERGE_CHAIN:
        survivor = households[household_id].merged_into_id
        if survivor is None:
            return household_id
        household_id = survivor
        seen += 1
    return None


@dataclass
class _BatchState:
    """The in-memory view of the batch while its records are applied in order."""

    actor: Actor
    received_at: dt.datetime
    households: dict[str, HouseholdState]
    revisions: dict[tuple[str, int], dict[str, Any]]
    known: dict[str, StoredVisit]
    store: Store
    new_id: Callable[[], str]
    request: PushRequest
    results: list[dict[str, Any]] = field(default_factory=list)
    stored: dict[str, StoredVisit] = field(default_factory=dict)
    new_households: dict[str, NewHousehold] = field(default_factory=dict)
    writer: HouseholdWriter = field(default_factory=lambda: HouseholdWriter(()))
    visits: list[VisitRow] = field(default_factory=list)
    conflicts: list[ConflictRow] = field(default_factory=list)
    candidates: list[CandidateRow] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)

    def apply(self, record: PushRecord, checked: Checked | None) -> dict[str, Any]:
        earlier = self.stored.get(record.uuid) or self.known.get(record.uuid)
        if earlier is not None:
            return self._already_received(record, earlier)
        assert checked is not None
        if checked.errors:
            return _rejected(record, checked.errors)
        assert checked.form is not None
        fields = [f.id for f in checked.form.household_fields]
        incoming = {name: checked.values.get(name) for name in fields}

        household_id = record.household_id
        if record.supersedes:
            old = self.stored.get(record.supersedes) or self.known.get(record.supersedes)
            if old is None or not self.actor.may_access(old.village_id):
                return _rejected(record, {"supersedes": [SUPERSEDES_NOT_FOUND]})
            old_target = resolve(old.household_id, self.households) or (
                old.household_id if old.household_id in self.new_households else None)
            if household_id is None:
                household_id = old_target
            elif old_target != resolve(household_id, self.households):
                return _rejected(record, {"supersedes": [SUPERSEDES_OTHER_HOUSEHOLD]})
            if old.review_status != "returned":  # a pending or approved visit is not replaced silently
                return _rejected(record, {"supersedes": [SUPERSEDES_NOT_RETURNED]})

        if household_id is None:
            return self._new_household(record, checked, incoming)
        if household_id in self.new_households:
            return self._existing(record, checked, self.households[household_id], incoming, fields)
        target = resolve(household_id, self.households)
        if target is None or not self.actor.may_access(self.households[target].village_id):
            return _rejected(record, {"household_id": [OUT_OF_SCOPE]})
        return self._existing(record, checked, self.households[target], incoming, fields)

    def _already_received(self, record: PushRecord, earlier: StoredVisit) -> dict[str, Any]:
        """A uuid stored before. Its household and status only for whoever may see the
        visit: its worker, or a reviewer of its village (another worker sending the
        uuid learns nothing about it)."""
        result: dict[str, Any] = {"uuid": record.uuid, "status": "already_received"}
        if earlier.worker_id == self.actor.user_id or (
                self.actor.role != "worker" and self.actor.may_access(earlier.village_id)):
            result.update(original_status=earlier.sync_status, household_id=earlier.household_id)
        return result

    def _base(self, state: HouseholdState, base_rev: int | None) -> dict[str, Any] | None:
        if base_rev is None or base_rev > state.rev:
            return None
        if base_rev == state.rev:
            return state.values
        return self.revisions.get((state.id, base_rev))

    def _existing(self, record: PushRecord, checked: Checked, state: HouseholdState,
                  incoming: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        merged = three_way_merge(self._base(state, record.base_rev), state.values, incoming, fields)
        self.writer.touch(state)
        if self.writer.revise(state, merged.values, reason="visit", user_id=self.actor.user_id,
                              visit_uuid=record.uuid, changed=merged.changed):
            self.revisions[(state.id, state.rev)] = dict(state.values)
        status = "conflict" if merged.conflicts else "accepted"
        for conflict in merged.conflicts:
            self.conflicts.append(ConflictRow(
                household_id=state.id, visit_uuid=record.uuid, village_id=state.village_id,
                field=conflict.field, base_value=conflict.base, current_value=conflict.current,
                incoming_value=conflict.incoming, current_rev=state.rev))
        self._store_visit(record, checked, state, status)
        result: dict[str, Any] = {"uuid": record.uuid, "status": status, "household_id": state.id,
                                  "household_rev": state.rev}
        if merged.conflicts:
            result["conflicts"] = merged.conflict_fields
        return result

    def _new_household(self, record: PushRecord, checked: Checked,
                       incoming: dict[str, Any]) -> dict[str, Any]:
        village = self._village_for(record)
        if isinstance(village, dict):
            return _rejected(record, village)
        created = NewHousehold(id=self.new_id(), town_id=village.town_id, village_id=village.id,
                               values=dict(incoming))
        record_view = household_record(created)
        pool = self.store.find_duplicates(blocking_keys(record_view))
        pool += [household_record(other) for other in self.new_households.values()]
        found = [c for c in match_one(record_view, pool) if c.other_id != created.id]
        # A householder who is a member of an existing household (form 2024.1 members).
        found = with_member_links(found, created.id, self.store.find_member_households(record_view.head_id))
        dismissed = self.store.dismissed_pairs(_pair(created.id, c.other_id) for c in found) if found else set()
        found = [c for c in found if _pair(created.id, c.other_id) not in dismissed]
        self.new_households[created.id] = created
        state = self.writer.create(created, reason="visit", user_id=self.actor.user_id, visit_uuid=record.uuid)
        self.households[created.id] = state
        status = "duplicate_suspected" if found else "accepted"
        for candidate in found:
            a, b = _pair(created.id, candidate.other_id)
            self.candidates.append(CandidateRow(
                household_a_id=a, household_b_id=b, village_id=village.id,
                campaign_id=record.campaign_id, visit_uuid=record.uuid, score=candidate.score,
                evidence=list(candidate.evidence)))
        self._store_visit(record, checked, state, status)
        result: dict[str, Any] = {"uuid": record.uuid, "status": status, "household_id": created.id,
                                  "household_rev": 1}
        if found:
            # Only households the sender may see: naming one of another village would
            # tell the worker that the person lives there (the candidate is kept all the same).
            villages = {other.id: other.village_id for other in pool}
            result["duplicate_of"] = [c.other_id for c in found
                                      if self.actor.may_access(villages.get(c.other_id) or 0)]
        return result

    def _village_for(self, record: PushRecord) -> VillageRef | dict[str, list[str]]:
        """The village of a new household: the named one if in scope, else the user's first."""
        if record.village:
            options = [v for v in self.actor.villages if v.name == record.village]
            if not options and self.actor.village_ids is None:
                options = self.store.find_villages(record.village)
            options = [v for v in options if self.actor.may_access(v.id)]
            if len(options) != 1:
                return {"village": [OUT_OF_SCOPE]}
            return options[0]
        if not self.actor.villages:
            return {"village": [VILLAGE_REQUIRED]}
        return self.actor.villages[0]

    def _store_visit(self, record: PushRecord, checked: Checked, state: HouseholdState,
                     status: str) -> None:
        values = checked.values
        visited_on = values.get("visited_on")
        computed: dict[str, Any] = {name: values.get(name) for name in COMPUTED_COLUMNS}
        computed.update(checked.flags)
        self.visits.append(VisitRow(
            uuid=record.uuid, campaign_id=record.campaign_id, household_id=state.id,
            village_id=state.village_id, worker_id=self.actor.user_id,
            device_id=self.request.device_id, batch_id=self.request.batch_id,
            form_version=record.form_version, base_rev=record.base_rev, supersedes=record.supersedes,
            started_at=record.started_at, visited_at=record.visited_at,
            visited_on=dt.date.fromisoformat(visited_on) if visited_on else None,
            received_at=self.received_at, data=values,
            location=dict(record.location) if record.location is not None else None,
            sync_status=status, computed=computed, photos_expected=record.photos))
        self.stored[record.uuid] = StoredVisit(record.uuid, state.id, state.village_id,
                                               self.actor.user_id, status, "pending")
        if record.supersedes and record.supersedes not in self.superseded:
            self.superseded.append(record.supersedes)

    def finish(self) -> BatchWrite:
        """The rows to write; their change numbers are given under the lock
        (:meth:`BatchWrite.number`), see the module docstring."""
        counts = Counter(r["status"] for r in self.results)
        batch = BatchRow(id=self.request.batch_id, user_id=self.actor.user_id,
                         device_id=self.request.device_id, app_version=self.request.app_version,
                         received_at=self.received_at, record_count=len(self.request.records),
                         counts=dict(counts), results=self.results)
        # A later record of this batch may have corrected a new household: the
        # writer's result carries each household's final values.
        return BatchWrite(batch=batch, households=self.writer.finish(), visits=self.visits,
                          conflicts=self.conflicts, candidates=self.candidates,
                          superseded=dict.fromkeys(self.superseded, 0))


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _rejected(record: PushRecord, errors: dict[str, list[str]]) -> dict[str, Any]:
    return {"uuid": record.uuid, "status": "rejected", "errors": errors}


def ingest(store: Store, actor: Actor, request: PushRequest, *, today: dt.date | None = None,
           received_at: dt.datetime | None = None) -> dict[str, Any]:
    """Apply a push batch and return the response body.

    :param store: the storage (one batch per store instance)
    :param actor: who pushes, with their village scope
    :param request: the checked envelope (:func:`sync.protocol.parse_push`)
    :param today: the date in China for validation (tests pin it)
    :param received_at: the server time of receipt (default: now, UTC, whole seconds)
    :raises SyncError: ``409 batch_id_conflict`` when another user owns the ``batch_id``,
        ``409 batch_conflict`` when it was used for other records
    """
    job = BatchIngest(store, actor, request, today=today)
    moment = received_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    replay = job.prepare(moment)
    if replay is not None:
        return replay
    return job.apply(moment)
