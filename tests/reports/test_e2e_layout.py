"""Layout in Chromium (issue 17, item 17): the page header fits one row at 360 px, numeric
headers sit over their numbers, the 处理 button does not wrap, no page asks for a missing file."""

from __future__ import annotations

from typing import Any

import pytest

from fieldapp.extensions import db
from tests import factories
from tests.reports.conftest import Scenario

pytestmark = pytest.mark.e2e

# The right edge of a cell's text (not of the cell): where a reader's eye lines numbers up.
TEXT_RIGHT = """cell => { const r = document.createRange(); r.selectNodeContents(cell);
  const box = r.getBoundingClientRect(); return box.width ? box.right : null; }"""


def _login(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def missing(page: Any) -> list[str]:
    found: list[str] = []
    page.on("response", lambda r: found.append(r.url) if r.status >= 400 else None)
    return found


@pytest.mark.parametrize("username", ["admin", "supervisor_a"])
def test_the_header_is_one_row_at_360_px(live_server, scenario: Scenario, page, missing, artifacts_dir,
                                         username) -> None:
    scenario.town.supervisor_a.display_name = "沼山村审核员张晓明"
    db.session.commit()
    _login(page, live_server.url, username)
    for url in ("/review/", "/reports/"):
        page.goto(f"{live_server.url}{url}")
        header = page.locator("header.topbar").bounding_box()
        assert header is not None and header["height"] <= 60, (url, header)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, url
    page.screenshot(path=str(artifacts_dir / f"reports-360-{username}.png"))
    assert missing == []


@pytest.fixture
def desktop(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_numeric_headers_sit_over_their_numbers(live_server, scenario: Scenario, desktop, artifacts_dir) -> None:
    page = desktop
    _login(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/reports/")
    table = page.locator("#worker-table")
    table.scroll_into_view_if_needed()
    headers = table.locator("thead th")
    cells = table.locator("tbody tr").first.locator("th, td")
    assert headers.count() == cells.count() == 6
    for index in range(1, 5):  # the numeric columns
        header_right = headers.nth(index).evaluate(TEXT_RIGHT)
        cell_right = cells.nth(index).evaluate(TEXT_RIGHT)
        assert abs(header_right - cell_right) <= 3, (index, header_right, cell_right)
    page.screenshot(path=str(artifacts_dir / "reports-1366.png"), full_page=True)


def test_the_duplicates_list_has_no_empty_fields_and_one_line_buttons(live_server, scenario: Scenario,
                                                                      desktop) -> None:
    t = scenario.town
    no_phone = factories.make_household(t.village_a, "王建国", phone=None, group="8组", hamlet=None)
    factories.make_candidate(t.households_a[0], no_phone, campaign=t.campaign,
                             evidence=["身份证号完全相同", "姓名拼音相同", "同村", "家庭人口数相同（4人）"])
    db.session.commit()
    page = desktop
    _login(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/review/duplicates")
    box = page.locator("td .button").first.bounding_box()
    assert box is not None and box["height"] <= 48 and box["width"] >= box["height"], box
    listing = page.locator("table").inner_text()
    assert "8组" in listing and "·  ·" not in listing and "· ·" not in listing
