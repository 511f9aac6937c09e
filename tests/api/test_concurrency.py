"""Two processes push overlapping batches at once against a real ``fieldapp serve``:
no lost update, no deadlock, no error (SQLite file database and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
import random
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Household, Visit
from tests import factories
from tests.api.invariants import replay_household
from tests.live import LiveServer

pytestmark = [pytest.mark.both_backends, pytest.mark.slow]

BATCHES = 12
RECORDS = 15


def _pusher(url: str, device: str, households: list[dict[str, Any]], seed: int,
            start: Any, out: Any) -> None:
    """One phone: log in, wait for the other, push batches touching the same households."""
    rng = random.Random(seed)
    session = requests.Session()
    token = session.post(f"{url}/api/v1/auth/token", json={
        "username": "worker_a", "password": factories.PASSWORD, "device_id": device}, timeout=30).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    known_rev = {h["id"]: 1 for h in households}
    sent: list[str] = []
    acknowledged: list[str] = []
    statuses: list[int] = []
    start.wait(timeout=60)
    for b in range(BATCHES):
        records = []
        for _ in range(RECORDS):
            h = rng.choice(households)
            data = dict(h["data"])
            data["phone"] = rng.choice(["13911110001", "13922220002", h["data"]["phone"]])
            data["size"] = rng.choice([3, 4, 5])
            data["labor_count"] = rng.choice([1, 2])
            data["hamlet"] = rng.choice(["东湾", "西湾", h["data"]["hamlet"]])
            records.append({"uuid": str(uuid.uuid4()), "campaign_id": "2023-jzpc", "form_version": "2023.1",
                            "household_id": h["id"], "base_rev": known_rev[h["id"]], "data": data})
        batch = {"batch_id": f"{device}-{b}", "device_id": device, "records": records}
        sent += [r["uuid"] for r in records]
        response = session.post(f"{url}/api/v1/sync/push", json=batch, headers=headers, timeout=120)
        statuses.append(response.status_code)
        if response.status_code == 200:
            for result in response.json()["results"]:
                acknowledged.append(result["uuid"])
                if "household_rev" in result:
                    known_rev[result["household_id"]] = result["household_rev"]
        if b % 4 == 3:  # a lost response: the phone sends the same batch again
            again = session.post(f"{url}/api/v1/sync/push", json=batch, headers=headers, timeout=120)
            statuses.append(again.status_code)
            if again.status_code == 200 and response.status_code == 200 and again.json() != response.json():
                statuses.append(-1)
    out.put({"device": device, "sent": sent, "acknowledged": acknowledged, "statuses": statuses})


def test_two_processes_pushing_the_same_households(app, town, database_url: str, tmp_path: Path) -> None:
    households = [
        {"id": h.id, "data": factories.visit_data(h)} for h in town.households_a
    ]
    server = LiveServer(database_url, tmp_path / "live", workers=2).start()
    try:
        context = multiprocessing.get_context("spawn")
        start = context.Barrier(2)
        out = context.Queue()
        workers = [context.Process(target=_pusher, args=(server.url, f"phone-{n}", households, n, start, out))
                   for n in (1, 2)]
        for process in workers:
            process.start()
        reports = []
        for _ in workers:
            try:
                reports.append(out.get(timeout=300))
            except Exception:  # noqa: BLE001 - report what the children and server said
                pytest.fail(f"a pusher did not finish: exit codes {[p.exitcode for p in workers]}\n"
                            f"{server.log_path.read_text(errors='replace')[-3000:]}")
        for process in workers:
            process.join(timeout=60)
            assert process.exitcode == 0
    finally:
        server.stop()

    for report in reports:
        assert set(report["statuses"]) == {200}, report["statuses"]
        assert report["acknowledged"] == report["sent"]
    db.session.rollback()
    sent = [u for report in reports for u in report["sent"]]
    stored = db.session.scalars(sa.select(Visit.uuid)).all()
    assert sorted(stored) == sorted(sent), "every acknowledged visit stored exactly once"
    problems = [p for h in households for p in replay_household(db.session, h["id"])]
    assert problems == []
    seqs = db.session.scalars(sa.select(Visit.server_seq)).all()
    assert len(set(seqs)) == len(seqs)
    assert all(db.session.get(Household, h["id"]).rev > 1 for h in households)
