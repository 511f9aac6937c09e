"""The household write rule (sync/households.py) and the merge decisions (sync/household_merge.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sync.household_merge import (
    ConflictRef,
    MergeRefused,
    VisitRef,
    merged_of,
    picked_values,
    plan_merge,
    plan_undo,
)
from sync.households import HouseholdWriter
from sync.store import UNCHANGED, HouseholdState, NewHousehold

FIELDS = ("head_name", "phone", "size")


def state(household_id: str = "h1", rev: int = 1, **values: object) -> HouseholdState:
    base = {"head_name": "王建国", "phone": "13800001111", "size": 3}
    return HouseholdState(household_id, 7, 1, rev, {**base, **values})


def test_a_change_of_values_is_a_new_revision_with_the_changed_fields() -> None:
    writer = HouseholdWriter(FIELDS)
    household = state()
    changed = writer.revise(household, {"phone": "13900002222", "size": 3}, reason="resolution",
                            user_id=5, visit_uuid="v1")
    result = writer.finish()
    assert changed == ["phone"] and household.rev == 2
    [update] = result.updates
    assert update.revised and update.rev == 2 and update.values["phone"] == "13900002222"
    assert update.head_pinyin is None  # the name did not change
    [revision] = result.revisions
    assert (revision.rev, revision.changed, revision.reason, revision.user_id, revision.visit_uuid) == (
        2, ["phone"], "resolution", 5, "v1")
    assert revision.values == household.values


def test_no_change_is_no_revision_but_still_a_numbered_write_when_touched() -> None:
    writer = HouseholdWriter(FIELDS)
    household = state()
    assert writer.revise(household, {"phone": "13800001111"}, reason="visit", user_id=1, visit_uuid="v") == []
    writer.touch(household)
    result = writer.finish()
    assert household.rev == 1 and result.revisions == []
    [update] = result.updates
    assert not update.revised and update.merged_into == UNCHANGED and update.village_id is None
    assert result.count == 1 and result.number(40) == 41 and update.change_seq == 40


def test_a_new_name_brings_new_pinyin_and_initials() -> None:
    writer = HouseholdWriter(FIELDS)
    household = state()
    writer.revise(household, {"head_name": "柯美兰"}, reason="visit", user_id=1, visit_uuid="v")
    [update] = writer.finish().updates
    assert (update.head_pinyin, update.head_initials) == ("ke mei lan", "kml")


def test_always_gives_a_revision_without_a_field_change() -> None:
    writer = HouseholdWriter(FIELDS)
    household = state(rev=4)
    assert writer.revise(household, {}, reason="merge", user_id=1, visit_uuid=None, always=True) == []
    result = writer.finish()
    assert household.rev == 5 and [r.changed for r in result.revisions] == [[]]


def test_a_created_household_corrected_later_in_the_transaction_is_inserted_as_corrected() -> None:
    writer = HouseholdWriter(FIELDS)
    created = NewHousehold(id="new", town_id=1, village_id=7,
                           values={"head_name": "王健", "phone": None, "size": 2})
    household = writer.create(created, reason="visit", user_id=3, visit_uuid="v1")
    writer.revise(household, {"head_name": "王建"}, reason="visit", user_id=3, visit_uuid="v2")
    result = writer.finish()
    assert result.updates == [] and result.created == [created]
    assert created.rev == 2 and created.values["head_name"] == "王建"
    assert (created.head_pinyin, created.head_initials) == ("wang jian", "wj")
    assert [(r.rev, r.changed, r.visit_uuid) for r in result.revisions] == [
        (1, ["head_name", "phone", "size"], "v1"), (2, ["head_name"], "v2")]


def test_moves_and_merges_are_written_without_a_revision() -> None:
    writer = HouseholdWriter(FIELDS)
    a, b = state("a"), state("b")
    writer.move(a, 9)
    writer.merge_into(b, "a")
    updates = {u.id: u for u in writer.finish().updates}
    assert updates["a"].village_id == 9 and updates["a"].merged_into == UNCHANGED
    assert updates["b"].merged_into == "a" and not updates["b"].revised


@given(st.lists(st.fixed_dictionaries({"phone": st.sampled_from(["1", "2", "3"]),
                                       "size": st.integers(1, 3)}), max_size=8))
def test_rev_counts_the_changes_and_each_revision_is_the_state_it_left(edits: list[dict[str, object]]) -> None:
    writer = HouseholdWriter(FIELDS)
    household = state(phone="1", size=1)
    changes = sum(bool(writer.revise(household, edit, reason="visit", user_id=1, visit_uuid=None))
                  for edit in edits)
    result = writer.finish()
    assert household.rev == 1 + changes == 1 + len(result.revisions)
    assert [r.rev for r in result.revisions] == list(range(2, 2 + changes))
    if result.revisions:
        assert result.revisions[-1].values == household.values


def test_merge_refuses_what_the_rules_refuse() -> None:
    with pytest.raises(MergeRefused) as outside:
        merged_of(("a", "b"), "c", {}, FIELDS)
    assert outside.value.code == "survivor_not_in_pair"
    with pytest.raises(MergeRefused) as bad:
        merged_of(("a", "b"), "a", {"phone": "x", "nope": "a"}, FIELDS)
    assert bad.value.code == "bad_choice" and bad.value.fields == ["phone", "nope"]
    writer = HouseholdWriter(FIELDS)
    gone = state("b")
    gone.merged_into_id = "z"
    with pytest.raises(MergeRefused, match="already_merged"):
        plan_merge(writer, state("a"), gone, {}, visits=[], conflicts=[], other_candidates=[],
                   candidate_id=1, user_id=1)


def test_a_merge_then_its_undo_give_back_the_values_with_rev_only_growing() -> None:
    writer = HouseholdWriter(FIELDS)
    survivor, merged = state("a", rev=3), state("b", phone="13911112222")
    assert merged_of(("a", "b"), "a", {"phone": "b"}, FIELDS) == "b"
    values = picked_values(merged, {"phone": "b", "size": "a"})
    assert values == {"phone": "13911112222"}
    outcome = plan_merge(writer, survivor, merged, values,
                         visits=[VisitRef("v1", "b", 8, "duplicate_suspected")],
                         conflicts=[ConflictRef(11, "b", 8)], other_candidates=[21], candidate_id=20, user_id=1)
    assert outcome.changed == ["phone"] and survivor.rev == 4 and merged.merged_into_id == "a"
    assert outcome.visit_moves == {"v1": ("a", 7, None)} and outcome.conflict_moves == {11: ("a", 7)}
    assert outcome.candidates == {21: "superseded"} and outcome.after["moved_visits"] == ["v1"]

    undo_writer = HouseholdWriter(FIELDS)
    undo = plan_undo(undo_writer, survivor, merged, outcome.before, outcome.after, user_id=2)
    assert survivor.rev == 5 and survivor.values["phone"] == "13800001111" and merged.merged_into_id is None
    assert undo.visit_moves == {"v1": ("b", 8, "duplicate_suspected")} and undo.candidates == {21: "open"}
    assert [r.reason for r in undo_writer.finish().revisions] == ["undo"]

    later = state("a", rev=9)
    with pytest.raises(MergeRefused) as changed:
        plan_undo(HouseholdWriter(FIELDS), later, merged, outcome.before, outcome.after, user_id=2)
    assert changed.value.code == "changed_since" and changed.value.rev == 9
