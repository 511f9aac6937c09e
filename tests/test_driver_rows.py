"""Rows sent with driver parameters prepared ahead are stored exactly as SQLAlchemy's
own INSERT stores them, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldapp.db import driver_rows
from fieldapp.extensions import db
from fieldapp.models import Visit
from fieldapp.sync_store import _visit_row
from sync.store import VisitRow
from tests import factories

pytestmark = pytest.mark.both_backends


def visit(uuid: str, town: factories.SmallTown) -> VisitRow:
    household = town.households_a[0]
    return VisitRow(
        uuid=uuid, campaign_id="2023-jzpc", household_id=household.id, village_id=household.village_id,
        worker_id=town.worker_a.id, device_id="phone-1", batch_id="b-1", form_version="2023.1", base_rev=1,
        supersedes=None, started_at=dt.datetime(2023, 10, 12, 1, 21, tzinfo=dt.UTC),
        visited_at=dt.datetime(2023, 10, 12, 1, 30, 15, 250000, tzinfo=dt.UTC), visited_on=dt.date(2023, 10, 12),
        received_at=dt.datetime(2023, 10, 12, 2, 0, tzinfo=dt.UTC),
        data={"head_name": "王建国", "size": 4, "income": 1234.5, "ok": True, "note": "引号\"与\\反斜杠"},
        location={"lat": 30.1, "lon": 114.9, "accuracy_m": 20}, sync_status="accepted",
        computed={"net_income": 44000.0, "per_capita_income": 11000.0, "conclusion": "no_risk",
                  "below_monitoring_line": True, "needs_attention": False},
        server_seq=7)


def test_a_prepared_row_is_stored_as_sqlalchemy_stores_it(app, town) -> None:
    table = Visit.__table__
    db.session.execute(table.insert(), [_visit_row(visit("orm-path", town))])
    insert = driver_rows.row_insert(table, db.engine.dialect)
    params = insert.params(_visit_row(visit("driver-path", town)))
    insert.set(params, "change_seq", 7)
    insert.execute(db.session.connection(), [params])
    db.session.commit()
    rows = {row.uuid: row._asdict() for row in db.session.execute(sa.select(table))}
    orm, driver = rows.pop("orm-path"), rows.pop("driver-path")
    del orm["uuid"], driver["uuid"]
    assert driver == orm
    assert driver["data"]["note"] == "引号\"与\\反斜杠" and driver["below_monitoring_line"] is True
    assert driver["below_10k"] is False and driver["review_status"] == "pending" and driver["change_seq"] == 7


def test_a_value_that_needs_processing_cannot_be_set_afterwards(app, town) -> None:
    insert = driver_rows.row_insert(Visit.__table__, db.engine.dialect)
    params = insert.params({c.key: None for c in Visit.__table__.columns})
    with pytest.raises(ValueError, match="data"):
        insert.set(params, "data", {"a": 1})
