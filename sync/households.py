"""The household write rule, as one pure accumulator every writer of households uses.

Shapes: a household is a :class:`~sync.store.HouseholdState` (id, village, revision,
the form's household field values); what one transaction does to households comes out
as :class:`HouseholdChanges`: the new households, one :class:`~sync.store.HouseholdUpdate`
per changed household (its final state) and the revision rows, ready for the store.

The rule (docs/sync-protocol.md, "Applying a visit to its household"):

- a change of field values gives the household ``rev + 1`` and a revision row holding
  the full snapshot of its fields, the fields that changed, why (``reason``) and who;
- when ``head_name`` changed, the name's pinyin and initials are worked out again;
- every household written at all (a value change, a visit that changed nothing, a move
  to another village, a merge) takes a pull change number, given by the caller under
  its write lock (:meth:`HouseholdChanges.number`), so that phones and a town's
  replication see it again.

Push ingest, conflict resolution, merges and their undo, roster import and replication
all go through :class:`HouseholdWriter`; storage applies the result in one place
(``fieldapp/households.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync.normalize import name_pinyin
from sync.store import (
    UNCHANGED,
    HouseholdChanges,
    HouseholdState,
    HouseholdUpdate,
    NewHousehold,
    RevisionRow,
)


@dataclass
class _Written:
    state: HouseholdState
    renamed: bool = False
    revised: bool = False
    village_id: int | None = None
    merged_into: str | None = UNCHANGED


class HouseholdWriter:
    """Collects what a transaction does to households, in the order it happens.

    :param fields: the household fields of the form, in form order (revision rows list
        changed fields in this order)
    """

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        self._created: dict[str, NewHousehold] = {}
        self._written: dict[str, _Written] = {}
        self._revisions: list[RevisionRow] = []

    def create(self, household: NewHousehold, *, reason: str, user_id: int | None,
               visit_uuid: str | None) -> HouseholdState:
        """A new household at revision 1; returns the state later changes of this
        transaction apply to (the insert then carries the final values)."""
        if household.head_pinyin == "" and household.head_initials == "":
            household.head_pinyin, household.head_initials = name_pinyin(
                str(household.values.get("head_name") or ""))
        self._created[household.id] = household
        state = HouseholdState(household.id, household.village_id, household.town_id, household.rev,
                               dict(household.values))
        self._written[household.id] = _Written(state)
        self._revisions.append(RevisionRow(
            household_id=household.id, rev=household.rev, values=dict(household.values),
            changed=[f for f in self.fields if f in household.values] or list(household.values),
            visit_uuid=visit_uuid, user_id=user_id, reason=reason))
        return state

    def is_new(self, household_id: str) -> bool:
        return household_id in self._created

    def revise(self, state: HouseholdState, values: Mapping[str, Any], *, reason: str,
               user_id: int | None, visit_uuid: str | None,
               changed: Iterable[str] | None = None, always: bool = False) -> list[str]:
        """Give ``state`` the new ``values`` (some or all of its fields).

        :param changed: the fields that changed, when the caller compared them its own
            way (the three-way merge compares "" and None as equal); else every field of
            ``values`` whose value differs from the state's
        :param always: a new revision even when no value changed (a merge or its undo
            changes the household without changing a field)
        :returns: the fields that changed (none: no new revision unless ``always``)
        """
        if changed is None:
            names = [f for f in self.fields if f in values and values[f] != state.values.get(f)]
            names += [f for f in values if f not in self.fields and values[f] != state.values.get(f)]
        else:
            names = list(changed)
        entry = self._entry(state)
        if not names and not always:
            return names
        state.values = {**state.values, **values}
        state.rev += 1
        entry.revised = True
        if "head_name" in names:
            entry.renamed = True
        self._revisions.append(RevisionRow(
            household_id=state.id, rev=state.rev, values=dict(state.values), changed=names,
            visit_uuid=visit_uuid, user_id=user_id, reason=reason))
        return names

    def touch(self, state: HouseholdState) -> None:
        """Written without a field change (a visit that changed nothing, a returned visit):
        the household still takes a change number, so phones pull it again."""
        self._entry(state)

    def move(self, state: HouseholdState, village_id: int) -> None:
        """The household now belongs to another village (a roster re-import)."""
        entry = self._entry(state)
        if village_id != state.village_id:
            state.village_id = village_id
            entry.village_id = village_id

    def merge_into(self, state: HouseholdState, survivor_id: str | None) -> None:
        """Mark the household merged into ``survivor_id`` (``None``: unmerged again)."""
        entry = self._entry(state)
        state.merged_into_id = survivor_id
        entry.merged_into = survivor_id

    def _entry(self, state: HouseholdState) -> _Written:
        entry = self._written.get(state.id)
        if entry is None:
            entry = _Written(state)
            self._written[state.id] = entry
        return entry

    def finish(self) -> HouseholdChanges:
        """The new households with their final values, one update per other household
        written (in id order: the store locks rows in that order), and the revisions."""
        created = []
        for household in self._created.values():
            entry = self._written[household.id]
            household.values = dict(entry.state.values)
            household.rev = entry.state.rev
            if entry.renamed:
                household.head_pinyin, household.head_initials = name_pinyin(
                    str(entry.state.values.get("head_name") or ""))
            created.append(household)
        updates = []
        for key in sorted(self._written):
            if key in self._created:
                continue
            entry = self._written[key]
            state = entry.state
            pinyin: tuple[str | None, str | None] = (None, None)
            if entry.renamed:
                pinyin = name_pinyin(str(state.values.get("head_name") or ""))
            updates.append(HouseholdUpdate(
                id=state.id, rev=state.rev, values=dict(state.values), head_pinyin=pinyin[0],
                head_initials=pinyin[1], revised=entry.revised,
                village_id=entry.village_id, merged_into=entry.merged_into))
        return HouseholdChanges(created=created, updates=updates, revisions=list(self._revisions))
