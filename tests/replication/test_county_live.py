"""A county over real processes: two towns on SQLite (保安镇 and 还地桥镇) and a central on
PostgreSQL, each a ``fieldapp serve``; rosters imported and users made with the CLI, visits
pushed by phones over HTTP, the towns' background replicators doing the rest. Kill -9 of
central in the middle of a round, then of a town; a return decided on central's web page
reaching the worker's phone; the same person in both towns; a revoked node token."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from fieldapp.roster import write_roster
from sync.idnumber import make_id
from tests.conftest import PG_URL, csrf_token_from, require_postgres
from tests.factories import PASSWORD, visit_data
from tests.live import LiveServer
from tests.security.live_client import Phone, new_id

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
HOUSEHOLDS = 240  # per town, over two villages


def fieldapp(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "fieldapp.cli", *args], env=env, cwd=ROOT, input=stdin,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"fieldapp {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def wait_for(what: str, check: Callable[[], bool], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _admin_url() -> str:
    return re.sub(r"/[^/?]*(\?|$)", r"/postgres\1", PG_URL, count=1)


@pytest.fixture
def central_database() -> Iterator[str]:
    require_postgres()
    name = f"fieldapp_central_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield re.sub(r"/[^/?]*(\?|$)", rf"/{name}\1", PG_URL, count=1)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


SURNAMES, GIVEN = "王李张刘陈杨黄赵吴周", "建国伟秀英明华军平芳强敏"


def name(n: int) -> str:
    return SURNAMES[n % 10] + GIVEN[(n // 10) % 12] + GIVEN[(n // 120) % 12]


def roster(path: Path, town: str, villages: tuple[str, str], first: int, shared_id: str) -> Path:
    rows = []
    for n in range(HOUSEHOLDS):
        head_id = shared_id if n == 0 else make_id("420281", dt.date(1950, 1, 1) + dt.timedelta(days=first + n), 3)
        rows.append({"town": town, "village": villages[n % 2], "code": f"{first + n:06d}", "group": f"{n % 6 + 1}组",
                     "hamlet": "", "head_name": "王建国" if n == 0 else name(first + n), "head_id": head_id,
                     "phone": "", "size": 3, "labor_count": 1, "category": "一般农户", "monitor_type": "",
                     "risk_eliminated": ""})
    return write_roster(path, rows)


class Town:
    """A town server: its database, CLI environment and ``fieldapp serve``."""

    def __init__(self, tmp: Path, name: str, villages: tuple[str, str], prefix: str, first: int, shared_id: str,
                 central: str, token: str) -> None:
        self.name, self.villages, self.prefix = name, villages, prefix
        self.database = f"sqlite:///{tmp / prefix / 'fieldapp.db'}"
        self.instance = tmp / prefix
        self.upstream = {"FIELDAPP_UPSTREAM_URL": central, "FIELDAPP_UPSTREAM_TOKEN": token,
                         "FIELDAPP_UPSTREAM_INTERVAL": "2", "FIELDAPP_REPLICATION_PAGE_RECORDS": "40"}
        env = self.env()
        fieldapp(["init-db"], env)
        fieldapp(["roster", "import", str(roster(tmp / f"{prefix}.csv", name, villages, first, shared_id))], env)
        for index, village in enumerate(villages):
            fieldapp(["user", "create", f"{prefix}_w{index}", "--role", "worker", "--village", village,
                      "--password-stdin"], env, PASSWORD + "\n")
        self.server: LiveServer | None = None

    def env(self) -> dict[str, str]:
        return {**os.environ, "FIELDAPP_DATABASE_URL": self.database, "FIELDAPP_INSTANCE_PATH": str(self.instance),
                **self.upstream}

    def start(self) -> LiveServer:
        self.server = LiveServer(self.database, self.instance / "live", extra_env=self.upstream).start()
        return self.server

    def households(self) -> list[dict[str, Any]]:
        engine = sa.create_engine(self.database)
        with engine.connect() as connection:
            rows = [dict(r._mapping) for r in connection.execute(sa.text(
                'SELECT h.id, v.name AS village, h.head_name, h.head_id, h."group" FROM households h '
                "JOIN villages v ON v.id = h.village_id ORDER BY h.code"))]
        engine.dispose()
        return rows


def central_counts(url: str) -> dict[str, Any]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        by_town = {row.town: (row.households, row.visits) for row in connection.execute(sa.text(
            "SELECT t.name AS town, COUNT(DISTINCT h.id) AS households, COUNT(v.uuid) AS visits "
            "FROM households h JOIN towns t ON t.id = h.town_id LEFT JOIN visits v ON v.household_id = h.id "
            "GROUP BY t.name"))}
        candidates = connection.execute(sa.text(
            "SELECT COUNT(*) FROM duplicate_candidates WHERE source = 'county'")).scalar_one()
        doubled = connection.execute(sa.text(
            "SELECT COUNT(*) FROM (SELECT uuid FROM visits GROUP BY uuid HAVING COUNT(*) > 1) d")).scalar_one()
    engine.dispose()
    return {"towns": by_town, "county_candidates": candidates, "doubled": doubled}


def push_visits(town: Town, households: list[dict[str, Any]]) -> list[str]:
    """Each household visited once by its village's worker, 20 records a batch."""
    uuids: list[str] = []
    assert town.server is not None
    for index, village in enumerate(town.villages):
        phone = Phone(town.server.url, f"{town.prefix}_w{index}")
        assert phone.login().status_code == 200
        mine = [h for h in households if h["village"] == village]
        for start in range(0, len(mine), 20):
            records = []
            for household in mine[start:start + 20]:
                data = visit_data(None, head_name=household["head_name"], head_id=household["head_id"],
                                  group=household["group"], hamlet="", phone=None, size=3, labor_count=1,
                                  respondent=household["head_name"])
                records.append({"uuid": new_id(), "campaign_id": "2023-jzpc", "form_version": "2023.1",
                                "household_id": household["id"], "base_rev": 1, "supersedes": None,
                                "started_at": "2023-10-12T09:21:00+08:00",
                                "visited_at": "2023-10-12T09:30:00+08:00", "data": data, "location": None})
            body = phone.push_until_acknowledged(new_id(), records)
            assert all(r["status"] != "rejected" for r in body["results"]), body["results"][:2]
            uuids += [r["uuid"] for r in records]
    return uuids


