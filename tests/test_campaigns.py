"""The active campaign has one definition, and every reader of it agrees (both backends)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from fieldapp import campaigns, dedup_service, sync_service
from fieldapp.extensions import db
from fieldapp.models import Campaign
from sync.form import DEFAULT_VERSION
from tests.conftest import AuthActions
from tests.factories import make_campaign

pytestmark = pytest.mark.both_backends


def test_two_marked_active_the_first_by_id_is_the_active_one(town, client: FlaskClient,
                                                             auth: AuthActions) -> None:
    make_campaign("2024-jzpc", start=dt.date(2024, 10, 1), end=dt.date(2024, 12, 31))
    make_campaign("2022-jzpc", active=False, start=dt.date(2022, 10, 1), end=dt.date(2022, 12, 31))
    db.session.commit()
    assert campaigns.active_campaign(db.session).id == "2023-jzpc"
    assert campaigns.default_campaign(db.session).id == "2023-jzpc"
    assert db.session.scalar(campaigns.active_select(Campaign.form_version)) == DEFAULT_VERSION
    assert sync_service.form_document()["campaign"]["id"] == "2023-jzpc"
    assert dedup_service.resolve_campaign(db.session(), None) == "2023-jzpc"
    auth.login("admin")
    assert "2023-jzpc" in client.get("/admin/").get_data(as_text=True)
    assert client.get("/reports/progress.json").get_json()["campaign"]["id"] == "2023-jzpc"


def test_without_an_active_one_pages_show_the_latest_to_start(town) -> None:
    make_campaign("2024-jzpc", active=False, start=dt.date(2024, 10, 1), end=dt.date(2024, 12, 31))
    db.session.execute(sa.update(Campaign).values(active=False))
    db.session.commit()
    assert campaigns.active_campaign(db.session) is None
    assert db.session.scalar(campaigns.active_select(Campaign.id)) is None
    assert campaigns.default_campaign(db.session).id == "2024-jzpc"
    assert [c.id for c in campaigns.newest_first(db.session)] == ["2024-jzpc", "2023-jzpc"]


def test_make_active_leaves_one_active_and_names_the_ones_it_deactivated(town) -> None:
    make_campaign("2024-jzpc", start=dt.date(2024, 10, 1), end=dt.date(2024, 12, 31))
    newest = make_campaign("2025-jzpc", active=False, start=dt.date(2025, 10, 1), end=dt.date(2025, 12, 31))
    newest.closed = True
    db.session.commit()
    assert campaigns.make_active(db.session(), newest) == ["2023-jzpc", "2024-jzpc"]
    db.session.commit()
    db.session.expire_all()
    assert list(db.session.scalars(sa.select(Campaign.id).where(Campaign.active.is_(True)))) == ["2025-jzpc"]
    assert not db.session.get(Campaign, "2025-jzpc").closed
