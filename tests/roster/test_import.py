"""The import use case on SQLite and PostgreSQL: all-or-nothing, skip, idempotent, audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from fieldapp.db.changes import current_change
from fieldapp.extensions import db
from fieldapp.models import (
    AuditLog,
    Household,
    HouseholdRevision,
    Town,
    Village,
    VillageGroup,
)
from fieldapp.roster import import_roster
from tests import factories
from tests.roster.conftest import WriteRoster, person_id, sample_rows

pytestmark = pytest.mark.both_backends


def households() -> dict[str, Household]:
    return {h.code: h for h in db.session.scalars(sa.select(Household))}


def count(model: type) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_import_creates_places_households_and_first_revisions(app: Flask, write: WriteRoster) -> None:
    path = write(sample_rows())
    with app.app_context():
        result = import_roster(path)
        assert result.imported and not result.errors
        assert (result.created, result.updated, result.unchanged) == (8, 0, 0)
        assert [t.name for t in db.session.scalars(sa.select(Town))] == ["保安镇"]
        villages = {v.name: v for v in db.session.scalars(sa.select(Village))}
        assert set(villages) == {"沼山村", "磨山村", "团结街社区"}
        assert villages["团结街社区"].kind == "community" and villages["沼山村"].kind == "village"
        groups = {(g.village_id, g.label, g.number) for g in db.session.scalars(sa.select(VillageGroup))}
        zhaoshan = villages["沼山村"].id
        assert {(zhaoshan, "3组", 3), (zhaoshan, "5组", 5), (zhaoshan, "4组", 4)} <= groups
        assert len([g for g in groups if g[0] == zhaoshan]) == 3  # 3组/三组/第三村民小组 are one group

        found = households()
        first = found["H001"]
        assert (first.head_name, first.head_pinyin, first.head_initials) == ("王建国", "wang jian guo", "wjg")
        assert (first.group, first.phone, first.size, first.labor_count) == ("3组", "13872345678", 4, 2)
        assert (first.source, first.rev, first.village_id) == ("roster", 1, zhaoshan)
        assert found["H002"].group == "3组" and found["H002"].phone == "0714-8123456"
        assert found["H006"].phone == "13912345678" and found["H006"].hamlet is None
        assert (found["H003"].category, found["H003"].monitor_type, found["H003"].risk_eliminated) == (
            "lifted", "unstable", False)
        assert (found["H004"].monitor_type, found["H004"].risk_eliminated) == ("marginal", True)
        assert found["H001"].risk_eliminated is None

        seqs = sorted(h.change_seq for h in found.values())
        assert seqs == list(range(seqs[0], seqs[0] + 8)) and seqs[0] >= 1  # one pull number each
        assert current_change(db.session) == seqs[-1]

        revisions = list(db.session.scalars(sa.select(HouseholdRevision)))
        assert len(revisions) == 8
        rev = next(r for r in revisions if r.household_id == first.id)
        assert (rev.rev, rev.reason) == (1, "roster")
        assert rev.values == first.field_values()

        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "roster_import"))
        assert entry is not None and entry.object_id == "roster.csv"
        assert entry.details["created"] == 8 and len(entry.details["sha256"]) == 64


def test_bad_rows_import_nothing_and_are_all_reported(app: Flask, write: WriteRoster) -> None:
    rows = sample_rows()
    rows[1]["head_id"] = "4.20281E+17"
    rows[4]["size"] = "很多"
    rows[6]["category"] = "贫困户"
    path = write(rows)
    with app.app_context():
        result = import_roster(path)
        assert not result.imported
        assert [e.number for e in result.errors] == [3, 6, 8]
        assert "第3行（户编号 H002）：户主身份证号（head_id）“4.20281E+17”" in result.errors[0].message
        assert "家庭人口数（size）“很多”：应为整数" in result.errors[1].message
        assert count(Household) == count(Town) == count(Village) == count(AuditLog) == 0
        assert current_change(db.session) == 0
        assert "未导入：3 行有错误" in result.summary()


def test_skip_bad_rows_imports_the_good_ones(app: Flask, write: WriteRoster) -> None:
    rows = sample_rows()
    rows[1]["head_id"] = "4.20281E+17"
    rows[4]["size"] = 0
    path = write(rows)
    with app.app_context():
        result = import_roster(path, skip_bad_rows=True)
        assert result.imported and result.created == 6
        assert [e.number for e in result.errors] == [3, 6]
        assert set(households()) == {"H001", "H003", "H004", "H006", "H007", "H008"}
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "roster_import"))
        assert entry.details["bad_rows"] == [3, 6]
        assert "跳过有错误的 2 行" in result.summary()


def test_reimporting_the_same_file_changes_nothing(app: Flask, write: WriteRoster) -> None:
    path = write(sample_rows(), "roster.xlsx")
    with app.app_context():
        import_roster(path)
        before = {code: (h.rev, h.change_seq, h.updated_at, h.field_values()) for code, h in households().items()}
        revisions, counter = count(HouseholdRevision), current_change(db.session)
        db.session.rollback()
        again = import_roster(path)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 8)
        after = {code: (h.rev, h.change_seq, h.updated_at, h.field_values()) for code, h in households().items()}
        assert after == before
        assert count(HouseholdRevision) == revisions
        assert current_change(db.session) == counter


def test_a_changed_row_writes_one_new_revision(app: Flask, write: WriteRoster) -> None:
    rows = sample_rows()
    with app.app_context():
        import_roster(write(rows))
        old = households()["H001"]
        old_seq = old.change_seq
        db.session.rollback()
        rows[0]["phone"] = "13900001111"
        rows[0]["hamlet"] = "刘通湾"
        result = import_roster(write(rows, "roster-2.csv"))
        assert (result.updated, result.unchanged) == (1, 7)
        changed = households()["H001"]
        assert (changed.rev, changed.phone, changed.hamlet) == (2, "13900001111", "刘通湾")
        assert changed.change_seq > old_seq
        revision = db.session.scalar(sa.select(HouseholdRevision).where(
            HouseholdRevision.household_id == changed.id, HouseholdRevision.rev == 2))
        assert revision.reason == "roster" and sorted(revision.changed) == ["hamlet", "phone"]
        assert revision.values == changed.field_values()


def test_field_corrections_survive_a_reimport_unless_the_roster_changes(app: Flask, write: WriteRoster) -> None:
    rows = sample_rows()
    path = write(rows)
    with app.app_context():
        import_roster(path)
        household = households()["H001"]
        # A worker corrected the phone in the field (what the visit ingest writes).
        household.phone, household.rev = "15800002222", 2
        db.session.add(HouseholdRevision(household_id=household.id, rev=2, values=household.field_values(),
                                         changed=["phone"], reason="visit"))
        db.session.commit()

        assert import_roster(path).unchanged == 8
        assert households()["H001"].phone == "15800002222"

        rows[0]["size"] = 5
        result = import_roster(write(rows, "roster-2.csv"))
        assert result.updated == 1
        household = households()["H001"]
        assert (household.size, household.phone, household.rev) == (5, "15800002222", 3)
        assert import_roster(write(rows, "roster-3.csv")).unchanged == 8


def test_moving_a_household_to_another_village(app: Flask, write: WriteRoster) -> None:
    rows = sample_rows()
    with app.app_context():
        import_roster(write(rows))
        seq = households()["H006"].change_seq
        db.session.rollback()
        rows[5]["village"] = "沼山村"
        result = import_roster(write(rows, "moved.csv"))
        assert result.updated == 1
        moved = households()["H006"]
        village = db.session.scalar(sa.select(Village).where(Village.name == "沼山村"))
        assert moved.village_id == village.id and moved.change_seq > seq and moved.rev == 1


def test_head_id_of_another_roster_household_is_an_error(app: Flask, write: WriteRoster) -> None:
    with app.app_context():
        import_roster(write(sample_rows()))
        db.session.rollback()
        newcomer = dict(sample_rows()[0], code="H100", head_id=person_id(2))
        result = import_roster(write([newcomer], "new.csv"))
        assert not result.imported
        assert result.errors[0].message == (
            f"第2行（户编号 H100）：户主身份证号（head_id）“{person_id(2)}”：已是户编号 H002 的户主身份证号")
        assert "H100" not in households()


def test_merged_households_are_not_updated(app: Flask, write: WriteRoster) -> None:
    rows = sample_rows()
    with app.app_context():
        import_roster(write(rows))
        found = households()
        found["H002"].merged_into_id = found["H001"].id
        db.session.commit()
        rows[1]["size"] = 9
        result = import_roster(write(rows, "again.csv"))
        assert result.merged_skipped == 1 and result.updated == 0
        assert households()["H002"].size == 2


def test_field_households_without_code_are_left_alone(app: Flask, write: WriteRoster) -> None:
    with app.app_context():
        town = factories.make_town()
        village = factories.make_village(town, "沼山村")
        field = factories.make_household(village, "王建国", head_id=person_id(1))
        field.code, field.source = None, "field"  # found by a worker, not on the roster
        db.session.commit()
        result = import_roster(write(sample_rows()))
        assert result.created == 8 and not result.errors
        assert count(Household) == 9
        assert db.session.get(Household, field.id).code is None


@pytest.mark.parametrize(("name", "encoding"), [
    ("utf8.csv", "utf-8"), ("bom.csv", "utf-8-sig"), ("gbk.csv", "gb18030"), ("roster.xlsx", "utf-8"),
])
def test_every_file_format_imports_the_same_households(app: Flask, write: WriteRoster, name: str,
                                                       encoding: str) -> None:
    path = write(sample_rows(), name, encoding=encoding)
    with app.app_context():
        result = import_roster(path)
        assert result.created == 8 and not result.errors
        found = households()
        assert {code: h.field_values() for code, h in found.items()}["H003"] == {
            "head_name": "陈秀英", "head_id": person_id(3), "phone": None, "group": "3组", "hamlet": "王祖湾",
            "size": 1, "labor_count": None, "category": "lifted", "monitor_type": "unstable",
            "risk_eliminated": False}
        assert sorted(h.head_name for h in found.values()) == sorted(r["head_name"] for r in sample_rows())


def test_numeric_id_cells_in_xlsx_are_reported_naming_the_row(app: Flask, tmp_path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["户编号", "乡镇", "村", "村民小组", "户主姓名", "户主身份证号", "家庭人口数", "户类型"])
    sheet.append(["H1", "保安镇", "沼山村", "3组", "王建国", person_id(1), 3, "一般农户"])
    sheet.append(["H2", "保安镇", "沼山村", "3组", "刘伟", float(person_id(2)), 2, "一般农户"])  # what Excel stores
    sheet.append(["H3", "保安镇", "沼山村", 3, "陈秀英", person_id(3), 1, "脱贫户"])
    path = tmp_path / "mangled.xlsx"
    workbook.save(path)
    with app.app_context():
        result = import_roster(path)
        assert not result.imported and [e.number for e in result.errors] == [3]
        assert result.errors[0].message.startswith("第3行（户编号 H2）：户主身份证号（head_id）“4.20281E+17”")
        assert "Excel" in result.errors[0].message
        assert count(Household) == 0
        assert import_roster(path, skip_bad_rows=True).created == 2
        assert households()["H3"].group == "3组"


def test_one_run_reports_bad_rows_and_taken_ids_together(app: Flask, write: WriteRoster) -> None:
    with app.app_context():
        import_roster(write(sample_rows()))
        db.session.rollback()
        taken = dict(sample_rows()[0], code="H100", head_id=person_id(2))
        bad = dict(sample_rows()[0], code="H101", head_id=person_id(40), size="")
        result = import_roster(write([bad, taken], "mixed.csv"))
        assert not result.imported
        assert [e.number for e in result.errors] == [2, 3]
        assert "已是户编号 H002 的户主身份证号" in result.errors[1].message
        assert "H100" not in households() and "H101" not in households()