def test_a_county_of_two_towns_replicates_through_kills(tmp_path: Path, central_database: str) -> None:
    central_env = {**os.environ, "FIELDAPP_DATABASE_URL": central_database,
                   "FIELDAPP_INSTANCE_PATH": str(tmp_path / "central")}
    fieldapp(["init-db"], central_env)
    fieldapp(["campaign", "create", "2023-jzpc", "--name", "2023年防止返贫监测帮扶集中排查", "--start", "2023-10-01",
              "--end", "2023-12-31", "--activate"], central_env)
    fieldapp(["user", "create", "county", "--role", "admin", "--password-stdin"], central_env, PASSWORD + "\n")
    tokens = {node: fieldapp(["node", "create", node, "--town", town], central_env).strip().splitlines()[-1]
              for node, town in (("baoan", "保安镇"), ("hdq", "还地桥镇"))}
    central = LiveServer(central_database, tmp_path / "central" / "live").start()
    shared = make_id("420281", dt.date(1968, 3, 3), 11)
    towns = [Town(tmp_path, "保安镇", ("沼山村", "磨山村"), "baoan", 1000, shared, central.url, tokens["baoan"]),
             Town(tmp_path, "还地桥镇", ("石山村", "沼山村"), "hdq", 5000, shared, central.url, tokens["hdq"])]
    try:
        for town in towns:
            town.start()
        # the rosters reach central on their own, and the same person in both towns is found
        wait_for("rosters at central", lambda: central_counts(central_database)["towns"] == {
            "保安镇": (HOUSEHOLDS, 0), "还地桥镇": (HOUSEHOLDS, 0)})
        wait_for("the cross-town candidate", lambda: central_counts(central_database)["county_candidates"] == 1)

        households = {town.name: town.households() for town in towns}
        visits = {town.name: push_visits(town, households[town.name][:120]) for town in towns}
        # kill -9 central while the towns' rounds are under way, then start it again
        time.sleep(3.5)
        central.kill()
        central.start()
        visits["保安镇"] += push_visits(towns[0], households["保安镇"][120:])
        # kill -9 a town (server and replicator) in the middle of its rounds, then start it again
        time.sleep(3.5)
        assert towns[0].server is not None
        towns[0].server.kill()
        towns[0].start()
        wait_for("every visit at central", lambda: central_counts(central_database)["towns"] == {
            "保安镇": (HOUSEHOLDS, len(visits["保安镇"])), "还地桥镇": (HOUSEHOLDS, len(visits["还地桥镇"]))},
            timeout=120)
        assert central_counts(central_database)["doubled"] == 0

        # a county admin returns a visit on central's page; the worker's phone sees it after the rounds
        returned = visits["还地桥镇"][0]
        web = requests.Session()
        login = web.get(f"{central.url}/login", timeout=30)
        web.post(f"{central.url}/login", timeout=30, data={
            "username": "county", "password": PASSWORD, "csrf_token": csrf_token_from(login.text)})
        page = web.get(f"{central.url}/review/visits/{returned}", timeout=30)
        assert page.status_code == 200
        answer = web.post(f"{central.url}/review/visits/{returned}", timeout=30, data={
            "csrf_token": csrf_token_from(page.text), "action": "return", "comment": "请补充务工收入"})
        assert answer.status_code == 200 and "已发送至还地桥镇" in answer.text  # the flash after the redirect
        assert "县级决定（退回）已发送至还地桥镇" in web.get(f"{central.url}/review/visits/{returned}", timeout=30).text
        assert towns[1].server is not None
        worker = Phone(towns[1].server.url, "hdq_w0")
        assert worker.login().status_code == 200

        def returned_on_phone() -> bool:
            body = worker.pull().json()
            return any(v["uuid"] == returned and v["status"] == "returned" for v in body["visits"])

        wait_for("the return on the worker's phone", returned_on_phone, timeout=60)

        # a revoked node gets 401 and loses nothing; a new token and it resumes
        fieldapp(["node", "revoke", "hdq"], central_env)
        extra = push_visits(towns[1], households["还地桥镇"][120:130])
        time.sleep(6)
        assert central_counts(central_database)["towns"]["还地桥镇"][1] == len(visits["还地桥镇"])
        state = sa.create_engine(towns[1].database)
        with state.connect() as connection:
            error = connection.execute(sa.text("SELECT last_error FROM upstream_state")).scalar_one()
        state.dispose()
        assert "撤销" in (error or "")
        towns[1].server.stop()
        towns[1].upstream["FIELDAPP_UPSTREAM_TOKEN"] = fieldapp(["node", "token", "hdq"], central_env).strip().splitlines()[-1]
        towns[1].start()
        wait_for("the revoked town's visits after its new token", lambda: central_counts(central_database)["towns"][
            "还地桥镇"][1] == len(visits["还地桥镇"]) + len(extra))
        listing = fieldapp(["node", "list"], central_env)
        assert re.search(r"^hdq\t还地桥镇\t正常\t", listing, re.M), listing
    finally:
        for town in towns:
            if town.server is not None:
                town.server.stop()
        central.stop()
