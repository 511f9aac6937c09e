"""``fieldapp dedup run``: candidates stored for review, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from fieldapp.dedup_service import DedupError, run_bulk
from fieldapp.extensions import db
from fieldapp.models import AuditLog, DuplicateCandidate, Household
from sync.idnumber import make_id
from tests import factories

pytestmark = pytest.mark.both_backends

LIU_ID = make_id("420281", dt.date(1968, 3, 14), 213)
TYPO_ID = LIU_ID[:9] + str((int(LIU_ID[9]) + 1) % 10) + LIU_ID[10:]


@pytest.fixture
def roster(town: factories.SmallTown) -> dict[str, Household]:
    """The small town plus a re-reported household, a typo'd copy and a father/son pair."""
    village = town.village_a
    made = {
        "liu": factories.make_household(village, "刘伟", head_id=LIU_ID, phone="13812345678"),
        "again": factories.make_household(village, "刘伟", head_id=LIU_ID, phone=None, group="三组"),
        "typo": factories.make_household(village, "刘炜", head_id=TYPO_ID, phone="13812345678",
                                         hamlet="王祖塆"),
        "son": factories.make_household(village, "刘伟", head_id=make_id("420281", dt.date(1994, 8, 30), 17),
                                        phone="13812345678"),
    }
    db.session.commit()
    return made


def candidates() -> list[DuplicateCandidate]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(DuplicateCandidate).order_by(DuplicateCandidate.id)))


def pair(x: Household, y: Household) -> tuple[str, str]:
    return (x.id, y.id) if x.id < y.id else (y.id, x.id)


def invoke(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["dedup", "run", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_run_stores_candidates_for_review(runner: FlaskCliRunner, roster: dict[str, Household],
                                          town: factories.SmallTown) -> None:
    output = invoke(runner)
    assert "发现疑似重复 3 对" in output and "新增 3 对" in output and "未自动合并" in output
    found = {(c.household_a_id, c.household_b_id): c for c in candidates()}
    liu, again, typo, son = roster["liu"], roster["again"], roster["typo"], roster["son"]
    assert set(found) == {pair(liu, again), pair(liu, typo), pair(again, typo)}
    exact = found[pair(liu, again)]
    assert exact.household_a_id < exact.household_b_id
    assert exact.score >= 0.97 and "身份证号相同" in exact.evidence and "同村同组" in exact.evidence
    typo_pair = found[pair(liu, typo)]
    assert "身份证号相差一位（疑似录入错误）" in typo_pair.evidence
    assert "姓名拼音相同（liu wei）" in typo_pair.evidence
    for candidate in found.values():
        assert (candidate.source, candidate.status, candidate.campaign_id) == ("bulk", "open", "2023-jzpc")
        assert candidate.village_id == town.village_a.id
    assert not any(son.id in key for key in found), "father and son must not be proposed"
    # Nothing merged.
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).where(Household.merged_into_id.is_not(None))) == 0
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "dedup_run"))
    assert audit is not None and audit.details["created"] == 3


def test_dismissed_pairs_are_never_proposed_again_and_open_ones_are_updated(
        runner: FlaskCliRunner, roster: dict[str, Household]) -> None:
    invoke(runner)
    liu, again, typo = roster["liu"], roster["again"], roster["typo"]
    rows = {(c.household_a_id, c.household_b_id): c for c in candidates()}
    dismissed = rows[pair(liu, typo)]
    dismissed.status = "dismissed"
    open_row = rows[pair(again, typo)]
    open_row.score = 0.1
    open_row.evidence = ["旧的证据"]
    db.session.commit()

    output = invoke(runner)
    assert "新增 0 对" in output and "更新 2 对" in output and "跳过已处理 1 对" in output
    after = candidates()
    assert len(after) == 3
    by_pair = {(c.household_a_id, c.household_b_id): c for c in after}
    assert by_pair[pair(liu, typo)].status == "dismissed"
    assert by_pair[pair(again, typo)].score >= 0.6
    assert "旧的证据" not in by_pair[pair(again, typo)].evidence


def test_merged_households_are_left_out(runner: FlaskCliRunner, roster: dict[str, Household]) -> None:
    roster["again"].merged_into_id = roster["liu"].id
    db.session.commit()
    invoke(runner)
    assert [(c.household_a_id, c.household_b_id) for c in candidates()] == [pair(roster["liu"], roster["typo"])]


def test_campaign_option_is_stored_and_an_unknown_campaign_is_refused(
        runner: FlaskCliRunner, roster: dict[str, Household]) -> None:
    factories.make_campaign("2024-jzpc", active=False)
    db.session.commit()
    invoke(runner, "--campaign", "2024-jzpc")
    assert {c.campaign_id for c in candidates()} == {"2024-jzpc"}

    result = runner.invoke(args=["dedup", "run", "--campaign", "no-such"])
    assert result.exit_code != 0
    assert "排查活动不存在：no-such" in result.output


def test_service_reports_progress_through_every_stage(app: Flask, roster: dict[str, Household]) -> None:
    stages: list[tuple[str, int, int]] = []
    result = run_bulk(db.session(), progress=lambda stage, done, total: stages.append((stage, done, total)))
    assert result.pairs == 3 and result.exact_id == 1
    assert {s[0] for s in stages} == {"prepare", "block", "score"}
    assert stages[-1][1] == stages[-1][2]
    with pytest.raises(DedupError):
        run_bulk(db.session(), "missing-campaign")
