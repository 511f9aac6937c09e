"""The roster's members sheet (issue 19): an XLSX roster's second sheet or a second
CSV keyed by 户编号, checked by the form's member rules, stored with the
household; all or nothing with the households (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from fieldapp.extensions import db
from fieldapp.households import write_members
from fieldapp.models import Household, HouseholdMember, utcnow
from fieldapp.roster import import_roster
from fieldapp.roster.writer import write_members as write_members_file
from sync.idnumber import make_id
from tests.roster.conftest import WriteRoster, person_id, sample_rows

pytestmark = pytest.mark.both_backends

SPOUSE = make_id("420281", dt.date(1962, 3, 8), 12)
CHILD = make_id("420281", dt.date(2010, 6, 1), 13)


def member_rows() -> list[dict[str, object]]:
    return [
        {"code": "H001", "name": "王建国", "id_number": person_id(1), "relation": "本人", "health": "健康",
         "skill": "普通劳动力", "work": "省外务工", "work_months": 10, "school": "非在校生",
         "medical_insured": "是", "pension_insured": "是", "dibao": "否"},
        {"code": "H001", "name": "李秀英", "id_number": SPOUSE, "relation": "配偶", "health": "残疾",
         "disability_type": "肢体残疾", "disability_grade": "二级"},
        {"code": "H001", "name": "王小明", "id_number": CHILD, "relation": "child", "school": "初中"},
        {"code": "H002", "name": "刘伟", "id_number": person_id(2), "relation": "本人"},
    ]


def members_of(code: str) -> list[HouseholdMember]:
    db.session.rollback()
    household = db.session.scalar(sa.select(Household).where(Household.code == code))
    return list(db.session.scalars(sa.select(HouseholdMember).where(HouseholdMember.household_id == household.id)
                                   .order_by(HouseholdMember.position)))


def test_an_xlsx_rosters_members_sheet_is_stored_with_its_households(app: Flask, write: WriteRoster) -> None:
    path = write(sample_rows(), "roster.xlsx", members=member_rows())
    with app.app_context():
        result = import_roster(path)
        assert result.imported and not result.errors, [e.message for e in result.errors]
        assert result.members_households == 2
        rows = members_of("H001")
        assert [(m.name, m.id_number, m.relation, m.source) for m in rows] == [
            ("王建国", person_id(1), "self", "roster"), ("李秀英", SPOUSE, "spouse", "roster"),
            ("王小明", CHILD, "child", "roster")]
        # stored as a visit stores its members: with the birth date and sex read from the ID number
        assert rows[0].answers == {"health": "healthy", "skill": "normal", "work": "out_province",
                                   "work_months": 10, "school": "none", "medical_insured": True,
                                   "pension_insured": True, "dibao": False, "birth_date": "1960-02-07",
                                   "sex": "男"}
        assert rows[1].answers == {"health": "disabled", "disability_type": "physical", "disability_grade": "2",
                                   "birth_date": "1962-03-08", "sex": "女"}
        assert [m.name for m in members_of("H003")] == []


def test_an_xlsx_roster_without_a_members_sheet_imports_as_before(app: Flask, write: WriteRoster) -> None:
    with app.app_context():
        result = import_roster(write(sample_rows(), "roster.xlsx"))
        assert result.imported and result.members_households == 0


def test_a_csv_roster_takes_a_members_csv_from_the_command_line(
        app: Flask, write: WriteRoster, runner: FlaskCliRunner, tmp_path: Path) -> None:
    members = write_members_file(tmp_path / "members.csv", member_rows())
    result = runner.invoke(args=["roster", "import", str(write(sample_rows())), "--members", str(members)])
    assert result.exit_code == 0, result.output
    assert "家庭成员：2 户" in result.output
    with app.app_context():
        assert len(members_of("H001")) == 3


def test_a_bad_member_row_stops_the_import_and_is_named(app: Flask, write: WriteRoster) -> None:
    rows = member_rows()
    rows[1]["id_number"] = SPOUSE[:-1] + ("0" if SPOUSE[-1] != "0" else "1")
    rows[2]["code"] = "H999"
    rows[3]["relation"] = "表哥"
    path = write(sample_rows(), "roster.xlsx", members=rows)
    with app.app_context():
        result = import_roster(path)
        assert not result.imported
        messages = [e.message for e in result.errors]
        assert any(m.startswith("家庭成员表第3行") and "身份证号校验位错误" in m for m in messages), messages
        assert any("H999" in m and "花名册中没有这个户编号" in m for m in messages), messages
        assert any("与户主关系（relation）“表哥”" in m for m in messages), messages
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) == 0


def test_members_a_visit_recorded_are_kept_on_reimport(app: Flask, write: WriteRoster) -> None:
    path = write(sample_rows(), "roster.xlsx", members=member_rows())
    with app.app_context():
        import_roster(path)
        household = db.session.scalar(sa.select(Household).where(Household.code == "H001"))
        write_members(db.session, {household.id: [{"name": "王建国", "id_number": person_id(1), "relation": "self"}]},
                      utcnow(), source="visit")
        db.session.commit()
        import_roster(path)
        assert [(m.name, m.source) for m in members_of("H001")] == [("王建国", "visit")]
        assert len(members_of("H002")) == 1


def test_a_reimport_with_new_members_renumbers_the_household_and_the_same_file_changes_nothing(
        app: Flask, write: WriteRoster) -> None:
    first = write(sample_rows(), "roster.xlsx", members=member_rows())
    with app.app_context():
        import_roster(first)
        seq = db.session.scalar(sa.select(Household.change_seq).where(Household.code == "H002"))
        again = import_roster(first)
        assert again.members_households == 0
        assert db.session.scalar(sa.select(Household.change_seq).where(Household.code == "H002")) == seq
        rows = member_rows()
        rows.append({"code": "H002", "name": "刘小芳", "id_number": CHILD, "relation": "子女"})
        changed = import_roster(write(sample_rows(), "roster2.xlsx", members=rows))
        assert changed.members_households == 1 and changed.unchanged == 8
        db.session.rollback()
        assert db.session.scalar(sa.select(Household.change_seq).where(Household.code == "H002")) > seq
        assert [m.name for m in members_of("H002")] == ["刘伟", "刘小芳"]
