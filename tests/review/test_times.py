"""Times: stored as UTC instants, shown in the town's time zone (``TIMEZONE``), on both databases."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import DeviceToken, Visit
from tests.api.conftest import Api, record
from tests.conftest import AuthActions, make_test_app
from tests.review.conftest import login_elsewhere

pytestmark = pytest.mark.both_backends


def _push(client, household, **times: str) -> str:  # type: ignore[no-untyped-def]
    api = Api(client)
    token = api.login("worker_a")
    item = record(household)
    item.update(times)
    [result] = api.push_ok(token, [item])
    assert result["status"] == "accepted", result
    return str(item["uuid"])


def test_a_visit_saved_at_1955_china_time_shows_1955(app, client, town) -> None:
    household = town.households_a[0]
    uuid = _push(client, household, started_at="2023-10-12T19:40:00+08:00",
                 visited_at="2023-10-12T19:55:00+08:00")
    stored = db.session.get(Visit, uuid)
    assert stored.visited_at == dt.datetime(2023, 10, 12, 11, 55, tzinfo=dt.UTC)
    assert stored.visited_at.utcoffset() == dt.timedelta(0)
    assert stored.started_at == dt.datetime(2023, 10, 12, 11, 40, tzinfo=dt.UTC)
    assert stored.utc_offset_minutes == 480
    # the stored text itself is UTC (what another reader of the SQLite file sees)
    raw = db.session.execute(sa.text("SELECT visited_at FROM visits WHERE uuid = :u"), {"u": uuid}).scalar()
    assert str(raw).startswith("2023-10-12 11:55")
    db.session.commit()

    supervisor = login_elsewhere(app, "supervisor_a")
    html = supervisor.get(f"/review/visits/{uuid}").get_data(as_text=True)
    assert "走访时间：2023-10-12 19:55" in html
    assert "手机时区" not in html  # the phone's clock was in the town's zone


def test_a_phone_in_another_zone_is_shown_in_town_time(app, client, town) -> None:
    uuid = _push(client, town.households_a[1], started_at="2023-10-12T18:40:00+07:00",
                 visited_at="2023-10-12T18:55:00+07:00")
    supervisor = login_elsewhere(app, "supervisor_a")
    html = supervisor.get(f"/review/visits/{uuid}").get_data(as_text=True)
    assert "走访时间：2023-10-12 19:55" in html
    assert "手机时区 UTC+07:00" in html


def test_the_batch_day_filter_is_a_town_day(app, client, town) -> None:
    """A batch received at 23:30 UTC on the 11th belongs to the 12th in China."""
    from tests import factories

    factories.make_batch(town.worker_a, "late-batch", [{"uuid": "x", "status": "accepted"}],
                         received_at=dt.datetime(2023, 10, 11, 23, 30, tzinfo=dt.UTC))
    db.session.commit()
    supervisor = login_elsewhere(app, "admin")
    assert "late-batch" in supervisor.get("/review/batches?date=2023-10-12").get_data(as_text=True)
    assert "late-batch" not in supervisor.get("/review/batches?date=2023-10-11").get_data(as_text=True)
    assert "2023-10-12 07:30" in supervisor.get("/review/batches/late-batch").get_data(as_text=True)


def test_the_admin_user_page_shows_logins_in_town_time(app, client, town) -> None:
    Api(client).login("worker_a", device_id="phone-7")
    token = db.session.scalar(sa.select(DeviceToken).where(DeviceToken.device_id == "phone-7"))
    token.created_at = dt.datetime(2023, 10, 12, 3, 0, tzinfo=dt.UTC)
    token.last_used_at = dt.datetime(2023, 10, 12, 17, 5, tzinfo=dt.UTC)
    token.expires_at = dt.datetime(2024, 1, 9, 20, 0, tzinfo=dt.UTC)
    db.session.commit()
    admin = login_elsewhere(app, "admin")
    html = admin.get(f"/admin/users/{town.worker_a.id}").get_data(as_text=True)
    assert "2023-10-12 11:00" in html  # logged in
    assert "2023-10-13 01:05" in html  # last used, the next day in China
    assert "2024-01-10" in html  # expires


def test_the_zone_is_a_setting(database_url, tmp_path) -> None:
    from tests import factories

    app = make_test_app(database_url, tmp_path / "instance", TIMEZONE="Asia/Urumqi")
    with app.app_context():
        db.create_all()
        town = factories.SmallTown()
        client = app.test_client()
        uuid = _push(client, town.households_a[0], visited_at="2023-10-12T19:55:00+08:00")
        viewer = app.test_client()
        AuthActions(viewer).login("supervisor_a")
        html = viewer.get(f"/review/visits/{uuid}").get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    assert "走访时间：2023-10-12 17:55" in html  # UTC+6


def test_an_unknown_zone_refuses_to_start(database_url, tmp_path) -> None:
    with pytest.raises(ValueError, match="TIMEZONE"):
        make_test_app(database_url, tmp_path / "instance", TIMEZONE="Mars/Olympus")


def _revision_before(name: str) -> str:
    """The revision the migration named ``*_<name>.py`` follows (the chain may be renumbered)."""
    import importlib.util
    from pathlib import Path

    import fieldapp

    [path] = (Path(fieldapp.__file__).parent / "migrations" / "versions").glob(f"*_{name}.py")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.down_revision)


def test_the_migration_converts_visit_times_stored_by_the_old_code(app, backend) -> None:
    """SQLite held the phone's wall-clock digits (19:55 for 19:55+08:00); after the upgrade they
    are UTC. PostgreSQL held the right instant and keeps it."""
    from flask_migrate import downgrade, upgrade

    from tests import factories

    directory = app.extensions["migrate"].directory
    before = _revision_before("utc_times")
    with app.app_context():
        db.drop_all()
        # The town is made on today's schema (the factories write every column of the models)
        # and taken down to the revision before, as an old server's database would be.
        upgrade(directory=directory)
        town = factories.SmallTown()
        household = town.households_a[0]
        ids = {"campaign": town.campaign.id, "household": household.id, "village": household.village_id,
               "worker": town.worker_a.id}
        db.session.commit()
        db.session.expunge_all()
        downgrade(directory=directory, revision=before)
        old_text = "2023-10-12 19:55:00.000000" if backend == "sqlite" else "2023-10-12 19:55:00+08:00"
        db.session.execute(sa.text(
            "INSERT INTO visits (uuid, campaign_id, household_id, village_id, worker_id, device_id, batch_id,"
            " form_version, visited_at, started_at, received_at, server_seq, data, sync_status, review_status,"
            " change_seq, below_monitoring_line, below_10k, guarantee_gap, needs_attention) VALUES"
            " ('00000000-0000-4000-8000-000000000001', :campaign, :household, :village, :worker, 'd', 'b',"
            " '2023.1', :visited, NULL, :received, 1, '{}', 'accepted', 'pending', 1, false, false, false,"
            " false)"),
            {**ids, "visited": old_text, "received": "2023-10-12 11:57:00.000000"})
        db.session.commit()
        upgrade(directory=directory)
        visit = db.session.get(Visit, "00000000-0000-4000-8000-000000000001")
        assert visit.visited_at == dt.datetime(2023, 10, 12, 11, 55, tzinfo=dt.UTC)
        assert visit.started_at is None and visit.utc_offset_minutes is None
        assert visit.received_at == dt.datetime(2023, 10, 12, 11, 57, tzinfo=dt.UTC)  # untouched
        db.session.commit()
        downgrade(directory=directory, revision=before)
        back = db.session.execute(sa.text("SELECT visited_at FROM visits")).scalar()
        db.session.commit()
        if backend == "sqlite":
            assert str(back).startswith("2023-10-12 19:55")
        else:
            assert back == dt.datetime(2023, 10, 12, 11, 55, tzinfo=dt.UTC)
