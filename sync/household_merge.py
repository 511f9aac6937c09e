"""Merging two households that are one, and putting a merge back: the decisions, pure.

Shapes: the two households are :class:`~sync.store.HouseholdState`; what hangs on
the merged household (its visits, open conflicts and other open duplicate
candidates) comes in as plain refs. The outcome is what storage must do: the
household changes (through :class:`~sync.households.HouseholdWriter`), the visits
and conflicts to move to the survivor, the candidates no longer worth deciding,
and the before/after images that make the merge undoable. Storage lives in
``fieldapp/review/merges.py``.

Rules:

- the survivor is one of the pair; ``choices`` maps a household field to the
  household (survivor or merged) whose value the survivor keeps, by default its own;
- neither household may be merged already;
- the survivor takes a new revision (reason ``merge``) even when no value changes,
  since it now holds the other household's visits; the merged household keeps its
  row, marked ``merged_into_id`` = survivor, so phones pull it as removed;
- an undo needs the survivor still at the revision the merge left it at (a later
  change would be silently dropped by restoring the old values); it restores the
  survivor's values as a new revision (``rev`` only grows, reason ``undo``),
  unmerges the other household and puts visits, conflicts and candidates back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync.households import HouseholdWriter
from sync.store import HouseholdState


class MergeRefused(Exception):
    """A merge or undo that the rules refuse.

    :param code: ``survivor_not_in_pair``, ``bad_choice`` (with ``fields``),
        ``already_merged`` or ``changed_since`` (undo; ``rev`` is the survivor's now)
    """

    def __init__(self, code: str, fields: Sequence[str] = (), rev: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.fields = list(fields)
        self.rev = rev


@dataclass(frozen=True)
class VisitRef:
    uuid: str
    household_id: str
    village_id: int
    sync_status: str


@dataclass(frozen=True)
class ConflictRef:
    id: int
    household_id: str
    village_id: int


@dataclass
class MergeOutcome:
    """What storage writes for a merge (or an undo).

    :param visit_moves: visit uuid -> (household id, village id, sync status or ``None``
        to keep it); each moved visit takes a change number
    :param conflict_moves: conflict id -> (household id, village id)
    :param candidates: candidate id -> status to set (undo: back to the status before)
    """

    changed: list[str]
    visit_moves: dict[str, tuple[str, int, str | None]] = field(default_factory=dict)
    conflict_moves: dict[int, tuple[str, int]] = field(default_factory=dict)
    candidates: dict[int, str] = field(default_factory=dict)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def image(state: HouseholdState) -> dict[str, Any]:
    """Everything a merge may change on a household, to put it back on undo."""
    return {"values": dict(state.values), "rev": state.rev, "change_seq": state.change_seq,
            "merged_into_id": state.merged_into_id, "village_id": state.village_id}


def merged_of(pair: tuple[str, str], survivor_id: str, choices: Mapping[str, str],
              fields: Sequence[str]) -> str:
    """The id of the household merged away; refuses a survivor outside the pair or a
    choice naming an unknown field or a household outside the pair."""
    if survivor_id not in pair:
        raise MergeRefused("survivor_not_in_pair")
    bad = [f for f, source in choices.items() if f not in fields or source not in pair]
    if bad:
        raise MergeRefused("bad_choice", bad)
    return pair[1] if survivor_id == pair[0] else pair[0]


def picked_values(merged: HouseholdState, choices: Mapping[str, str]) -> dict[str, Any]:
    """The merged household's values that the survivor takes, by ``choices``."""
    return {f: merged.values.get(f) for f, source in choices.items() if source == merged.id}


def plan_merge(writer: HouseholdWriter, survivor: HouseholdState, merged: HouseholdState,
               values: Mapping[str, Any], *, visits: Sequence[VisitRef],
               conflicts: Sequence[ConflictRef], other_candidates: Sequence[int],
               candidate_id: int, user_id: int) -> MergeOutcome:
    """Merge ``merged`` into ``survivor``, whose fields take ``values`` (already checked
    with the form's rules).

    :param visits: the merged household's visits (they move to the survivor)
    :param conflicts: its open conflicts (they move too)
    :param other_candidates: its other open duplicate candidates (no longer to decide)
    """
    if survivor.merged_into_id or merged.merged_into_id:
        raise MergeRefused("already_merged")
    before = {
        "survivor": image(survivor), "merged": image(merged),
        "visits": [{"uuid": v.uuid, "household_id": v.household_id, "village_id": v.village_id,
                    "sync_status": v.sync_status} for v in visits],
        "conflicts": [{"id": c.id, "household_id": c.household_id, "village_id": c.village_id}
                      for c in conflicts],
        "candidates": [{"id": c, "status": "open"} for c in other_candidates],
        "candidate": {"id": candidate_id, "status": "open"},
    }
    changed = writer.revise(survivor, values, reason="merge", user_id=user_id, visit_uuid=None, always=True)
    writer.merge_into(merged, survivor.id)
    outcome = MergeOutcome(
        changed=changed,
        visit_moves={v.uuid: (survivor.id, survivor.village_id, None) for v in visits},
        conflict_moves={c.id: (survivor.id, survivor.village_id) for c in conflicts},
        candidates={c: "superseded" for c in other_candidates},
        before=before,
    )
    outcome.after = {"survivor": image(survivor), "merged": image(merged),
                     "moved_visits": [v.uuid for v in visits], "changed": changed}
    return outcome


def plan_undo(writer: HouseholdWriter, survivor: HouseholdState, merged: HouseholdState,
              before: Mapping[str, Any], after: Mapping[str, Any], *, user_id: int) -> MergeOutcome:
    """Put back the merge whose images are ``before`` and ``after``."""
    if survivor.rev != after["survivor"]["rev"]:
        raise MergeRefused("changed_since", rev=survivor.rev)
    old = before["survivor"]["values"]
    current = image(survivor)
    changed = writer.revise(survivor, {f: old[f] for f in old}, reason="undo", user_id=user_id,
                            visit_uuid=None, always=True)
    writer.merge_into(merged, before["merged"]["merged_into_id"])
    outcome = MergeOutcome(
        changed=changed,
        visit_moves={v["uuid"]: (v["household_id"], v["village_id"], v["sync_status"])
                     for v in before["visits"]},
        conflict_moves={c["id"]: (c["household_id"], c["village_id"]) for c in before["conflicts"]},
        candidates={c["id"]: c["status"] for c in before["candidates"]},
        before={"survivor": current},
    )
    outcome.after = {"survivor": image(survivor), "merged": image(merged),
                     "restored_visits": [v["uuid"] for v in before["visits"]]}
    return outcome
