"""``fieldapp demo --visits``: visits pushed through the real ingest, with conflicts,
duplicates and review, and the roster figures untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldapp.demo.generator import expected_counts, generate_town
from fieldapp.demo.places import TOWN_NAME
from fieldapp.demo.summary import town_counts
from fieldapp.extensions import db
from fieldapp.models import AuditLog, Conflict, DuplicateCandidate, Household, SyncBatch, Visit
from tests.conftest import make_test_app

pytestmark = [pytest.mark.both_backends, pytest.mark.slow]


def count(*where: object, model: type = Visit) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0)


def test_demo_visits_fill_every_page(database_url: str, tmp_path: Path) -> None:
    app = make_test_app(database_url, tmp_path / "instance")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--no-serve", "--visits", "0.02", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "模拟走访" in result.stdout and "rejected" not in result.stdout
    with app.app_context():
        visits = count()
        chosen = round(13_740 * 0.02)
        assert visits >= chosen + 2 + 7  # + the conflicting second phones + the duplicate new households
        assert count(model=SyncBatch) >= 30  # every village's worker pushed
        assert {w for (w,) in db.session.execute(sa.select(Visit.device_id).distinct())} >= {
            "demo-worker_zhaoshan-1"}

        # Offline conflicts: the second phone's number kept for a supervisor to decide.
        conflicts = db.session.scalars(sa.select(Conflict)).all()
        assert len(conflicts) == 2 and {c.field for c in conflicts} == {"phone"}
        for conflict in conflicts:
            household = db.session.get(Household, conflict.household_id)
            assert household.rev == 2 and household.phone == conflict.current_value
            assert conflict.incoming_value != conflict.current_value
        assert count(Visit.sync_status == "conflict") == 2
        changed = db.session.scalars(sa.select(Household.id).where(Household.source == "roster",
                                                                   Household.rev > 1)).all()
        assert set(changed) == {c.household_id for c in conflicts}

        # Duplicate new households: at least the exact-ID ones are flagged.
        assert count(Household.source == "field", model=Household) == 7
        assert count(Visit.sync_status == "duplicate_suspected") >= 4
        assert count(model=DuplicateCandidate) >= 4

        # Review: approved, returned with a comment, corrected and resent.
        assert count(Visit.review_status == "approved") > visits * 0.3
        returned = db.session.scalars(sa.select(Visit).where(Visit.review_status.in_(("returned", "superseded")))).all()
        assert returned and all(v.review_comment for v in returned)
        superseded = [v.uuid for v in returned if v.review_status == "superseded"]
        assert superseded
        assert count(Visit.supersedes.in_(superseded)) == len(superseded)
        assert count(AuditLog.action == "visit_return", model=AuditLog) == len(returned)

        # Realistic answers: every visit valid, some under the line, some flagged for attention.
        assert count(Visit.below_monitoring_line.is_(True)) >= 1
        assert count(Visit.needs_attention.is_(True)) >= 1
        assert count(Visit.conclusion == "suggest_monitor") >= 1
        assert count(Visit.visit_method == "in_person") > visits * 0.6
        signed = db.session.scalar(sa.select(Visit).where(Visit.visit_method == "in_person").limit(1))
        assert signed.data["signature"].startswith("data:image/png;base64,")
        assert all(v.visited_on.isoformat() >= "2023-10-01" for v in db.session.scalars(sa.select(Visit)))

        # The roster figures are still exactly the reference ones.
        assert town_counts(db.session, TOWN_NAME) == expected_counts(generate_town(5))
        db.session.remove()
        db.engine.dispose()

    again = runner.invoke(args=["demo", "--no-serve", "--visits", "0.5"])
    assert again.exit_code == 0, again.output
    assert f"已有 {visits} 条走访记录，不再模拟走访" in again.stdout
