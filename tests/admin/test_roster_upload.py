"""Uploading a roster file on the admin page (the import itself is tested under tests/roster)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Household
from fieldapp.roster import write_roster
from tests.factories import make_id_number
from tests.security.html_checks import csp_problems

pytestmark = pytest.mark.both_backends


def _row(n: int, **changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "code": f"R{n:08d}", "town": "保安镇", "village": "沼山村", "group": "2组", "hamlet": "刘通湾",
        "head_name": "柯友明", "head_id": make_id_number(5000 + n), "phone": f"139{n:08d}", "size": 3,
        "labor_count": 2, "category": "一般农户", "monitor_type": "", "risk_eliminated": "",
    }
    row.update(changes)
    return row


def _upload(admin_client, tmp_path: Path, rows: list[dict[str, object]], name: str = "roster.csv",
            skip: bool = False):
    path = write_roster(tmp_path / name, rows) if name.endswith((".csv", ".xlsx")) else None
    content = path.read_bytes() if path else b"whatever"
    data = {"file": (io.BytesIO(content), name)}
    if skip:
        data["skip_bad_rows"] = "y"
    return admin_client.post("/admin/roster", data, content_type="multipart/form-data")


def _households() -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Household)) or 0


def test_upload_imports_and_is_audited(admin_client, town, tmp_path) -> None:
    before = _households()
    response = _upload(admin_client, tmp_path, [_row(1), _row(2), _row(3, village="新建村")])
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "已导入 3 行" in html and "新建村" in html
    assert _households() == before + 3
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "roster_import")).one()
    assert entry.user_id == town.admin.id and entry.object_id == "roster.csv"
    again = _upload(admin_client, tmp_path, [_row(1), _row(2), _row(3, village="新建村")])
    assert "未变化 3 户" in again.get_data(as_text=True)
    assert _households() == before + 3


def test_bad_rows_are_listed_and_nothing_is_imported(admin_client, town, tmp_path) -> None:
    before = _households()
    rows = [_row(1), _row(2, head_id="420281197005011234"), _row(3, size="很多"), _row(4)]
    response = _upload(admin_client, tmp_path, rows)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "第3行" in html and "第4行" in html and "第2行" not in html
    assert "有错误的行（共 2 行）" in html
    assert _households() == before
    assert csp_problems(html) == []


def test_skip_bad_rows_imports_the_good_ones(admin_client, town, tmp_path) -> None:
    before = _households()
    rows = [_row(1), _row(2, head_name="<script>alert(1)</script>"), _row(3)]
    response = _upload(admin_client, tmp_path, rows, skip=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "跳过有错误的 1 行" in html and "第3行" in html
    assert "<script>alert(1)</script>" not in html
    assert _households() == before + 2


def test_other_file_types_are_refused(admin_client, town, tmp_path) -> None:
    response = _upload(admin_client, tmp_path, [], name="roster.txt")
    assert response.status_code == 422
    assert "只接受 .csv 或 .xlsx 文件" in response.get_data(as_text=True)


def test_unreadable_file_is_reported(admin_client, town, tmp_path) -> None:
    data = {"file": (io.BytesIO("户编号,随便\n1,2\n".encode()), "roster.csv")}
    response = admin_client.post("/admin/roster", data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "花名册未导入" in response.get_data(as_text=True)


def _xlsx_with_sheet(tmp_path: Path, sheet_xml: bytes, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """A real roster workbook with one part replaced."""
    import zipfile

    good = write_roster(tmp_path / "good.xlsx", [_row(1)]).read_bytes()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item, sheet_xml if item.filename == part else source.read(item.filename))
    return out.getvalue()


_SHEET = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
BAD_FILES = {
    "malformed sheet XML": ("roster.xlsx", lambda p: _xlsx_with_sheet(
        p, _SHEET + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row><row')),
    "XXE": ("roster.xlsx", lambda p: _xlsx_with_sheet(
        p, b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + _SHEET
        + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>')),
    "billion laughs": ("roster.xlsx", lambda p: _xlsx_with_sheet(
        p, b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
        b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
        b'<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>' + _SHEET
        + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&h;</t></is></c></row></sheetData></worksheet>')),
    "UTF-8 BOM then GB18030": ("roster.csv", lambda p: b"\xef\xbb\xbf" + "户编号,乡镇,村\n1,保安镇,沼山村\n".encode("gb18030")),
    "UTF-16 BOM then invalid data": ("roster.csv", lambda p: b"\xff\xfe" + "户编号".encode("utf-16-le") + b"\x00\xd8\x41"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_roster_files_are_422_and_write_nothing(admin_client, town, tmp_path, kind) -> None:
    """Each answered 500 (a ParseError or UnicodeDecodeError escaped the reader)."""
    name, make = BAD_FILES[kind]
    before = _households()
    data = {"file": (io.BytesIO(make(tmp_path)), name)}
    response = admin_client.post("/admin/roster", data, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:500]
    assert "花名册未导入" in html
    assert "passwd" not in html and "root:" not in html
    assert _households() == before
