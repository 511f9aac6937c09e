"""The roster upload page offers a template (XLSX and CSV) and states the column rules; the
template as downloaded imports through the same page."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Household
from fieldapp.roster.template import EXAMPLES, RULES
from sync.roster_file import COLUMNS
from tests.conftest import AuthActions

pytestmark = pytest.mark.both_backends

HEADERS = [c.label + ("*" if c.required else "") for c in COLUMNS]


def test_every_column_has_a_rule_and_an_example() -> None:
    assert set(RULES) == set(EXAMPLES) == {c.key for c in COLUMNS}


def test_the_upload_page_links_the_templates_and_lists_the_rules(admin_client) -> None:
    html = admin_client.get("/admin/roster").get_data(as_text=True)
    assert 'href="/admin/roster/template.xlsx"' in html and 'href="/admin/roster/template.csv"' in html
    assert "列名见导入说明" not in html
    rules = html[html.index('id="roster-columns"'):]
    for column in COLUMNS:
        assert f"<td>{column.label}</td>" in rules, column.label
    assert "身份证号" in rules and "文本" in rules  # the Excel advice for ID numbers
    assert "一般农户" in rules and "脱贫户" in rules


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_the_template_as_downloaded_imports(admin_client, town, file_format) -> None:
    response = admin_client.get(f"/admin/roster/template.{file_format}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    if file_format == "xlsx":
        book = openpyxl.load_workbook(io.BytesIO(response.data))
        sheet = book.worksheets[0]
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == HEADERS
        id_cell = sheet.cell(row=2, column=HEADERS.index("户主身份证号*") + 1)
        assert isinstance(id_cell.value, str) and len(id_cell.value) == 18
        assert id_cell.number_format == "@"  # text: Excel keeps all 18 digits
        assert book.worksheets[1].title == "填写说明"
        assert book.worksheets[2].title == "家庭成员"  # the optional members sheet
    else:
        assert response.data.startswith(b"\xef\xbb\xbf")
        assert response.data.decode("utf-8-sig").splitlines()[0].split(",") == HEADERS
    before = db.session.scalar(sa.select(sa.func.count()).select_from(Household))
    upload = admin_client.post("/admin/roster", {"file": (io.BytesIO(response.data), f"模板.{file_format}")},
                               content_type="multipart/form-data")
    html = upload.get_data(as_text=True)
    assert upload.status_code == 200, html
    assert "已导入 1 行" in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == before + 1
    if file_format == "xlsx":  # its example member came along
        from fieldapp.models import HouseholdMember
        assert db.session.scalar(sa.select(HouseholdMember.name)) == "王建国"


def test_the_template_is_for_admins(client, town) -> None:
    AuthActions(client).login("supervisor_a")
    assert client.get("/admin/roster/template.xlsx").status_code == 403
