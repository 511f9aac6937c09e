"""A county in one process: a central app and town apps, each on its own database, the
towns' replication client talking to central's app through its WSGI test client (the
same requests, headers and gzip bodies as over HTTP; ``test_county_live.py`` runs the
same over real ``fieldapp serve`` processes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from fieldapp.extensions import db
from fieldapp.models import Campaign, Household, User, Village
from fieldapp.replication.client import Transport, UpstreamClient
from fieldapp.replication.nodes import create_node
from fieldapp.replication.town import RoundReport, replicate_once
from tests import factories
from tests.api.conftest import Api
from tests.conftest import make_test_app

CENTRAL_URL = "http://central.test"


class Unreachable(OSError):
    """What a cut connection looks like to the client."""


def flask_transport(central: Flask, *, fail: Callable[[str, str], str | None] | None = None) -> Transport:
    """Requests to ``central``'s WSGI app. ``fail(method, path)`` may cut a call ``"before"``
    central sees it or ``"after"`` central answered (the answer is lost on the way back)."""

    def transport(method: str, url: str, headers: dict[str, str], body: bytes | None,
                  timeout: float) -> tuple[int, dict[str, str], bytes]:
        path = url.removeprefix(CENTRAL_URL)
        when = fail(method, path) if fail else None
        if when == "before":
            raise Unreachable("connection refused")
        response = central.test_client().open(path, method=method, headers=headers, data=body)
        if when == "after":
            raise Unreachable("connection reset")
        return response.status_code, dict(response.headers.items()), response.get_data()

    return transport


@dataclass
class TownServer:
    """A town's app with its people and roster, and the node token central gave it."""

    name: str
    app: Flask
    token: str = ""
    villages: dict[str, int] = field(default_factory=dict)
    households: list[str] = field(default_factory=list)
    api: Api | None = None

    @contextmanager
    def context(self) -> Iterator[None]:
        with self.app.app_context():
            yield
            db.session.remove()

    def replicate(self, central: Flask, *, fail: Callable[[str, str], str | None] | None = None,
                  records: int = 500) -> RoundReport:
        from fieldapp.replication.town import PageLimits

        client = UpstreamClient(CENTRAL_URL, self.token, transport=flask_transport(central, fail=fail))
        with self.context():
            return replicate_once(db.session, client, limits=PageLimits(records=records))


def _database(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / f'{name}.db'}"


def build_town(tmp_path: Path, name: str, villages: tuple[str, ...], heads: tuple[str, ...],
               *, worker_prefix: str) -> TownServer:
    """A town server on SQLite: villages, a worker per village, a supervisor, an admin and
    households (round-robin over the villages)."""
    app = make_test_app(_database(tmp_path, worker_prefix), tmp_path / f"{worker_prefix}-instance")
    town = TownServer(name=name, app=app)
    with town.context():
        db.create_all()
        record = factories.make_town(name=name, code=None)
        made = [factories.make_village(record, v) for v in villages]
        for index, village in enumerate(made):
            factories.make_user(f"{worker_prefix}_w{index}", "worker", [village])
        factories.make_user(f"{worker_prefix}_sup", "supervisor", made)
        factories.make_user(f"{worker_prefix}_admin", "admin")
        for index, head in enumerate(heads):
            town.households.append(factories.make_household(made[index % len(made)], head).id)
        town.villages = {v.name: v.id for v in made}
        db.session.commit()
    town.api = Api(app.test_client())
    return town


def central_app(database_url: str, tmp_path: Path) -> Flask:
    app = make_test_app(database_url, tmp_path / "central-instance")
    with app.app_context():
        db.create_all()
        factories.make_user("county_admin", "admin")
        factories.make_user("county_sup", "supervisor")
        factories.make_campaign()
        db.session.commit()
        db.session.remove()
    return app


def register(central: Flask, town: TownServer, node: str) -> None:
    with central.app_context():
        _node, town.token = create_node(db.session, node, town.name)
        db.session.remove()


@dataclass
class County:
    central: Flask
    towns: list[TownServer]

    def round(self, **kwargs: Any) -> list[RoundReport]:
        """One replication round of every town; each must complete."""
        reports = [town.replicate(self.central, **kwargs) for town in self.towns]
        assert all(r.ok for r in reports), [r.as_json() for r in reports]
        return reports


@pytest.fixture
def county(database_url: str, tmp_path: Path) -> Iterator[County]:
    """Central on the test's backend with the active campaign; two towns on SQLite, their
    campaign coming down from central in a first round."""
    central = central_app(database_url, tmp_path)
    baoan = build_town(tmp_path, "保安镇", ("沼山村", "磨山村"), ("王建国", "刘伟", "陈秀英", "柯友明"),
                       worker_prefix="baoan")
    huandiqiao = build_town(tmp_path, "还地桥镇", ("石山村", "沼山村"), ("尹桂兰", "黄德胜", "吴小红"),
                            worker_prefix="hdq")
    register(central, baoan, "baoan")
    register(central, huandiqiao, "huandiqiao")
    county = County(central, [baoan, huandiqiao])
    county.round()
    yield county
    for app in (central, baoan.app, huandiqiao.app):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def visit_record(town: TownServer, household_id: str, **data: Any) -> dict[str, Any]:
    """A push record for one of the town's households, against its current revision."""
    from tests.api.conftest import record

    with town.context():
        household = db.session.get(Household, household_id)
        assert household is not None
        body = record(household, **data)
    return body


def push(town: TownServer, username: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Push as ``username``; every record must be stored."""
    assert town.api is not None
    token = town.api.tokens.get(username) or town.api.login(username)
    results = town.api.push_ok(token, records)
    assert all(r["status"] != "rejected" for r in results), results
    return results


def worker_of(town: TownServer, household_id: str) -> str:
    """The user name of the grid worker of the household's village."""
    with town.context():
        household = db.session.get(Household, household_id)
        assert household is not None
        worker = db.session.scalar(sa.select(User.username).where(
            User.role == "worker", User.villages.any(Village.id == household.village_id)))
    assert worker is not None
    return str(worker)


def push_visits(town: TownServer, household_ids: list[str], **data: Any) -> list[dict[str, Any]]:
    """One visit to each household, each pushed by its village's worker; returns the records."""
    records = []
    for household_id in household_ids:
        record = visit_record(town, household_id, **data)
        push(town, worker_of(town, household_id), [record])
        records.append(record)
    return records


def count_rows(app: Flask, model: Any, *where: Any) -> int:
    with app.app_context():
        value = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0
        db.session.remove()
        return int(value)


def town_id(app: Flask, name: str) -> int:
    with app.app_context():
        value = db.session.scalar(sa.select(Village.town_id).join(
            Village.town).where(Village.town.has(name=name)).limit(1))
        db.session.remove()
        assert value is not None
        return int(value)


def user_uid(app: Flask, username: str) -> str:
    with app.app_context():
        value = db.session.scalar(sa.select(User.uid).where(User.username == username))
        db.session.remove()
        assert value is not None
        return str(value)


def campaign_ids(app: Flask) -> list[str]:
    with app.app_context():
        value = list(db.session.scalars(sa.select(Campaign.id).order_by(Campaign.id)))
        db.session.remove()
        return value


TODAY = dt.date(2023, 10, 20)
