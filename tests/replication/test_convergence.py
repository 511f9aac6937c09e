"""The central tier's invariants as a Hypothesis state machine (docs/replication.md,
"Invariants"): any interleaving of town writes, decisions at central, replication rounds
cut at any call (before central sees it, or after central committed and the answer was
lost), and replayed pages leaves, once rounds complete, central equal to each town, every
decision of central settled at its town, and no row applied twice."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from fieldapp.extensions import db
from fieldapp.models import Conflict, DecisionConflict, ReplicationCommand, User, Visit
from fieldapp.review import conflicts, visits
from fieldapp.review.errors import ReviewError
from tests.replication.conftest import (
    CENTRAL_URL,
    TownServer,
    build_town,
    central_app,
    flask_transport,
    push_visits,
    register,
)
from tests.replication.snapshots import assert_converged, snapshot

pytestmark = pytest.mark.slow
TOWNS = st.integers(0, 1)


class County(RuleBasedStateMachine):
    """Two towns and central, on fresh SQLite databases for every example."""

    @initialize()
    def build(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="county-"))
        self.central = central_app(f"sqlite:///{self.root / 'central.db'}", self.root)
        self.towns = [
            build_town(self.root, "保安镇", ("沼山村", "磨山村"), ("王建国", "刘伟", "陈秀英"), worker_prefix="baoan"),
            build_town(self.root, "还地桥镇", ("石山村",), ("尹桂兰", "黄德胜"), worker_prefix="hdq"),
        ]
        for town, node in zip(self.towns, ("baoan", "hdq"), strict=True):
            register(self.central, town, node)
        self.last_page: dict[int, bytes] = {}
        for town in self.towns:
            assert town.replicate(self.central).ok  # the campaign comes down

    def teardown(self) -> None:
        for app in [self.central, *(t.app for t in getattr(self, "towns", []))]:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        shutil.rmtree(getattr(self, "root", ""), ignore_errors=True)

    # -- writes ------------------------------------------------------------------

    @rule(town=TOWNS, pick=st.integers(0, 10), phone=st.sampled_from(["13700000001", "13700000002", None]),
          stale=st.booleans())
    def visit(self, town: int, pick: int, phone: str | None, stale: bool) -> None:
        place = self.towns[town]
        household = place.households[pick % len(place.households)]
        data: dict[str, Any] = {} if phone is None else {"phone": phone}
        [record] = push_visits(place, [household], **data) if not stale else self._stale(place, household, data)
        assert record["uuid"]

    def _stale(self, town: TownServer, household: str, data: dict[str, Any]) -> list[dict[str, Any]]:
        from tests.replication.conftest import push, visit_record, worker_of

        record = visit_record(town, household, **data)
        record["base_rev"] = 1  # filled offline against the roster: may conflict
        push(town, worker_of(town, household), [record])
        return [record]

    @rule(town=TOWNS, pick=st.integers(0, 50), approve=st.booleans())
    def town_review(self, town: int, pick: int, approve: bool) -> None:
        with self.towns[town].context():
            pending = list(db.session.scalars(sa.select(Visit.uuid).where(Visit.review_status == "pending")
                                              .order_by(Visit.uuid)))
            if not pending:
                return
            supervisor = db.session.scalar(sa.select(User).where(User.role == "supervisor"))
            uuid = pending[pick % len(pending)]
            if approve:
                visits.approve_visits(supervisor, [uuid])
            else:
                visits.return_visits(supervisor, [uuid], "请核实收入")

    @rule(town=TOWNS)
    def town_resolves_a_conflict(self, town: int) -> None:
        with self.towns[town].context():
            item = db.session.scalar(sa.select(Conflict).where(Conflict.status == "open").order_by(Conflict.id))
            if item is None:
                return
            admin = db.session.scalar(sa.select(User).where(User.role == "admin", User.origin.is_(None)))
            try:
                conflicts.resolve_conflict(admin, item.id, {item.field: conflicts.Pick("incoming")})
            except ReviewError:
                db.session.rollback()

    @rule(pick=st.integers(0, 50), approve=st.booleans())
    def central_review(self, pick: int, approve: bool) -> None:
        """A county decision on a town's visit goes down as a command."""
        with self.central.app_context():
            known = list(db.session.scalars(sa.select(Visit.uuid).order_by(Visit.uuid)))
            if known:
                admin = db.session.scalar(sa.select(User).where(User.username == "county_admin"))
                act = visits.approve_visits if approve else visits.return_visits
                try:
                    act(admin, [known[pick % len(known)]], "县级抽查")
                except ReviewError:
                    db.session.rollback()
            db.session.remove()

    # -- replication ---------------------------------------------------------------

    @rule(town=TOWNS, cut=st.integers(0, 8), when=st.sampled_from(["before", "after"]),
          records=st.integers(1, 6))
    def cut_round(self, town: int, cut: int, when: str, records: int) -> None:
        """A round that loses its connection at the ``cut``-th call."""
        calls = {"n": 0}

        def fail(_method: str, _path: str) -> str | None:
            calls["n"] += 1
            return when if calls["n"] == cut + 1 else None

        self.towns[town].replicate(self.central, fail=fail, records=records)

    @rule(town=TOWNS, records=st.integers(1, 6))
    def full_round(self, town: int, records: int) -> None:
        sent: list[bytes] = []
        inner = flask_transport(self.central)

        def recording(method: str, url: str, headers: dict[str, str], body: bytes | None,
                      timeout: float) -> tuple[int, dict[str, str], bytes]:
            if method == "POST" and body is not None:
                sent.append(body)
            return inner(method, url, headers, body, timeout)

        from fieldapp.replication.client import UpstreamClient
        from fieldapp.replication.town import PageLimits, replicate_once

        place = self.towns[town]
        with place.context():
            report = replicate_once(db.session, UpstreamClient(CENTRAL_URL, place.token, transport=recording),
                                    limits=PageLimits(records=records))
        assert report.ok, report.as_json()
        if sent:
            self.last_page[town] = sent[-1]

    @precondition(lambda self: bool(getattr(self, "last_page", None)))
    @rule(town=TOWNS)
    def replay(self, town: int) -> None:
        """A page sent again (a proxy retrying, a town restored from backup): nothing changes."""
        body = self.last_page.get(town)
        if body is None:
            return
        before = snapshot(self.central, self.towns[town].name)
        answer = self.central.test_client().post("/api/v1/replication/up", data=body, headers={
            "Authorization": f"Bearer {self.towns[town].token}", "Content-Type": "application/json",
            "Content-Encoding": "gzip"})
        assert answer.status_code in (200, 409)
        assert answer.status_code == 409 or answer.get_json()["duplicate"]
        assert snapshot(self.central, self.towns[town].name) == before

    @invariant()
    def nothing_doubled(self) -> None:
        """Central never holds more visits of a town than the town has."""
        if not hasattr(self, "towns"):
            return
        for town in self.towns:
            assert len(snapshot(self.central, town.name)["visits"]) <= len(snapshot(town.app, town.name)["visits"])

    def check_convergence(self) -> None:
        for _ in range(2):  # the second round carries what the first one's commands did
            for town in self.towns:
                assert town.replicate(self.central).ok
        for town in self.towns:
            assert_converged(self.central, town.app, town.name)
        with self.central.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(ReplicationCommand).where(
                ReplicationCommand.status == "pending")) == 0
            settled = {c.uid: c.status for c in db.session.scalars(sa.select(ReplicationCommand))}
            db.session.remove()
        for town in self.towns:
            with town.context():
                for decision in db.session.scalars(sa.select(DecisionConflict)):
                    assert settled[decision.command_uid] == "conflict"


class ConvergingCounty(County):
    def teardown(self) -> None:
        try:
            if hasattr(self, "towns"):
                self.check_convergence()
        finally:
            super().teardown()


ConvergingCounty.TestCase.settings = settings(
    max_examples=12, stateful_step_count=14, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_any_interleaving_converges = ConvergingCounty.TestCase
