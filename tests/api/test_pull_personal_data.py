"""Pull and personal data: full ID numbers and phones only for roles that may hold them,
every pull that hands out households audited, the scope always the caller's own
(SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog
from sync.idnumber import mask_id, mask_phone
from tests import factories

pytestmark = pytest.mark.both_backends


def _households(api, token, since=None, limit=500) -> list[dict]:
    pages, _ = api.pull_all(token, since, limit)
    return [h for page in pages for h in page["households"]]


def _pull_audits() -> list[AuditLog]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "sync_pull")
                                   .order_by(AuditLog.id)))


def test_a_supervisor_pulls_masked_id_numbers_and_phones_of_their_villages_only(api, town) -> None:
    """The web refuses a supervisor a full export; a pull gave them every full ID and phone."""
    pulled = {h["id"]: h for h in _households(api, api.login("supervisor_a"))}
    assert set(pulled) == {h.id for h in town.households_a}, "their villages only"
    for household in town.households_a:
        got = pulled[household.id]
        assert got["masked"] is True
        assert got["head_id"] == mask_id(household.head_id) != household.head_id
        assert got["phone"] == mask_phone(household.phone) != household.phone
        assert got["attributes"]["head_id"] == got["head_id"] and got["attributes"]["phone"] == got["phone"]
        assert got["head_name"] == household.head_name and got["head_id"][-4:] == household.head_id[-4:]


@pytest.mark.parametrize(("username", "village"), [("worker_a", "village_a"), ("admin", None)])
def test_workers_and_admins_pull_full_values(api, town, username, village) -> None:
    """A worker's visit form carries the head's full ID (prefilled, checked at the door);
    an admin may export full values on the web too."""
    expected = town.households_a if village else town.households_a + town.households_b
    pulled = {h["id"]: h for h in _households(api, api.login(username))}
    assert set(pulled) == {h.id for h in expected}
    for household in expected:
        assert pulled[household.id]["masked"] is False
        assert pulled[household.id]["head_id"] == household.head_id
        assert pulled[household.id]["attributes"]["phone"] == household.phone


def test_every_pull_that_hands_out_households_is_audited(api, town) -> None:
    for n in range(4):
        factories.make_household(town.village_a, f"赵{'一二三四'[n]}")
    db.session.commit()
    token = api.login("supervisor_a")
    assert _pull_audits() == []
    pages, cursor = api.pull_all(token, limit=3)
    assert [len(p["households"]) for p in pages] == [3, 3, 1]
    entries = _pull_audits()
    assert [e.details["households"] for e in entries] == [3, 3, 1]
    assert {e.user_id for e in entries} == {town.supervisor_a.id} and all(e.at is not None for e in entries)
    assert [e.details["full_values"] for e in entries] == [False] * 3
    assert entries[0].details["since"] is None and entries[1].details["since"] == pages[0]["cursor"]
    assert entries[0].object_type == "device_token" and entries[0].details["device_id"] == "device-1"
    api.pull_all(token, cursor)
    assert len(_pull_audits()) == 3, "a pull that hands out no household is not logged"
    api.pull_all(api.login("worker_a"))
    assert _pull_audits()[-1].details == {"households": 7, "full_values": True, "since": None,
                                          "device_id": "device-1"}


def test_a_changed_role_changes_what_the_phone_holds(api, town) -> None:
    """A worker made supervisor keeps the token, but the next pull sends the households
    again, masked: no pull returns another role's values."""
    from fieldapp.admin.services import update_user

    token = api.login("worker_a")
    _, cursor = api.pull_all(token)
    update_user(town.admin, town.worker_a.id, "张网格", "supervisor", True)
    again = {h["id"]: h for h in _households(api, token, cursor)}
    assert set(again) == {h.id for h in town.households_a}
    assert all(h["masked"] and "*" in h["head_id"] and "*" in h["attributes"]["phone"] for h in again.values())
    update_user(town.admin, town.worker_a.id, "张网格", "worker", True)
    back = {h["id"]: h for h in _households(api, token, cursor)}
    assert {h["head_id"] for h in back.values()} == {h.head_id for h in town.households_a}
