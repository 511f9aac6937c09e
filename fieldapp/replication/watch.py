"""The town's background replicator (``fieldapp replicate --watch``, started by
``fieldapp serve`` when an upstream is configured).

A round runs every ``UPSTREAM_INTERVAL`` seconds, and soon after phones push: the
change counter is polled each second and a round starts once it has been still for
``DEBOUNCE`` seconds (or ``MAX_DELAY`` after the first change, under a steady stream).
While central is unreachable, rounds back off exponentially with full jitter. The
replication lock makes any second replicator (another server, a manual
``fieldapp replicate``) skip its turn rather than run beside this one.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

from fieldapp.db.changes import current_change
from fieldapp.extensions import db
from fieldapp.replication.client import UpstreamClient
from fieldapp.replication.lock import ReplicationBusy, replication_lock
from fieldapp.replication.town import PageLimits, RoundReport, replicate_once
from sync.replication import Backoff

log = logging.getLogger(__name__)
DEBOUNCE = 3.0
MAX_DELAY = 15.0
POLL = 1.0


@dataclass
class _Schedule:
    """When the next round is due (monotonic seconds)."""

    interval: float
    backoff: Backoff
    next_round: float = 0.0
    failures: int = 0
    seen: int = -1
    first_change: float | None = None
    last_change: float = 0.0

    def saw(self, counter: int, now: float) -> None:
        if self.seen < 0:
            self.seen = counter
        elif counter != self.seen:
            self.seen = counter
            self.last_change = now
            if self.first_change is None:
                self.first_change = now

    def due(self, now: float) -> bool:
        if self.failures and now < self.next_round:
            return False
        if now >= self.next_round:
            return True
        if self.first_change is None:
            return False
        return now - self.last_change >= DEBOUNCE or now - self.first_change >= MAX_DELAY

    def done(self, ok: bool, now: float, counter: int, rng: random.Random) -> None:
        self.first_change = None
        self.seen = counter
        if ok:
            self.failures = 0
            self.next_round = now + self.interval
        else:
            self.failures += 1
            self.next_round = now + self.backoff.delay(self.failures, rng)


def run_round(app: Flask) -> RoundReport | None:
    """One round under the replication lock (``None`` when another one holds it)."""
    config = app.config
    client = UpstreamClient(str(config["UPSTREAM_URL"]), str(config["UPSTREAM_TOKEN"]),
                            timeout=float(config["UPSTREAM_TIMEOUT"]))
    limits = PageLimits(records=int(config["REPLICATION_PAGE_RECORDS"]))
    try:
        with replication_lock(app.instance_path):
            return replicate_once(db.session(), client, limits=limits)
    except ReplicationBusy:
        return None


def watch(app: Flask, stop: threading.Event, *, clock: Callable[[], float] = time.monotonic,
          rng: random.Random | None = None) -> None:
    """Replicate until ``stop`` is set."""
    schedule = _Schedule(interval=float(app.config["UPSTREAM_INTERVAL"]), backoff=Backoff())
    rng = rng or random.Random()
    parent = os.getppid()
    with app.app_context():
        while not stop.is_set() and os.getppid() == parent:  # the server that started us is gone
            now = clock()
            try:
                schedule.saw(current_change(db.session), now)
                db.session.rollback()
                if schedule.due(now):
                    report = run_round(app)
                    counter = current_change(db.session)
                    db.session.rollback()
                    if report is not None:
                        if report.ok:
                            log.info("replication round: %s", report.as_json())
                        schedule.done(report.ok, clock(), counter, rng)
            except Exception:  # the replicator must outlive a bad round; the error is logged
                log.exception("replication round failed")
                db.session.rollback()
                schedule.done(False, clock(), schedule.seen, rng)
            stop.wait(POLL)
