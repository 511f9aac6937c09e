"""The dashboard, progress.json, follow-up pages and web exports, with scope and audit (both backends)."""

from __future__ import annotations

import csv
import io
import re

import openpyxl
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from fieldapp.extensions import db
from fieldapp.models import AuditLog
from sync.idnumber import mask_id
from tests.conftest import AuthActions, csrf_token_from
from tests.reports.conftest import EXPECTED_A, EXPECTED_TOTALS, Scenario, subset

pytestmark = pytest.mark.both_backends


def exports_logged() -> list[AuditLog]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "export").order_by(AuditLog.id)))


def test_workers_may_not_see_reports(backend: str, scenario: Scenario, auth: AuthActions,
                                     client: FlaskClient) -> None:
    auth.login("worker_a")
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/export/progress.csv").status_code == 403


def test_admin_dashboard_shows_every_village_totals_and_summary(backend: str, scenario: Scenario,
                                                                auth: AuthActions, client: FlaskClient) -> None:
    auth.login("admin")
    page = client.get("/reports/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "沼山村" in html and "磨山村" in html
    assert "截至目前，全镇共完成排查5户，其中排查一般农户4户，脱贫户1户，监测对象1户" in html
    assert '<tr class="totals">' in html and "71.4%" in html
    assert "<svg" in html and html.count('class="bar"') == 4  # 12, 13, 14 (empty), 15 October
    assert "<script>" not in html and 'style="' not in html  # the CSP allows neither
    assert "张网格" in html and "李网格" in html


def test_sorting_by_a_column_without_javascript(backend: str, scenario: Scenario, auth: AuthActions,
                                                client: FlaskClient) -> None:
    auth.login("admin")
    html = client.get("/reports/?sort=households&order=desc").get_data(as_text=True)
    body = html[html.index("<tbody>", html.index('id="progress-table"')):]
    assert body.index("磨山村") < body.index("沼山村")
    html = client.get("/reports/?sort=households&order=asc").get_data(as_text=True)
    body = html[html.index("<tbody>", html.index('id="progress-table"')):]
    assert body.index("沼山村") < body.index("磨山村")


def test_supervisor_sees_and_exports_only_their_villages(backend: str, scenario: Scenario,
                                                         auth: AuthActions, client: FlaskClient) -> None:
    auth.login("supervisor_a")
    html = client.get("/reports/").get_data(as_text=True)
    assert "沼山村" in html and "磨山村" not in html and "李网格" not in html
    assert "截至目前，沼山村共完成排查2户" in html
    document = client.get("/reports/progress.json").get_json()
    assert [v["village"] for v in document["villages"]] == ["沼山村"]
    assert subset(document["totals"], EXPECTED_A) == EXPECTED_A
    exported = client.get("/reports/export/progress.csv").data.decode("utf-8-sig")
    assert "沼山村" in exported and "磨山村" not in exported
    follow_up = client.get("/reports/export/followup/suggest_eliminate.csv").data.decode("utf-8-sig")
    assert "黄德胜" not in follow_up
    assert exports_logged()[-1].details["villages"] == [scenario.town.village_a.id]


def test_progress_csv_has_bom_chinese_headers_totals_and_is_audited(backend: str, scenario: Scenario,
                                                                    auth: AuthActions, client: FlaskClient) -> None:
    auth.login("admin")
    response = client.get("/reports/export/progress.csv")
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["村（社区）", "应排查户数", "新发现户数", "已排查户数"]
    assert [r[0] for r in rows[1:]] == ["沼山村", "磨山村", "合计"]
    assert rows[-1][1:4] == ["7", "1", "5"]
    (entry,) = exports_logged()
    assert entry.object_id == "progress" and entry.details["format"] == "csv"
    assert entry.user_id == scenario.town.admin.id and entry.details["villages"] is None


def test_progress_xlsx_opens_with_totals_frozen_header_and_widths(backend: str, scenario: Scenario,
                                                                 auth: AuthActions, client: FlaskClient) -> None:
    auth.login("admin")
    response = client.get("/reports/export/progress.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    # rows 1-2: the title and the export time; completion as a percent cell (issue 17, item 17)
    assert sheet.freeze_panes == "B4"
    assert sheet["A3"].value == "村（社区）" and sheet["A3"].font.bold
    assert [sheet.cell(row=r, column=1).value for r in range(4, 7)] == ["沼山村", "磨山村", "合计"]
    headers = [c.value for c in sheet[3]]
    totals = dict(zip(headers, [c.value for c in sheet[6]], strict=True))
    assert (totals["应排查户数"], totals["已排查户数"], totals["完成率（%）"]) == (7, 5, pytest.approx(0.714))
    assert sheet[6][0].font.bold
    assert sheet.column_dimensions["A"].width >= 10
    assert exports_logged()[-1].details["format"] == "xlsx"


def test_follow_up_masked_by_default_full_only_for_an_admin_post(backend: str, scenario: Scenario,
                                                                 auth: AuthActions, client: FlaskClient) -> None:
    gap = scenario.town.households_b[1]  # guarantee gap; head name begins with "="
    auth.login("supervisor_b")
    page = client.get("/reports/followup/guarantee_gap")
    html = page.get_data(as_text=True)
    assert mask_id(gap.head_id) in html and gap.head_id not in html
    masked = client.get("/reports/export/followup/guarantee_gap.csv").data.decode("utf-8-sig")
    assert mask_id(gap.head_id) in masked and gap.head_id not in masked and gap.phone not in masked
    assert "'=1+2尹桂兰" in masked  # neutralised against formula injection
    token = csrf_token_from(html) if 'name="csrf_token"' in html else ""
    denied = client.post("/reports/export/followup/guarantee_gap.xlsx", data={"full": "1", "csrf_token": token})
    assert denied.status_code == 403
    auth.logout()
    auth.login("admin")
    html = client.get("/reports/followup/guarantee_gap").get_data(as_text=True)
    assert gap.head_id not in html
    full = client.post("/reports/export/followup/guarantee_gap.xlsx",
                       data={"full": "1", "csrf_token": csrf_token_from(html)})
    assert full.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(full.data)).active
    row = [c.value for c in sheet[4]]  # after the title, the export time and the headers
    assert gap.head_id in row and gap.phone in row and "'=1+2尹桂兰" in row
    logged = exports_logged()
    assert [e.details["full_values"] for e in logged] == [False, True]
    assert logged[-1].object_id == "follow_up:guarantee_gap" and logged[-1].user_id == scenario.town.admin.id


def test_full_values_need_a_csrf_token(backend: str, scenario: Scenario, auth: AuthActions,
                                       client: FlaskClient) -> None:
    auth.login("admin")
    response = client.post("/reports/export/followup/guarantee_gap.csv", data={"full": "1"})
    assert response.status_code == 400
    assert exports_logged() == []


def test_unknown_flag_or_format_is_not_found(backend: str, scenario: Scenario, auth: AuthActions,
                                             client: FlaskClient) -> None:
    auth.login("admin")
    assert client.get("/reports/followup/nope").status_code == 404
    assert client.get("/reports/export/progress.pdf").status_code == 404
    assert client.get("/reports/?campaign=missing").status_code == 404


def test_progress_json_matches_the_counts(backend: str, scenario: Scenario, auth: AuthActions,
                                         client: FlaskClient) -> None:
    auth.login("admin")
    document = client.get("/reports/progress.json").get_json()
    assert subset(document["totals"], EXPECTED_TOTALS) == EXPECTED_TOTALS
    assert document["summary"].startswith("截至目前，全镇共完成排查5户")


def test_a_supervisor_of_every_village_reads_the_whole_town_form(backend: str, scenario: Scenario,
                                                                  client: FlaskClient) -> None:
    """The demo's supervisor has all 30 villages: "全镇", not the 30 names (issue 17, item 14)."""
    from tests import factories

    t = scenario.town
    factories.make_user("supervisor_all", "supervisor", [t.village_a, t.village_b])
    db.session.commit()
    AuthActions(client).login("supervisor_all")
    html = client.get("/reports/").get_data(as_text=True)
    assert "截至目前，全镇共完成排查5户" in html
    assert "沼山村、磨山村" not in html
    summary = client.get("/reports/progress.json").get_json()["summary"]
    assert summary.startswith("截至目前，全镇共完成排查5户")


MONEY = re.compile(r"^\d+\.\d{2}$")


def test_follow_up_money_has_two_decimals_everywhere(backend: str, scenario: Scenario, auth: AuthActions,
                                                     client: FlaskClient) -> None:
    """"6427.0" next to "6426.75" on one list (issue 17, item 17): money always with two decimals."""
    auth.login("admin")
    html = client.get("/reports/followup/below_10k").get_data(as_text=True)
    body = html[html.index("<tbody>"):html.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    assert rows
    for row in rows:
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        assert MONEY.match(cells[11]) and MONEY.match(cells[12]), cells
    exported = list(csv.reader(io.StringIO(
        client.get("/reports/export/followup/below_10k.csv").data.decode("utf-8-sig"))))
    for row in exported[1:]:
        assert MONEY.match(row[11]) and MONEY.match(row[12]), row
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/reports/export/followup/below_10k.xlsx").data)).active
    money = [sheet.cell(row=4, column=12), sheet.cell(row=4, column=13)]
    assert all(isinstance(c.value, int | float) and c.number_format == "0.00" for c in money)


def test_the_xlsx_has_a_title_an_export_date_and_a_percent_column(backend: str, scenario: Scenario,
                                                                    auth: AuthActions, client: FlaskClient) -> None:
    auth.login("admin")
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/reports/export/progress.xlsx").data)).active
    assert sheet["A1"].value == "2023年防止返贫监测帮扶集中排查 · 排查进度" and sheet["A1"].font.bold
    assert re.fullmatch(r"导出时间：\d{4}-\d{2}-\d{2} \d{2}:\d{2}", sheet["A2"].value)
    headers = [c.value for c in sheet[3]]
    completion = sheet.cell(row=6, column=headers.index("完成率（%）") + 1)  # the totals row
    assert completion.value == pytest.approx(0.714) and completion.number_format == "0.0%"
    assert sheet.freeze_panes == "B4"
