"""Faults against a real ``fieldapp serve``: a crash mid-push, a locked or unreachable
database, a batch replayed out of order. Nothing acknowledged is lost, nothing is
stored twice, no batch is half-written.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Household, SyncBatch, Visit
from tests.api.conftest import record
from tests.live import LiveServer
from tests.security.live_client import Phone, new_id
from tests.security.tcp_proxy import TcpProxy

BATCH_SIZE = 150


def _stored(app: Any) -> dict[str, list[str]]:
    """Visit uuids in the database, by batch id (read in a fresh transaction)."""
    with app.app_context():
        rows = db.session.execute(sa.select(Visit.batch_id, Visit.uuid)).all()
        db.session.remove()
    by_batch: dict[str, list[str]] = {}
    for batch_id, uuid in rows:
        by_batch.setdefault(batch_id, []).append(uuid)
    return by_batch


def _records(households: list[Household], n: int) -> list[dict[str, Any]]:
    return [record(households[i % len(households)]) for i in range(n)]


@pytest.mark.both_backends
def test_sigkill_during_pushes_loses_nothing_acknowledged_and_halves_nothing(app, town, live_server) -> None:
    batches = {new_id(): _records(town.households_a, BATCH_SIZE) for _ in range(8)}
    phone = Phone(live_server.url, "worker_a")
    assert phone.login().status_code == 200
    acknowledged: dict[str, dict[str, Any]] = {}
    unanswered: list[str] = []
    third_sent = threading.Event()

    def send_all() -> None:
        for number, (batch_id, records) in enumerate(batches.items()):
            if number == 2:
                third_sent.set()
            try:
                response = phone.push(batch_id, records)
            except requests.RequestException:
                unanswered.append(batch_id)
                continue
            if response.status_code == 200:
                acknowledged[batch_id] = response.json()
            else:
                unanswered.append(batch_id)

    sender = threading.Thread(target=send_all)
    sender.start()
    assert third_sent.wait(60), "the first two batches took too long"
    # Two batches are acknowledged and the third is on its way: a push of 150
    # visits takes the server tens of milliseconds, so this kill lands in it.
    time.sleep(0.01)
    live_server.kill()
    sender.join(timeout=120)
    assert acknowledged, "no batch was acknowledged before the crash"
    assert unanswered, "the crash did not interrupt any push"

    # After the crash: every acknowledged batch is complete, every other batch is all or nothing.
    stored = _stored(app)
    for batch_id, records in batches.items():
        uuids = sorted(r["uuid"] for r in records)
        present = sorted(stored.get(batch_id, []))
        if batch_id in acknowledged:
            assert present == uuids, f"acknowledged batch {batch_id} lost visits"
        else:
            assert present in ([], uuids), f"half-written batch {batch_id}: {len(present)}/{len(uuids)}"

    # The phone retries what got no answer, with the same batch ids.
    live_server.start()
    for batch_id in unanswered:
        acknowledged[batch_id] = phone.push_until_acknowledged(batch_id, batches[batch_id])
    for batch_id, body in acknowledged.items():
        assert [r["uuid"] for r in body["results"]] == [r["uuid"] for r in batches[batch_id]]
        assert {r["status"] for r in body["results"]} == {"accepted"}
    stored = _stored(app)
    everything = sorted(r["uuid"] for records in batches.values() for r in records)
    assert sorted(u for uuids in stored.values() for u in uuids) == everything  # each exactly once
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SyncBatch)) == len(batches)
        db.session.remove()
    # a replay of any batch now is answered from the stored results
    again = phone.push(next(iter(batches)), batches[next(iter(batches))])
    assert again.status_code == 200 and again.json()["results"] == acknowledged[next(iter(batches))]["results"]


def test_sqlite_locked_longer_than_busy_timeout_is_a_503_and_writes_nothing(app, town, database_url,
                                                                           tmp_path: Path) -> None:
    server = LiveServer(database_url, tmp_path / "locked", extra_env={"FIELDAPP_SQLITE_BUSY_TIMEOUT_MS": "300"})
    server.start()
    try:
        phone = Phone(server.url, "worker_a")
        assert phone.login().status_code == 200
        records = _records(town.households_a, 20)
        batch_id = new_id()
        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            response = phone.push(batch_id, records)
            assert response.status_code == 503
            assert int(response.headers["Retry-After"]) > 0
            assert response.json()["error"]["code"] in ("busy", "unavailable")
            other = Phone(server.url, "worker_b")
            login = other.login()  # a login writes too (attempt log, token)
            assert login.status_code == 503 and "Retry-After" in login.headers
            assert login.json()["error"]["code"] == "unavailable"
        finally:
            holder.rollback()
            holder.close()
        assert batch_id not in _stored(app)
        with app.app_context():
            assert db.session.get(SyncBatch, batch_id) is None
            db.session.remove()
        body = phone.push_until_acknowledged(batch_id, records)
        assert [r["status"] for r in body["results"]] == ["accepted"] * len(records)
        assert sorted(_stored(app)[batch_id]) == sorted(r["uuid"] for r in records)
    finally:
        server.stop()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_postgres_unreachable_is_a_503_then_recovers(app, town, database_url, tmp_path: Path) -> None:
    proxy = TcpProxy("127.0.0.1", 5432).start()
    server = LiveServer(database_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"),
                        tmp_path / "pg-proxy")
    try:
        server.start()
        phone = Phone(server.url, "worker_a")
        assert phone.login().status_code == 200
        first = _records(town.households_a, 10)
        assert phone.push(new_id(), first).status_code == 200
        batch_id, records = new_id(), _records(town.households_a, 10)
        proxy.cut()
        for _ in range(2):  # pooled connections die first, then new ones are refused
            response = phone.push(batch_id, records, timeout=30)
            assert response.status_code == 503, response.text[:300]
            assert int(response.headers["Retry-After"]) > 0
            assert response.json()["error"]["code"] in ("unavailable", "busy")
        pulled = phone.pull()
        assert pulled.status_code == 503 and pulled.json()["error"]["code"] == "unavailable"
        proxy.restore()
        assert batch_id not in _stored(app)
        body = phone.push_until_acknowledged(batch_id, records)
        assert [r["status"] for r in body["results"]] == ["accepted"] * len(records)
        stored = _stored(app)
        assert sorted(stored[batch_id]) == sorted(r["uuid"] for r in records)
        assert sum(len(v) for v in stored.values()) == 20
    finally:
        server.stop()
        proxy.stop()


@pytest.mark.both_backends
def test_batch_replayed_out_of_order_after_newer_ones(app, town, live_server) -> None:
    household = town.households_a[0]
    phone = Phone(live_server.url, "worker_a")
    assert phone.login().status_code == 200
    old = record(household, base_rev=1, phone="13911110001")
    old_batch = new_id()
    first = phone.push(old_batch, [old]).json()
    assert first["results"][0]["household_rev"] == 2
    newer = record(household, base_rev=2, phone="13911110002")
    assert phone.push(new_id(), [newer]).json()["results"][0]["household_rev"] == 3
    # 1. the old batch replayed (lost answer): the same answer as the first time, nothing changes
    replay = phone.push(old_batch, [old]).json()
    assert replay["results"] == first["results"]
    # 2. the old visit inside another batch: already received, nothing changes
    again = phone.push(new_id(), [old]).json()["results"][0]
    assert again["status"] == "already_received" and again["original_status"] == "accepted"
    # 3. a visit filled offline against rev 1, arriving after the newer ones: merged field by field
    late_size = record(household, base_rev=1, size=6)
    late_phone = record(household, base_rev=1, phone="13911110009")
    results = phone.push(new_id(), [late_size, late_phone]).json()["results"]
    assert results[0]["status"] == "accepted" and results[0]["household_rev"] == 4
    assert results[1]["status"] == "conflict" and results[1]["conflicts"] == ["phone"]
    with app.app_context():
        current = db.session.get(Household, household.id)
        assert (current.rev, current.phone, current.size) == (4, "13911110002", 6)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit).where(
            Visit.household_id == household.id)) == 4
        db.session.remove()
