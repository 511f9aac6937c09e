"""Done-when: a 13,740-row roster file gives the reference figures exactly (by village,
户类型, 监测对象类别 and 风险已消除, 户 and 人), on SQLite and PostgreSQL. The demo command's
figures are checked in test_demo_flow.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from fieldapp.demo.generator import expected_counts, generate_town, write_town_roster
from fieldapp.demo.places import TOWN_NAME
from fieldapp.demo.summary import figures, town_counts
from fieldapp.extensions import db
from fieldapp.models import Household, HouseholdRevision
from fieldapp.roster import import_roster
from tests.demo.test_generator import REFERENCE

pytestmark = [pytest.mark.both_backends, pytest.mark.slow]


def test_importing_the_town_roster_file_gives_the_reference_counts(app: Flask, tmp_path: Path) -> None:
    households = generate_town(2023)
    path = write_town_roster(tmp_path / "保安镇花名册.csv", households=households)
    with app.app_context():
        result = import_roster(path)
        assert result.imported and not result.errors and result.created == 13_740
        counts = town_counts(db.session, TOWN_NAME)
        assert counts == expected_counts(households)
        assert figures(counts).line() == REFERENCE
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdRevision)) == 13_740
        seqs = db.session.scalars(sa.select(Household.change_seq)).all()
        assert len(set(seqs)) == 13_740
