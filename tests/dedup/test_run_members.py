"""``fieldapp dedup run`` uses the stored members (issue 19): a household whose householder
is a member of another household is proposed with the evidence ingest gives, at 0.9; a
pair the householders' comparison found gains that evidence. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskCliRunner

from fieldapp.extensions import db
from fieldapp.households import write_members
from fieldapp.models import AuditLog, Household, utcnow
from fieldapp.roster import write_roster
from fieldapp.roster.writer import write_members as write_members_file
from sync.dedup.members import MEMBER_SCORE
from sync.idnumber import make_id
from tests import factories
from tests.dedup.test_run_cli import LIU_ID, TYPO_ID, candidates, invoke, pair
from tests.roster.conftest import person_id, sample_rows

pytestmark = pytest.mark.both_backends

SON_ID = make_id("420281", dt.date(1990, 6, 1), 13)
SPOUSE_ID = make_id("420281", dt.date(1962, 3, 8), 12)
SPLIT = "新户主是已有户的家庭成员（王小明，与户主关系：子女）"


def _import(runner: FlaskCliRunner, tmp_path: Path, rows: list[dict[str, object]],
            members: list[dict[str, object]]) -> None:
    roster = write_roster(tmp_path / "roster.csv", rows)  # type: ignore[arg-type]
    members_file = write_members_file(tmp_path / "members.csv", members)
    result = runner.invoke(args=["roster", "import", str(roster), "--members", str(members_file)])
    assert result.exit_code == 0, result.output


def _by_code() -> dict[str, Household]:
    db.session.expire_all()
    return {h.code: h for h in db.session.scalars(sa.select(Household)) if h.code}


@pytest.fixture
def split_town(runner: FlaskCliRunner, tmp_path: Path, town: factories.SmallTown) -> dict[str, Household]:
    """The roster's eight households, plus the son of H001 (王建国) heading his own
    household in another group, with the father's members sheet listing him as 子女."""
    rows = sample_rows()
    rows.append({**rows[0], "code": "H009", "head_name": "王小明", "head_id": SON_ID, "group": "5组",
                 "phone": "13912340000", "size": 2, "labor_count": 1, "hamlet": "新屋湾"})
    _import(runner, tmp_path, rows, [
        {"code": "H001", "name": "王建国", "id_number": person_id(1), "relation": "本人"},
        {"code": "H001", "name": "李秀英", "id_number": SPOUSE_ID, "relation": "配偶"},
        {"code": "H001", "name": "王小明", "id_number": SON_ID, "relation": "子女"},
        {"code": "H009", "name": "王小明", "id_number": SON_ID, "relation": "本人"},
    ])
    return _by_code()


def test_a_householder_who_is_a_member_of_another_household_is_proposed(
        runner: FlaskCliRunner, split_town: dict[str, Household]) -> None:
    output = invoke(runner)
    assert "发现疑似重复 1 对" in output and "户主是另一户的家庭成员 1 对" in output
    [candidate] = candidates()
    assert (candidate.household_a_id, candidate.household_b_id) == pair(split_town["H001"], split_town["H009"])
    assert candidate.evidence == [SPLIT]
    assert candidate.score == MEMBER_SCORE
    assert (candidate.source, candidate.status, candidate.campaign_id) == ("bulk", "open", "2023-jzpc")
    assert SON_ID not in " ".join(candidate.evidence)
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "dedup_run"))
    assert audit is not None and audit.details["members"] == 1

    # run again: the pair is updated, not duplicated; dismissed, it is never proposed again
    assert "新增 0 对，更新 1 对" in invoke(runner)
    candidate.status = "dismissed"
    db.session.commit()
    output = invoke(runner)
    assert "新增 0 对，更新 0 对，跳过已处理 1 对" in output and len(candidates()) == 1


def test_a_merged_household_and_a_householders_own_row_are_no_evidence(
        runner: FlaskCliRunner, split_town: dict[str, Household]) -> None:
    # H002's householder listed as 本人 in H002 (its own) and in H003 as 本人: no member evidence
    write_members(db.session, {split_town["H003"].id: [
        {"name": "刘伟", "id_number": split_town["H002"].head_id, "relation": "self"}]}, utcnow(), source="roster")
    split_town["H009"].merged_into_id = split_town["H004"].id  # the son's household merged away
    db.session.commit()
    output = invoke(runner)
    assert "发现疑似重复 0 对" in output and candidates() == []


def test_a_pair_found_by_the_householders_gains_the_member_evidence(
        runner: FlaskCliRunner, town: factories.SmallTown) -> None:
    """刘伟 and 刘炜 one digit apart read as a typo; 刘伟's members say 刘炜 is his brother."""
    liu = factories.make_household(town.village_a, "刘伟", head_id=LIU_ID, phone="13812345678")
    brother = factories.make_household(town.village_a, "刘炜", head_id=TYPO_ID, phone="13812345678",
                                       hamlet="王祖塆")
    db.session.commit()
    invoke(runner)
    [found] = candidates()
    typo_score = found.score
    assert "身份证号相差一位（疑似录入错误）" in found.evidence
    assert not any(e.startswith("新户主是") for e in found.evidence)

    write_members(db.session, {liu.id: [{"name": "刘伟", "id_number": LIU_ID, "relation": "self"},
                                        {"name": "刘炜", "id_number": TYPO_ID, "relation": "sibling"}]},
                  utcnow(), source="roster")
    db.session.commit()
    output = invoke(runner)
    assert "更新 1 对" in output and "户主是另一户的家庭成员 1 对" in output
    [found] = candidates()
    assert (found.household_a_id, found.household_b_id) == pair(liu, brother)
    assert "身份证号相差一位（疑似录入错误）" in found.evidence
    assert found.evidence[-1] == "新户主是已有户的家庭成员（刘炜，与户主关系：兄弟姐妹）"
    assert found.score == max(typo_score, MEMBER_SCORE)


def test_at_central_only_pairs_across_towns_are_stored(
        runner: FlaskCliRunner, split_town: dict[str, Household], town: factories.SmallTown) -> None:
    """The command's scope holds for member pairs: at central a pair within a node's town is
    that town's to find; across towns it is the county's."""
    result = runner.invoke(args=["node", "create", "baoan", "--town", "保安镇"])
    assert result.exit_code == 0, result.output
    other = factories.make_village(factories.make_town("金山店镇", "420281102"), "张敬村", "420281102201")
    moved = factories.make_household(other, "李秀英", head_id=SPOUSE_ID, phone="13700001111", group="2组")
    db.session.commit()
    invoke(runner)
    [candidate] = candidates()
    assert (candidate.household_a_id, candidate.household_b_id) == pair(split_town["H001"], moved)
    assert candidate.evidence == ["新户主是已有户的家庭成员（李秀英，与户主关系：配偶）"]
    assert candidate.source == "county"
