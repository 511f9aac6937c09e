"""Roster uploads are bounded: what an XLSX file expands to, the rows of any file, the
bad rows listed; a large upload is imported outside the request with its progress
on the page."""

from __future__ import annotations

import io
import resource
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Household
from fieldapp.roster import write_roster
from tests.admin.test_roster_upload import _households, _row

pytestmark = pytest.mark.both_backends

MIB = 1024 * 1024
_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _bomb(tmp_path: Path, part: str, megabytes: int) -> bytes:
    """A real roster workbook whose ``part`` expands to ``megabytes`` MB of one repeated
    character (one cell of the sheet, or one shared string), written as it streams."""
    good = write_roster(tmp_path / "good.xlsx", [_row(1)]).read_bytes()
    head, tail = ((b"<worksheet " + _NS + b'><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>',
                   b"</t></is></c></row></sheetData></worksheet>") if part.endswith("sheet1.xml") else
                  (b"<sst " + _NS + b' count="1" uniqueCount="1"><si><t>', b"</t></si></sst>"))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != part:
                target.writestr(item, source.read(item.filename))
        info = zipfile.ZipInfo(part)
        info.compress_type = zipfile.ZIP_DEFLATED
        with target.open(info, "w", force_zip64=True) as stream:
            stream.write(head)
            chunk = b"a" * MIB
            for _ in range(megabytes):
                stream.write(chunk)
            stream.write(tail)
    return out.getvalue()


def _post(admin_client, content: bytes, name: str, skip: bool = False):
    data = {"file": (io.BytesIO(content), name)}
    if skip:
        data["skip_bad_rows"] = "y"
    return admin_client.post("/admin/roster", data, content_type="multipart/form-data")


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_an_xlsx_bomb_is_refused_before_it_expands(admin_client, town, tmp_path, part) -> None:
    """A 100 KB workbook whose one cell expands to 100 MB took a worker to 1.0 GB; a
    shared-strings bomb to 1.3 GB."""
    content = _bomb(tmp_path, part, 100)
    assert len(content) < 300 * 1024
    before, started = _max_rss_mb(), time.monotonic()
    response = _post(admin_client, content, "roster.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 422, html[:300]
    assert "压缩比异常" in html and "花名册未导入" in html
    assert time.monotonic() - started < 5
    assert _max_rss_mb() - before < 150, "the bomb was expanded"
    assert _households() == 5


def test_an_xlsx_over_the_unpacked_bound_is_refused(app, admin_client, town, tmp_path) -> None:
    app.config["ROSTER_MAX_UNPACKED_MB"] = 1
    content = write_roster(tmp_path / "big.xlsx", [_row(n) for n in range(3000)]).read_bytes()
    response = _post(admin_client, content, "big.xlsx")
    assert response.status_code == 422
    assert "超过上限 1 MB" in response.get_data(as_text=True)
    assert _households() == 5


@pytest.mark.parametrize("name", ["roster.csv", "roster.xlsx"])
def test_rows_beyond_the_setting_refuse_the_file(app, admin_client, town, tmp_path, name) -> None:
    """300,000 rows kept a worker busy over 60 s; 500,000 bad CSV rows took 37 s."""
    app.config["ROSTER_MAX_ROWS"] = 50
    content = write_roster(tmp_path / name, [_row(n) for n in range(51)]).read_bytes()
    response = _post(admin_client, content, name)
    assert response.status_code == 422
    assert "花名册超过 50 行" in response.get_data(as_text=True)
    assert _households() == 5
    exactly = write_roster(tmp_path / f"ok-{name}", [_row(n) for n in range(50)]).read_bytes()
    assert _post(admin_client, exactly, name).status_code == 200
    assert _households() == 55


def test_a_csv_field_beyond_the_csv_limit_is_a_file_error(admin_client, town) -> None:
    content = "户编号,乡镇,村\n".encode() + b"1," + b"x" * 200_000 + b"\n"
    response = _post(admin_client, content, "roster.csv")
    assert response.status_code == 422 and "花名册未导入" in response.get_data(as_text=True)


def test_bad_rows_listed_are_bounded_and_all_counted(app, admin_client, town, tmp_path) -> None:
    app.config["ROSTER_MAX_ERRORS"] = 5
    rows = [_row(n, size="很多") for n in range(30)] + [_row(100)]
    response = _post(admin_client, write_roster(tmp_path / "bad.csv", rows).read_bytes(), "bad.csv", skip=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("家庭人口数") >= 5 and "第7行" not in html and "第6行" in html
    assert "有错误的行（共 30 行）" in html and "只列出前 5 行，另有 25 行有错误" in html
    assert _households() == 6
    entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "roster_import")).one()
    assert entry.details["bad_rows"] == [2, 3, 4, 5, 6] and entry.details["bad_row_count"] == 30


def test_a_large_upload_is_imported_outside_the_request_with_its_progress(app, admin_client, town,
                                                                         tmp_path) -> None:
    app.config["ROSTER_BACKGROUND_BYTES"] = 10_000
    rows = [_row(n) for n in range(400)] + [_row(999, head_id="420281197005011234")]
    content = write_roster(tmp_path / "large.csv", rows).read_bytes()
    assert len(content) >= 10_000
    response = _post(admin_client, content, "large.csv", skip=True)
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert "/admin/roster/jobs/" in job_url
    seen = []
    deadline = time.monotonic() + 60
    while True:
        page = admin_client.get(job_url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        status = html.split('data-status="')[1].split('"')[0]
        seen.append(status)
        if status != "running":
            break
        assert 'http-equiv="refresh"' in html and "<progress" in html
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.2)
    assert status == "done", html
    assert "已导入 400 行" in html and "有错误的行（共 1 行）" in html
    db.session.rollback()  # the import committed in another thread's session
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 405
    assert db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "roster_import")).one().user_id \
        == town.admin.id
    assert not list((Path(app.instance_path) / "uploads").glob("tmp*")), "the upload is deleted"
    assert admin_client.get("/admin/roster/jobs/no-such-job-id0").status_code == 404
