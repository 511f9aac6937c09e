"""The grid worker's offline-first app in Chromium against a live server (issue 4).

Offline here means both ``context.set_offline(True)`` and every request
(the service worker's included) aborted by a context route, since
set_offline alone does not stop the service worker's fetches.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Campaign, Visit
from tests.e2e.conftest import Phone
from tests.factories import SmallTown, make_household

pytestmark = pytest.mark.e2e



def _server_visits(uuids: list[str] | None = None) -> list[Visit]:
    db.session.rollback()
    db.session.expire_all()
    query = sa.select(Visit)
    if uuids is not None:
        query = query.where(Visit.uuid.in_(uuids))
    return list(db.session.scalars(query))


def _shot(phone: Phone, artifacts_dir: Path, name: str) -> None:
    phone.page.screenshot(path=str(artifacts_dir / f"worker-{name}.png"))


def test_three_visits_saved_offline_survive_reload_and_restart_then_sync_by_themselves(
    town: SmallTown, phones: Any, live_server: Any, tmp_path: Path, artifacts_dir: Path,
) -> None:
    phone = phones(profile=True)
    phone.goto("/app/login")
    _shot(phone, artifacts_dir, "login")
    phone.login()
    phone.wait_controlled()
    _shot(phone, artifacts_dir, "list")

    phone.offline()
    for index, name in enumerate(("王建国", "刘伟", "陈秀英")):
        phone.open_household(name)
        if index == 0:
            _shot(phone, artifacts_dir, "form")
        phone.fill_visit(method="in_person" if index == 0 else "phone", sign=index == 0)
        if index == 0:
            _shot(phone, artifacts_dir, "form-signature")
        phone.save_visit()
    saved = phone.outbox()
    assert sorted(r["label"] for r in saved) == ["刘伟", "王建国", "陈秀英"]
    assert next(r for r in saved if r["label"] == "王建国")["data"]["signature"].startswith("data:image/png;base64,")
    assert _server_visits() == []

    # Reload with no network at all: the service worker serves the app.
    phone.page.reload()
    phone.page.wait_for_selector("#app[data-ready=true]")
    phone.page.wait_for_selector("#hh-counts:has-text('已排查 3 / 3')")
    assert phone.page.inner_text("#pending-badge") == "3"

    # Close the phone's browser and open the same profile again, still offline.
    phone.close()
    again = Phone(phone.browser, phone.base_url, phone.profile)
    again.blocked = True
    again.open()
    again.context.set_offline(True)
    phones_opened = [again]
    try:
        again.goto("/app/")
        again.page.wait_for_selector("#hh-counts")
        assert sorted(r["uuid"] for r in again.outbox()) == sorted(r["uuid"] for r in saved)
        again.goto("/app/sync")
        again.page.wait_for_selector("#pending-count:has-text('3')")
        _shot(again, artifacts_dir, "sync")

        # Back online: the app syncs without a tap.
        again.online()
        again.wait_outbox_empty()
        stored = _server_visits()
        assert sorted(v.uuid for v in stored) == sorted(r["uuid"] for r in saved)
        assert {v.worker_id for v in stored} == {town.worker_a.id}
        signed = next(v for v in stored if v.data["head_name"] == "王建国")
        assert signed.data["signature"].startswith("data:image/png;base64,")
    finally:
        for p in phones_opened:
            p.close()


def test_network_drop_after_commit_loses_and_duplicates_nothing(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    phone = phones()
    phone.login()
    dropped: list[int] = []

    def commit_then_drop(route: Any) -> None:
        response = route.fetch()  # the server commits the batch
        dropped.append(response.status)
        route.abort("connectionreset")  # ...and the phone never hears back

    phone.context.route("**/api/v1/sync/push", commit_then_drop)
    for name in ("王建国", "刘伟"):
        phone.open_household(name)
        phone.fill_visit()
        phone.save_visit()
    deadline = dt.datetime.now() + dt.timedelta(seconds=20)
    while not dropped and dt.datetime.now() < deadline:
        phone.page.wait_for_timeout(200)
    assert dropped and dropped[0] == 200
    uuids = [r["uuid"] for r in phone.outbox()]
    assert len(uuids) >= 1  # the phone still holds what it could not confirm
    committed = _server_visits()
    assert committed, "the server committed before the connection dropped"

    phone.context.unroute("**/api/v1/sync/push", commit_then_drop)
    phone.goto("/app/sync")
    phone.page.click("#sync-button")
    phone.wait_outbox_empty()
    stored = _server_visits()
    assert len(stored) == 2
    assert len({v.uuid for v in stored}) == 2
    assert set(uuids) <= {v.uuid for v in stored}
    phone.page.wait_for_selector("#pending-count:has-text('0')")


def test_a_sync_asked_for_during_a_sync_runs_right_after_it(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    """A save calls syncNow while a sync may be running; that one read the outbox
    before the save, so another must follow it by itself, not wait for a trigger."""
    phone = phones()
    phone.login()
    phone.wait_synced()
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)  # answered once the second call has been made

    phone.context.route("**/api/v1/sync/pull*", hold)
    phone.page.evaluate("""async () => {
        const sync = await import('/static/js/sync.js');
        window.syncStarts = [];
        sync.onSync((event) => { if (event.type === 'start') window.syncStarts.push(event.reason); });
        sync.syncNow('first');
    }""")
    deadline = dt.datetime.now() + dt.timedelta(seconds=15)
    while not held and dt.datetime.now() < deadline:
        phone.page.wait_for_timeout(100)
    assert held, "the first sync reached its pull"
    # Not awaited: it answers with the running sync, which waits for the held pull.
    phone.page.evaluate("async () => { (await import('/static/js/sync.js')).syncNow('second'); }")
    phone.context.unroute("**/api/v1/sync/pull*", hold)
    for route in held:
        route.continue_()
    phone.wait_until("window.syncStarts.includes('second')", timeout=15)
    assert phone.page.evaluate("window.syncStarts")[:2] == ["first", "second"]


def test_rejected_record_is_shown_corrected_and_resubmitted(
    town: SmallTown, phones: Any, live_server: Any, app: Any, artifacts_dir: Path,
) -> None:
    phone = phones()
    phone.login()
    # The county shortens the campaign after the phone downloaded the form:
    # the server now refuses a visit dated before the new start.
    campaign = db.session.get(Campaign, "2023-jzpc")
    campaign.start_date = dt.date(2023, 10, 15)
    db.session.commit()

    phone.open_household("王建国")
    phone.fill_visit()
    phone.save_visit()
    phone.goto("/app/sync")
    phone.page.wait_for_selector("#rejected-list")
    assert "走访日期：走访日期应在排查期间（2023-10-15至2023-12-31）" in phone.page.inner_text("#rejected-list")
    [record] = phone.outbox()
    assert record["status"] == "rejected"
    assert _server_visits() == []
    _shot(phone, artifacts_dir, "sync-rejected")

    phone.page.click("#rejected-list a:has-text('修改')")
    phone.page.wait_for_selector("#visit-form")
    assert "走访日期应在排查期间" in phone.page.inner_text("[data-field=visited_on] .error")
    phone.page.fill("input[name=visited_on]", "2023-10-20")
    phone.save_visit()
    phone.wait_outbox_empty()
    [stored] = _server_visits()
    assert stored.uuid == record["uuid"]  # resubmitted under the same uuid
    assert stored.data["visited_on"] == "2023-10-20"


def test_new_service_worker_version_activating_keeps_the_open_draft(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    phone = phones()
    phone.login()
    phone.wait_controlled()
    page = phone.page
    old_caches = page.evaluate("caches.keys()")
    assert len(old_caches) == 1 and old_caches[0].startswith("fieldapp-static-")

    phone.open_household("刘伟")
    page.fill("input[name=income_wage]", "12345")
    page.fill("input[name=respondent]", "刘小伟")
    page.check("input[name=water_unsafe][value=true]")
    page.wait_for_selector("#save-status:has-text('草稿已自动保存')")
    page.evaluate("window.__sameDocument = true")

    # Deploy a new version of the shell (a new sw.js) and let the phone find it.
    live_server.stop()
    live_server.extra_env = {"FIELDAPP_PWA_RELEASE": "e2e-next"}
    live_server.start()
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    page.wait_for_selector("#update-button:has-text('新版本可用，点击更新')", timeout=20_000)
    # The new version waits: nothing reloaded over the form.
    assert page.evaluate("window.__sameDocument") is True
    assert page.input_value("input[name=income_wage]") == "12345"

    page.click("#update-button")
    page.wait_for_function("() => window.__sameDocument === undefined && document.querySelector('#visit-form') !== null",
                           timeout=20_000)
    new_caches = page.evaluate("caches.keys()")
    assert len(new_caches) == 1 and new_caches != old_caches
    assert page.input_value("input[name=income_wage]") == "12345"
    assert page.input_value("input[name=respondent]") == "刘小伟"
    assert page.is_checked("input[name=water_unsafe][value=true]")
    assert page.is_visible("[data-field=water_issues]")  # skip logic restored too
    drafts = phone.idb("await db.getAll('drafts')")
    assert len(drafts) == 1 and drafts[0]["inputs"]["income_wage"] == "12345"


def test_search_by_initials_and_last_four_id_digits(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    for n in range(300):
        make_household(town.village_a, ("张", "李", "赵", "孙")[n % 4] + ("明", "华", "强")[n % 3] + "生",
                       group=f"{n % 7 + 1}组")
    db.session.commit()
    phone = phones()
    phone.login()
    page = phone.page
    page.wait_for_selector("#hh-counts:has-text('已排查 0 / 303')")
    rendered = page.locator(".vlist-row").count()
    assert 0 < rendered < 40  # a virtualised list: only what is in view (plus a few)

    page.fill("#hh-search", "wjg")
    page.wait_for_function("() => document.querySelectorAll('.vlist-row').length === 1")
    assert "王建国" in page.inner_text(".vlist-row")

    liu = town.households_a[1]
    page.fill("#hh-search", liu.head_id[-4:])
    page.wait_for_function("() => document.querySelectorAll('.vlist-row').length >= 1")
    assert "刘伟" in page.inner_text("#hh-list")

    page.fill("#hh-search", "liuwei")
    page.wait_for_function("() => document.querySelectorAll('.vlist-row').length === 1")
    assert "刘伟" in page.inner_text(".vlist-row")
    page.fill("#hh-search", liu.code)
    page.wait_for_function("() => document.querySelectorAll('.vlist-row').length === 1")
    _shot(phone, artifacts_dir, "search")


def test_revoked_token_and_another_worker_never_touch_unsynced_visits(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    from fieldapp.models import DeviceToken

    phone = phones()
    phone.login("worker_a")
    blocked = lambda route: route.abort("internetdisconnected")  # noqa: E731
    phone.context.route("**/api/v1/sync/push", blocked)
    phone.open_household("陈秀英")
    phone.fill_visit()
    phone.save_visit()
    [record] = phone.outbox()
    assert record["owner"] == "worker_a"

    # An admin revokes the phone's token: the next sync asks for the password.
    for token in db.session.scalars(sa.select(DeviceToken).where(DeviceToken.user_id == town.worker_a.id)):
        token.revoked_at = dt.datetime.now(dt.UTC)
    db.session.commit()
    phone.context.unroute("**/api/v1/sync/push", blocked)
    phone.page.evaluate("window.fieldapp.syncNow('test')")
    phone.page.wait_for_selector("text=登录已过期或已退出")
    assert [r["uuid"] for r in phone.outbox()] == [record["uuid"]]

    # Another worker logs in on the same phone: worker_a's visit stays, unsent.
    phone.login("worker_b")
    phone.page.wait_for_selector("#hh-counts:has-text('/ 2')")
    phone.goto("/app/sync")
    phone.page.wait_for_selector("text=另有其他网格员的 1 条记录")
    assert _server_visits() == []
    phone.page.click("#logout-button")
    phone.page.wait_for_selector("#login-username")
    assert [r["uuid"] for r in phone.outbox()] == [record["uuid"]]

    # worker_a comes back: the visit goes up under worker_a.
    phone.login("worker_a")
    phone.wait_outbox_empty()
    [stored] = _server_visits()
    assert stored.uuid == record["uuid"] and stored.worker_id == town.worker_a.id


def test_returned_visit_shows_the_comment_and_is_resubmitted_with_supersedes(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    from tests.factories import make_visit

    household = town.households_a[0]
    old = make_visit(household, town.worker_a, town.campaign, review_status="returned",
                     review_comment="收入填写有误，请核实工资性收入")
    db.session.commit()
    phone = phones()
    phone.login()
    phone.page.wait_for_selector("#returned-link:has-text('被退回 1')")
    phone.page.click("#returned-link")
    phone.page.wait_for_selector("text=收入填写有误，请核实工资性收入")
    phone.page.click("a:has-text('修改后重新提交')")
    phone.page.wait_for_selector("#review-comment:has-text('收入填写有误')")
    phone.fill_visit(wage="24000")
    phone.save_visit()
    phone.wait_outbox_empty()
    stored = {v.uuid: v for v in _server_visits()}
    assert len(stored) == 2
    [new] = [v for v in stored.values() if v.uuid != old.uuid]
    assert new.data["income_wage"] == 24000
    assert stored[old.uuid].review_status == "superseded"


def test_new_household_not_on_the_roster_is_pushed_with_a_null_household_id(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    from fieldapp.models import Household
    from sync.idnumber import make_id

    phone = phones()
    phone.login()
    page = phone.page
    page.click("a:has-text('新增农户')")
    page.wait_for_selector("#visit-form")
    page.fill("input[name=head_name]", "胡新民")
    head_id = make_id("420281", dt.date(1980, 3, 4), 17)
    page.fill("input[name=head_id]", head_id.lower())
    page.fill("input[name=group]", "五组")
    page.fill("input[name=size]", "3")
    page.fill("input[name=labor_count]", "4")
    page.check("input[name=category][value=general]")
    page.check("input[name=monitor_type][value=none]")
    phone.fill_visit()
    page.click("#save-visit")
    # The phone shows the server's message for the same rule before anything is sent.
    page.wait_for_selector("[data-field=labor_count] .error:has-text('劳动力人数不能大于家庭人口数')")
    page.fill("input[name=labor_count]", "2")
    phone.save_visit()
    [record] = phone.outbox() or [None]
    phone.wait_outbox_empty()
    [visit] = _server_visits()
    assert record is None or visit.uuid == record["uuid"]
    household = db.session.get(Household, visit.household_id)
    assert household.head_name == "胡新民" and household.group == "5组" and household.source == "field"
    assert household.head_id == head_id


def test_wechat_and_iphone_browsers_are_told_what_to_do(browser: Any, live_server: Any) -> None:
    wechat = ("Mozilla/5.0 (Linux; Android 12; V2118A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0 "
              "Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230405 MicroMessenger/8.0.35.2360 WeChat/arm64")
    iphone = ("Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
              "Version/16.6 Mobile/15E148 Safari/604.1")
    for agent, expected in ((wechat, "在浏览器打开"), (iphone, "添加到主屏幕")):
        context = browser.new_context(user_agent=agent, viewport={"width": 360, "height": 640})
        try:
            page = context.new_page()
            page.goto(f"{live_server.url}/app/login")
            page.wait_for_selector(f"#banners .notice:has-text('{expected}')")
        finally:
            context.close()


def test_exported_backup_imports_on_the_server_and_a_later_sync_adds_nothing(
    town: SmallTown, phones: Any, live_server: Any, runner: Any, tmp_path: Path,
) -> None:
    phone = phones()
    phone.login()
    phone.offline()
    for name in ("王建国", "刘伟"):
        phone.open_household(name)
        phone.fill_visit()
        phone.save_visit()
    saved = sorted(r["uuid"] for r in phone.outbox())
    phone.goto("/app/sync")
    with phone.page.expect_download() as download:
        phone.page.click("#export-button")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name.startswith("fieldapp-backup-") and path.suffix == ".json"

    result = runner.invoke(args=["import-backup", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.count("\taccepted\t") == 2
    assert sorted(v.uuid for v in _server_visits()) == saved

    # The phone reconnects: its records are acknowledged (already received), nothing doubles.
    phone.online()
    phone.page.click("#sync-button")
    phone.wait_outbox_empty()
    assert sorted(v.uuid for v in _server_visits()) == saved
    statuses = phone.idb("(await db.getAll('visits')).map((v) => v.sync_status)")
    assert statuses == ["already_received", "already_received"]


def test_a_village_taken_away_leaves_the_phone_and_one_given_arrives(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    from fieldapp.admin.services import assign_villages

    phone = phones()
    phone.login("worker_a")
    page = phone.page
    page.wait_for_selector("#hh-counts:has-text('已排查 0 / 3')")
    assert "王建国" in page.inner_text("#hh-list")

    assign_villages(town.admin, town.worker_a.id, [town.village_b.id])
    page.evaluate("window.fieldapp.syncNow('test')")
    page.wait_for_selector("#hh-counts:has-text('已排查 0 / 2')")
    listed = page.inner_text("#hh-list")
    assert "柯友明" in listed and "王建国" not in listed


def test_a_batch_id_the_server_knows_with_other_records_is_replaced_and_the_visits_stored(
    client: Any, town: SmallTown, phones: Any, live_server: Any,
) -> None:
    """The server answers 409 batch_conflict for a batch id it stored with other records;
    the phone sends the same records again under a new batch id."""
    from tests.api.conftest import Api, record

    taken = "batch-used-before"
    api = Api(client)
    [earlier] = api.push_ok(api.login("worker_a", "another-phone"), [record(town.households_a[2])],
                            batch_id=taken)
    answers: list[tuple[int, str | None]] = []

    def reuse_the_first_batch_id(route: Any) -> None:
        body = json.loads(route.request.post_data)
        if not answers:
            body["batch_id"] = taken
        response = route.fetch(post_data=json.dumps(body))
        payload = response.json()
        answers.append((response.status, payload.get("error", {}).get("code")))
        route.fulfill(response=response)

    phone = phones()
    phone.login()
    phone.context.route("**/api/v1/sync/push", reuse_the_first_batch_id)
    phone.page.evaluate("async () => { window.syncEvents = [];"
                        " (await import('/static/js/sync.js')).onSync((e) => window.syncEvents.push(e.type)); }")
    phone.open_household("王建国")
    phone.fill_visit()
    phone.save_visit()
    phone.wait_outbox_empty(timeout=15)
    phone.wait_until("window.syncEvents.includes('done') || window.syncEvents.includes('error')")
    assert answers[0] == (409, "batch_conflict") and answers[1] == (200, None), answers
    events = phone.page.evaluate("window.syncEvents")
    assert "error" not in events, f"the sync that met the 409 failed: {events}"
    [visit] = [v for v in _server_visits() if v.uuid != earlier["uuid"]]
    assert visit.household_id == town.households_a[0].id and visit.batch_id != taken


def test_a_supervisor_phone_holds_masked_numbers_and_cannot_fill_a_visit(
    town: SmallTown, phones: Any, live_server: Any,
) -> None:
    phone = phones()
    phone.login("supervisor_a")
    household = town.households_a[0]
    stored = phone.idb(f"await db.get('households', '{household.id}')")
    assert stored["masked"] is True and stored["head_id"] != household.head_id
    assert stored["head_id"].endswith(household.head_id[-4:]) and "*" in stored["attributes"]["phone"]
    phone.page.fill("#hh-search", household.head_id[-4:])
    phone.page.click(f".vlist-row:has-text('{household.head_name}')")
    phone.page.wait_for_selector(".notice.bad:has-text('已脱敏')")
    assert phone.page.locator("#visit-form").count() == 0
