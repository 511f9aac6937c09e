"""The worker's app on a first real day (issue 17 items 3-11, issue 16 "at the doorstep"),
in Chromium at 360x640 against a live server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Household, Visit
from sync.idnumber import make_id
from tests import factories
from tests.e2e.conftest import Phone
from tests.factories import SmallTown, make_visit, visit_data

pytestmark = pytest.mark.e2e

SIGNATURE = factories.SIGNATURE_PNG


def _server_visits() -> list[Visit]:
    db.session.rollback()
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Visit)))


def _shot(phone: Phone, artifacts_dir: Path, name: str) -> None:
    phone.page.screenshot(path=str(artifacts_dir / f"worker-{name}.png"))


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def _new_household(page: Any, name: str, head_id: str, group: str = "2组") -> None:
    page.click("a:has-text('新增农户')")
    page.wait_for_selector("#visit-form")
    page.fill("input[name=head_name]", name)
    page.fill("input[name=head_id]", head_id)
    page.fill("input[name=group]", group)
    page.fill("input[name=size]", "3")
    page.fill("input[name=labor_count]", "2")
    page.check("input[name=category][value=general]")
    page.check("input[name=monitor_type][value=none]")


# -- 17.3: a returned visit opens filled on any phone; 仅需重签 ------------------

def test_a_returned_visit_opens_filled_on_a_phone_that_never_had_it(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    household = town.households_a[0]
    old = make_visit(household, town.worker_a, town.campaign, review_status="returned",
                     review_comment="工资性收入偏高，请核实", return_kind="correct",
                     data=visit_data(household, income_wage=52000, respondent="王小明", remarks="长子在武汉务工"))
    db.session.commit()
    phone = phones()  # a new phone (or a reinstall): it never saw this visit's answers
    phone.login()
    page = phone.page
    page.click("#returned-link:has-text('被退回 1')")
    page.click("a:has-text('修改后重新提交')")
    page.wait_for_selector("#review-comment:has-text('工资性收入偏高，请核实')")
    assert page.input_value("input[name=income_wage]") == "52000"
    assert page.input_value("input[name=respondent]") == "王小明"
    assert page.input_value("textarea[name=remarks]") == "长子在武汉务工"
    assert page.is_checked("input[name=conclusion][value=no_risk]")
    _shot(phone, artifacts_dir, "returned")
    page.fill("input[name=income_wage]", "26000")
    phone.save_visit()
    phone.wait_outbox_empty()
    stored = {v.uuid: v for v in _server_visits()}
    [new] = [v for v in stored.values() if v.uuid != old.uuid]
    assert new.supersedes == old.uuid and new.data["income_wage"] == 26000
    assert new.data["respondent"] == "王小明" and stored[old.uuid].review_status == "superseded"


def test_a_resign_return_keeps_every_answer_and_asks_for_a_signature(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    household = town.households_a[1]
    old = make_visit(household, town.worker_a, town.campaign, review_status="returned",
                     review_comment="签字不清晰", return_kind="resign",
                     data=visit_data(household, visit_method="in_person", signature=SIGNATURE))
    db.session.commit()
    phone = phones()
    phone.login()
    page = phone.page
    page.click("#returned-link")
    page.click("a:has-text('仅需重签')")
    page.wait_for_selector("#resign-notice")
    assert page.input_value("input[name=income_wage]") == "36000"
    assert page.evaluate("document.querySelector('[data-field=income_wage]').inert") is True
    assert page.locator("#next-missing").inner_text().startswith("还差 1 项")
    page.click("#save-visit")
    page.wait_for_selector("[data-field=signature] .error:has-text('请填写农户签字确认')")
    phone.sign()
    _shot(phone, artifacts_dir, "returned-resign")
    phone.save_visit()
    phone.wait_outbox_empty()
    [new] = [v for v in _server_visits() if v.uuid != old.uuid]
    assert new.supersedes == old.uuid
    assert new.data["signature"] != SIGNATURE and new.data["signature"].startswith("data:image/png;base64,")
    assert {k: v for k, v in new.data.items() if k != "signature"} == \
        {k: v for k, v in old.data.items() if k != "signature"}


# -- 17.4 and 17.5: households typed in, drafts and pending work in view --------

def test_a_household_typed_in_offline_is_listed_found_and_editable_until_sent(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    phone = phones()
    phone.login()
    page = phone.page
    phone.offline()
    _new_household(page, "柯美兰", make_id("420281", dt.date(1978, 6, 2), 24))
    phone.fill_visit()
    phone.save_visit()

    page.fill("#hh-search", "kml")
    page.wait_for_selector(".vlist-row:has-text('柯美兰')")
    row = page.inner_text(".vlist-row:has-text('柯美兰')")
    assert "待同步" in row and "新增" in row
    assert page.inner_text(".vlist-row:has-text('柯美兰') .row-sub").endswith("· 3人")
    page.fill("#hh-search", "")
    page.click(".chip[data-filter=pending]")
    page.wait_for_function("() => document.querySelectorAll('.vlist-row').length === 1")
    page.click(".vlist-row:has-text('柯美兰')")
    page.wait_for_selector("text=本机新增的农户，同步前可修改")
    assert page.input_value("input[name=head_name]") == "柯美兰"
    page.fill("input[name=size]", "4")
    phone.save_visit()
    [record] = phone.outbox()
    assert record["household_id"] is None and record["data"]["size"] == 4

    phone.online()
    phone.page.evaluate("window.fieldapp.syncNow('test')")
    phone.wait_outbox_empty()
    page.wait_for_function("() => !document.getElementById('hh-list').innerText.includes('待同步')")
    page.fill("#hh-search", "kml")
    page.wait_for_selector(".vlist-row:has-text('柯美兰')")
    sub = page.inner_text(".vlist-row:has-text('柯美兰') .row-sub")
    assert not sub.startswith("·") and "· ·" not in sub and sub.endswith("4人")
    db.session.rollback()
    [created] = db.session.scalars(sa.select(Household).where(Household.head_name == "柯美兰")).all()
    assert created.size == 4 and created.source == "field"


def test_drafts_and_pending_households_are_in_view(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    phone = phones()
    phone.login()
    page = phone.page
    phone.offline()
    phone.open_household("王建国")
    page.fill("input[name=income_wage]", "3000")
    page.wait_for_selector("#save-status:has-text('草稿已自动保存')")
    page.click("#back-to-list")
    page.wait_for_selector(".vlist-row:has-text('王建国') .badge:has-text('草稿')")
    phone.open_household("刘伟")
    phone.fill_visit()
    phone.save_visit()
    page.fill("#hh-search", "")
    page.wait_for_selector(".vlist-row:has-text('刘伟') .badge:has-text('待同步')")
    page.click(".chip[data-filter=pending]")
    page.wait_for_function("() => document.querySelectorAll('.vlist-row').length === 1")
    assert "刘伟" in page.inner_text("#hh-list")
    _shot(phone, artifacts_dir, "list-pending")

    phone.goto("/app/sync")
    page.wait_for_selector("#pending-list")
    assert page.inner_text("#pending-list").startswith("刘伟")
    text = page.inner_text("#screen")
    assert "null" not in text
    assert "交给管理员导入" in page.inner_text("#backup-hint") and "fieldapp" not in text
    _shot(phone, artifacts_dir, "sync")


# -- 17.6 to 17.9: the form ------------------------------------------------------

def test_a_first_visit_fails_on_nothing_the_worker_did_not_touch(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    # The factory campaign ran in 2023: today is after it.
    phone = phones()
    phone.login()
    page = phone.page
    phone.open_household("王建国")
    assert page.input_value("input[name=visited_on]") == "2023-12-31"
    assert "不在排查期间（2023-10-01至2023-12-31）" in page.inner_text("#campaign-notice")
    # Flags wait for their inputs: nothing is "below the line" before any income is typed.
    assert page.inner_text("#flags") == ""
    # Only the conclusions that can hold for a household that is not monitored.
    offered = page.eval_on_selector_all("[data-field=conclusion] label.option:not([hidden])",
                                        "(els) => els.map((e) => e.dataset.code)")
    assert offered == ["no_risk", "suggest_monitor"]
    phone.fill_visit(method="in_person", sign=True)
    page.fill("input[name=visited_on]", "2023-12-31")
    assert "低于监测范围" not in page.inner_text("#flags")
    _shot(phone, artifacts_dir, "form-filled")
    phone.save_visit()
    phone.wait_outbox_empty()
    [visit] = _server_visits()
    assert visit.sync_status == "accepted" and visit.visited_on == dt.date(2023, 12, 31)


def test_a_monitored_household_is_offered_its_own_conclusions_and_flags_come_with_the_incomes(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    phone = phones()
    phone.login()
    page = phone.page
    phone.open_household("陈秀英")
    page.check("input[name=monitor_type][value=marginal]")
    page.check("input[name=risk_eliminated][value=false]")
    codes = "(els) => els.map((e) => e.dataset.code)"
    selector = "[data-field=conclusion] label.option:not([hidden])"
    assert page.eval_on_selector_all(selector, codes) == [
        "no_risk", "suggest_monitor", "continue_monitor", "suggest_eliminate"]
    page.check("input[name=conclusion][value=suggest_eliminate]")
    page.check("input[name=risk_eliminated][value=true]")
    # Chosen before it stopped holding: kept in view, with the server's message.
    assert page.eval_on_selector_all(selector, codes)[-1] == "suggest_eliminate"
    page.check("input[name=conclusion][value=continue_monitor]")
    assert page.eval_on_selector_all(selector, codes) == ["no_risk", "suggest_monitor", "continue_monitor"]
    for field in ("income_wage", "income_business", "business_cost", "income_property"):
        page.fill(f"input[name={field}]", "0")
    assert "低于监测范围" not in page.inner_text("#flags")
    page.fill("input[name=income_transfer]", "1200")
    page.wait_for_selector("#flags [data-flag=below_monitoring_line]")


def test_a_failed_save_goes_to_the_first_error_and_the_form_is_easy_to_get_around(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    phone = phones()
    phone.login()
    page = phone.page
    phone.open_household("王建国")
    assert page.inner_text("#next-missing").startswith("还差 15 项")
    page.fill("input[name=visited_on]", "2020-01-01")  # an error far down the form
    page.click("#save-visit")
    page.wait_for_selector("#toast:has-text('处需要修改')")
    assert page.evaluate("document.activeElement.name") == "food_clothing_ok"
    top = page.evaluate("document.querySelector('[data-field=food_clothing_ok]').getBoundingClientRect().top")
    assert 100 < top < 640
    assert not _overlap(page.locator("#toast").bounding_box(), page.locator("#back-to-list").bounding_box())
    _shot(phone, artifacts_dir, "form-errors")

    page.click(".jump[data-section=income]")
    page.wait_for_timeout(300)
    bar = page.locator("#jumpbar").bounding_box()
    income = page.locator("fieldset[data-section=income]").bounding_box()
    assert bar["y"] + bar["height"] - 5 <= income["y"] <= bar["y"] + bar["height"] + 40
    assert page.inner_text(".jump[data-section=income] .jump-count") == "5"

    page.evaluate("window.scrollTo(0, 0)")
    page.click("#next-missing")
    assert page.evaluate("document.activeElement.name") == "food_clothing_ok"
    page.click("#next-missing")
    assert page.evaluate("document.activeElement.name") == "housing_unsafe"
    page.check("input[name=housing_unsafe][value=false]")
    assert page.inner_text("#next-missing").startswith("还差 14 项")


# -- 17.11: one login ------------------------------------------------------------

def test_a_worker_logged_in_on_the_web_is_not_asked_again_by_the_app(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    phone = phones()
    page = phone.page
    page.goto(live_server.url + "/")
    page.fill("input[name=username]", "worker_a")
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/app/**")
    page.wait_for_selector("#hh-counts:has-text('已排查 0 / 3')")
    assert page.locator("#login-password").count() == 0
    phone.wait_synced()
    auth = phone.idb("await db.getMeta('auth')")
    assert auth["user"]["username"] == "worker_a" and auth["token"]

    # Logging out of the app ends the web login too (a shared phone).
    phone.goto("/app/sync")
    page.click("#logout-button")
    page.wait_for_selector("#login-username")
    page.wait_for_timeout(500)
    assert page.locator("#web-login-status").count() == 0
    page.goto(live_server.url + "/")
    page.wait_for_selector("input[name=password]")
    assert "/login" in page.url


# -- issue 16: the duplicate check at the doorstep --------------------------------

def test_a_new_household_already_on_the_phone_is_shown_before_it_is_saved(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    wang = town.households_a[0]
    phone = phones()
    phone.login()
    page = phone.page
    phone.offline()
    _new_household(page, "王建国", wang.head_id, group="3组")
    page.wait_for_selector("#doorstep:has-text('此身份证号已在花名册：王建国 3组 —— 打开该户？')")
    page.locator("#doorstep").scroll_into_view_if_needed()
    _shot(phone, artifacts_dir, "doorstep")
    page.click("#doorstep .doorstep-open")
    page.wait_for_selector(f"#visit-form input[name=head_id][value='{wang.head_id}']")
    assert page.inner_text("h1") == "王建国"
    assert phone.idb("(await db.getAll('drafts')).filter((d) => d.household_key === 'new').length") == 0

    # A homophone of 刘伟 (same village): shown; the worker says it is another household.
    page.click("#back-to-list")
    _new_household(page, "刘玮", make_id("420281", dt.date(1990, 1, 9), 31))
    page.wait_for_selector("#doorstep:has-text('同音姓名已在花名册：刘伟')")
    phone.fill_visit()
    page.click("#doorstep-go-on")
    page.wait_for_selector("#doorstep", state="hidden")
    phone.save_visit()
    [record] = phone.outbox()
    assert record["data"]["head_name"] == "刘玮" and record["household_id"] is None


def test_saving_a_likely_duplicate_waits_for_the_workers_answer(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    phone = phones()
    phone.login()
    page = phone.page
    phone.offline()
    _new_household(page, "柯美兰", make_id("420281", dt.date(1978, 6, 2), 24))
    phone.fill_visit()
    phone.save_visit()
    # The same household typed in again (it is only on this phone so far).
    _new_household(page, "柯美兰", make_id("420281", dt.date(1978, 6, 2), 24))
    phone.fill_visit()
    page.evaluate("document.getElementById('doorstep').hidden = true")  # as if never looked at
    page.click("#save-visit")
    page.wait_for_selector("#doorstep:has-text('此身份证号已在花名册：柯美兰')")
    assert "本机新增" in page.inner_text("#doorstep") and len(phone.outbox()) == 1
    page.click("#doorstep-go-on")  # "not the same": saved then, the server's dedup decides
    page.wait_for_selector("#toast:has-text('已保存')")
    assert len(phone.outbox()) == 2
