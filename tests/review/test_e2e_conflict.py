"""A supervisor resolves a conflict in Chromium against a live server (phone-sized window)."""

from __future__ import annotations

import pytest

from fieldapp.models import Conflict, Household, Visit
from tests.review.conftest import build_scene, reload


@pytest.mark.e2e
def test_resolve_conflict_in_the_browser(live_server, town, page, artifacts_dir) -> None:
    scene = build_scene(town)
    errors: list[str] = []
    missing: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "supervisor_a")
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/review/")

    for name, url in (("batch", "/review/batches/batch-a"), ("duplicate", f"/review/duplicates/{scene.candidate.id}"),
                      ("batches", "/review/batches")):
        page.goto(f"{live_server.url}{url}")
        page.screenshot(path=str(artifacts_dir / f"review-{name}.png"), full_page=True)
    page.goto(f"{live_server.url}/review/")
    page.click("text=冲突")
    page.click(f"a[href='/review/conflicts/{scene.conflict.id}']")
    field = page.locator("#field-phone")
    assert "本次走访值" in field.inner_text() and "139****1111" in field.inner_text()
    # typing a corrected value selects "改为" by itself (review.js)
    page.fill("#custom-phone", "13655556666")
    assert page.locator("input[name=pick_phone][value=custom]").is_checked()
    page.screenshot(path=str(artifacts_dir / "review-conflict.png"), full_page=True)
    page.click("text=确认并更新户信息")
    page.wait_for_selector(".flash-success")
    assert "冲突已解决" in page.locator(".flash-success").inner_text()
    assert "已解决" in page.content()
    assert errors == []  # no CSP violation or script error
    assert [url for url in missing if "/review/" in url or "/static/" in url] == []

    household = reload(Household, scene.conflict_visit.household_id)
    assert household.phone == "13655556666" and household.rev == 3
    assert reload(Conflict, scene.conflict.id).status == "resolved"
    assert reload(Visit, scene.conflict_visit.uuid).sync_status == "accepted"
