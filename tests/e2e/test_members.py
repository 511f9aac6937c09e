"""Form 2024.1 on the phone (issue 19): the household members prefilled from what
the server holds, one removed with its reason, one added with its reason, the
visit saved offline and pushed; the server stores the members."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.households import write_members
from fieldapp.models import Campaign, HouseholdMember, Visit, utcnow
from sync.idnumber import make_id, mask_id
from tests.factories import SmallTown
from tests.members_data import member

pytestmark = pytest.mark.e2e

PARENT_ID = make_id("420281", dt.date(1940, 1, 1), 11)
BABY_ID = make_id("420281", dt.date(2023, 2, 1), 13)


def test_a_2024_visit_with_members_filled_offline_reaches_the_server(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    db.session.get(Campaign, "2023-jzpc").form_version = "2024.1"
    head = town.households_a[0]
    write_members(db.session, {head.id: [
        member(head.head_name, head.head_id, "self"),
        {"name": "王老汉", "id_number": PARENT_ID, "relation": "parent"},  # the roster knew only these
    ]}, utcnow(), source="roster")
    db.session.commit()

    phone = phones(profile=True)
    phone.login()
    phone.wait_controlled()
    phone.offline()
    phone.open_household(head.head_name)
    p = phone.page
    p.wait_for_selector(".member[data-index='1']")
    born = f"{head.head_id[6:10]}-{head.head_id[10:12]}-{head.head_id[12:14]}"  # derived from the ID number
    # The head's answers are complete: a summary until 修改; 王老汉's are not: his questions are open.
    assert p.locator(".member[data-index='0'] .member-body").count() == 0
    summary = p.inner_text(".member[data-index='0'] .member-summary")
    assert f"本人 · {'男' if int(head.head_id[16]) % 2 else '女'} · {born} · {mask_id(head.head_id)}" in summary
    assert "健康" in summary
    assert p.input_value("input[name='members.1.id_number']") == PARENT_ID
    p.click(".member[data-index='0'] [data-toggle]")
    assert p.input_value("input[name='members.0.name']") == head.head_name
    assert p.inner_text(".member[data-index='0'] [data-member-field=birth_date] output") == born

    # 王老汉 died: removed with its reason, kept greyed in the list.
    p.click(".member[data-index='1'] [data-remove]")
    p.click(".member[data-index='1'] [data-remove-reason=died]")
    p.wait_for_selector(".member.removed:has-text('已减少（死亡）')")
    # A baby was born: added with its reason.
    p.click("#member-add")
    p.click("[data-add-reason=born]")
    p.fill("input[name='members.2.name']", "王小宝")
    p.fill("input[name='members.2.id_number']", BABY_ID)
    for field, value in (("relation", "grandchild"), ("health", "healthy"), ("skill", "none"),
                         ("work", "none"), ("school", "preschool"), ("medical_insured", "true"),
                         ("pension_insured", "false"), ("dibao", "false")):
        p.select_option(f"select[name='members.2.{field}']", value)
    assert p.inner_text(".member[data-index='2'] [data-member-field=sex] output") == "男"
    p.fill("input[name=size]", "2")
    p.fill("input[name=labor_count]", "1")
    phone.fill_visit()
    # the work counts follow from the members
    assert p.inner_text("#f-work_in_city") == "0 人"
    p.screenshot(path=str(artifacts_dir / "worker-members.png"), full_page=True)
    phone.save_visit()
    [saved] = phone.outbox()
    assert [m["name"] for m in saved["data"]["members"]] == [head.head_name, "王老汉", "王小宝"]

    phone.online()
    phone.wait_outbox_empty()
    db.session.rollback()
    visit = db.session.get(Visit, saved["uuid"])
    assert visit.form_version == "2024.1" and visit.sync_status in ("accepted", "conflict")
    stored = visit.data["members"]
    assert (stored[1]["change"], stored[1]["change_reason"]) == ("removed", "died")
    assert (stored[2]["change"], stored[2]["change_reason"], stored[2]["birth_date"]) == ("added", "born", "2023-02-01")
    rows = db.session.scalars(sa.select(HouseholdMember).where(HouseholdMember.household_id == head.id)
                              .order_by(HouseholdMember.position)).all()
    assert [(r.name, r.id_number, r.source) for r in rows] == [
        (head.head_name, head.head_id, "visit"), ("王小宝", BABY_ID, "visit")]
