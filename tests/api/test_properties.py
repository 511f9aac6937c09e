"""Property: for any interleaving of pushes, replays and re-sends from several devices,
every visit is stored exactly once, no acknowledged visit is lost, and each household
equals its first revision with its stored visits applied in server order."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp import create_app
from fieldapp.extensions import db
from fieldapp.models import User, Visit
from fieldapp.sync_service import push_batch
from tests import factories
from tests.api.invariants import replay_household

DEVICES = ("phone-1", "phone-2", "phone-3")
_counter = itertools.count()

change = st.fixed_dictionaries({}, optional={
    "phone": st.sampled_from(["13911110001", "13922220002"]),
    "size": st.integers(3, 5),
    "hamlet": st.sampled_from(["东湾", "西湾"]),
    "labor_count": st.integers(0, 2),
    "head_name": st.sampled_from(["王建国", "王建民"]),
})
visit = st.tuples(st.integers(0, 2), change, st.sampled_from(["known", "first", "none"]),
                  st.booleans())  # household, changes, which base, valid?
action = st.one_of(
    st.tuples(st.just("push"), st.sampled_from(DEVICES), st.lists(visit, min_size=1, max_size=4)),
    st.tuples(st.just("replay"), st.sampled_from(DEVICES), st.just([])),
    st.tuples(st.just("resend"), st.sampled_from(DEVICES), st.just([])),
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, min_size=1, max_size=8))
def test_any_interleaving_keeps_every_visit_once_and_households_consistent(workdir, actions) -> None:
    n = next(_counter)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{workdir / f'p{n}.db'}",
                      "INSTANCE_PATH": str(workdir / "instance")})
    with app.app_context():
        db.create_all()
        town = factories.make_town()
        village = factories.make_village(town, "沼山村")
        factories.make_campaign()
        user = User(username="worker", role="worker", display_name="网格员", password_hash="-")
        user.villages = [village]
        db.session.add(user)
        households = [factories.make_household(village, name) for name in ("王建国", "刘伟", "陈秀英")]
        db.session.commit()
        roster = [{"id": h.id, "data": factories.visit_data(h)} for h in households]
        _run(actions, user, roster)
        db.engine.dispose()


def _run(actions: list[tuple[str, str, list[Any]]], user: User, roster: list[dict[str, Any]]) -> None:
    known_rev: dict[tuple[str, str], int] = {}
    last_batch: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    acknowledged: dict[str, str] = {}  # uuid -> status first answered
    for kind, device, visits in actions:
        if kind == "push":
            records = []
            for index, changes, base, valid in visits:
                h = roster[index]
                base_rev = {"known": known_rev.get((device, h["id"]), 1), "first": 1, "none": None}[base]
                data = {**h["data"], **changes}
                if not valid:
                    data["size"] = 99
                records.append({"uuid": str(uuid.uuid4()), "campaign_id": "2023-jzpc", "form_version": "2023.1",
                                "household_id": h["id"], "base_rev": base_rev, "data": data})
            payload = {"batch_id": str(uuid.uuid4()), "device_id": device, "records": records}
            body = push_batch(user, payload)
            last_batch[device] = (payload, body)
            for rec, result in zip(records, body["results"], strict=True):
                assert result["uuid"] == rec["uuid"]
                if result["status"] == "rejected":
                    assert rec["data"]["size"] == 99
                    continue
                assert rec["data"]["size"] != 99
                acknowledged[rec["uuid"]] = result["status"]
                known_rev[(device, result["household_id"])] = result["household_rev"]
        elif device in last_batch:
            payload, body = last_batch[device]
            if kind == "replay":
                assert push_batch(user, payload) == body
            else:
                again = push_batch(user, {**payload, "batch_id": str(uuid.uuid4())})
                for first, second in zip(body["results"], again["results"], strict=True):
                    if first["status"] == "rejected":
                        assert second["status"] == "rejected"
                    else:
                        assert second["status"] == "already_received"
                        assert second["original_status"] == first["status"]
    db.session.rollback()
    stored = db.session.execute(sa.select(Visit.uuid, Visit.sync_status)).all()
    assert len(stored) == len({u for u, _ in stored})
    assert dict(stored) == acknowledged
    for h in roster:
        assert replay_household(db.session, h["id"]) == []
