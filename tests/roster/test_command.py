"""``fieldapp roster import FILE [--skip-bad-rows]``."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from fieldapp.demo.generator import generate_town
from fieldapp.extensions import db
from fieldapp.models import Household
from tests.roster.conftest import WriteRoster, sample_rows

pytestmark = pytest.mark.both_backends


def household_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(Household)) or 0)


def test_good_file_is_imported(app: Flask, runner: FlaskCliRunner, write: WriteRoster) -> None:
    result = runner.invoke(args=["roster", "import", str(write(sample_rows()))])
    assert result.exit_code == 0, result.output
    assert "已导入 8 行：新增 8 户，更新 0 户，未变化 0 户" in result.stdout
    assert "新建村/社区：保安镇团结街社区、保安镇沼山村、保安镇磨山村" in result.stdout
    assert household_count(app) == 8
    again = runner.invoke(args=["roster", "import", str(write(sample_rows()))])
    assert again.exit_code == 0 and "新增 0 户，更新 0 户，未变化 8 户" in again.stdout


def test_bad_rows_are_listed_and_nothing_is_imported(app: Flask, runner: FlaskCliRunner,
                                                     write: WriteRoster) -> None:
    rows = sample_rows()
    rows[0]["head_id"] = "4.20281E+17"
    rows[3]["monitor_type"] = "脱贫不稳定户"
    result = runner.invoke(args=["roster", "import", str(write(rows))])
    assert result.exit_code == 1
    assert "有错误的行（2）" in result.stderr
    assert "第2行（户编号 H001）：户主身份证号（head_id）“4.20281E+17”：身份证号被 Excel 转成了数字" in result.stderr
    assert "第5行（户编号 H004）：监测对象类别（monitor_type）“脱贫不稳定户”：只有脱贫户可以是脱贫不稳定户" in result.stderr
    assert "未导入：2 行有错误" in result.stderr and "--skip-bad-rows" in result.stderr
    assert household_count(app) == 0


def test_skip_bad_rows_imports_the_rest_and_lists_the_bad(app: Flask, runner: FlaskCliRunner,
                                                          write: WriteRoster) -> None:
    rows = sample_rows()
    rows[0]["head_id"] = "4.20281E+17"
    result = runner.invoke(args=["roster", "import", "--skip-bad-rows", str(write(rows))])
    assert result.exit_code == 0, result.output
    assert "第2行（户编号 H001）" in result.stderr
    assert "已导入 7 行：新增 7 户" in result.stdout and "跳过有错误的 1 行" in result.stdout
    assert household_count(app) == 7


def test_nothing_imported_with_skip_is_a_failure(app: Flask, runner: FlaskCliRunner, write: WriteRoster) -> None:
    rows = [dict(r, size="") for r in sample_rows()]
    result = runner.invoke(args=["roster", "import", "--skip-bad-rows", str(write(rows))])
    assert result.exit_code == 1
    assert result.stderr.count("家庭人口数（size）“（空）”：必填") == 8
    assert household_count(app) == 0


def test_error_list_is_capped(app: Flask, runner: FlaskCliRunner, write: WriteRoster) -> None:
    rows = [dict(r, category="?") for r in sample_rows()]
    result = runner.invoke(args=["roster", "import", "--max-errors", "3", str(write(rows))])
    assert result.exit_code == 1
    assert result.stderr.count("户类型（category）“?”") == 3
    assert "另有 5 行有错误" in result.stderr


def test_unreadable_file_is_a_clean_error(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("户编号,乡镇\nH1,保安镇\n", encoding="utf-8")
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 1
    assert "缺少必填列：村（village）" in result.stderr
    assert "Traceback" not in result.output


def test_large_file_shows_progress(app: Flask, runner: FlaskCliRunner, write: WriteRoster) -> None:
    path = write([h.roster_row() for h in generate_town(7)[:3000]])
    assert path.stat().st_size > 256 * 1024
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "校验" in result.stderr and "写入" in result.stderr
    assert household_count(app) == 3000


def test_utf16_tab_separated_file_with_other_spellings_is_imported(app: Flask, runner: FlaskCliRunner,
                                                                    tmp_path: Path) -> None:
    """Excel's "Unicode text" export, with the headers ``dedup check`` reads (身份证号, a 编号
    column of row labels): the import reads a file the way dedup check does."""
    keys = ("code", "town", "village", "group", "hamlet", "head_name", "head_id", "size", "category")
    header = ["编号", "户编号", "乡镇", "行政村", "组", "湾/自然村", "户主", "身份证号", "家庭人口数", "户类型"]
    lines = ["\t".join(header)] + ["\t".join([f"r{n}", *(str(row[key]) for key in keys)])
                                   for n, row in enumerate(sample_rows(), 1)]
    path = tmp_path / "roster.txt"
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    result = runner.invoke(args=["roster", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "已导入 8 行：新增 8 户" in result.stdout
    with app.app_context():
        ids = set(db.session.scalars(sa.select(Household.head_id)))
    assert ids == {row["head_id"] for row in sample_rows()}
