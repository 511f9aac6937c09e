"""The report rollups followed in the background (a thread of each ``fieldapp serve`` process).

A report page brings the rollups up to date itself when little has changed. When much
has (towns replicating into central, a roster import), recomputing it all inside a page
view took longer than the page's timeout; the follower does it instead (in bounded
steps while changes keep coming, everything at once when they pause), and the page shows the rollups as they stand with the time they were last
brought up to date (:func:`fieldapp.reports.rollup.for_page`).

It runs on PostgreSQL (a county's central, where ten towns' pages arrive at once), in
every server process; a step skips a campaign whose cursor another process holds. Before
its steps it analyses the tables whose planner statistics are stale (``fieldapp/db/statistics.py``). On
SQLite a town's pages keep bringing the rollups up to date themselves: a background
writer there would make a request that reads and then writes (a login) meet a newer
commit and fail with "database is locked" instead of waiting.
"""

from __future__ import annotations

import logging
import threading
import time

import sqlalchemy as sa
from flask import Flask

from fieldapp.campaigns import active_select
from fieldapp.db.changes import last_taken
from fieldapp.db.statistics import analyze_stale
from fieldapp.extensions import db
from fieldapp.models import Campaign, ReportCursor
from fieldapp.reports import rollup

log = logging.getLogger(__name__)
STEP = 5000  # change numbers per transaction
IDLE_S = 1.0
# While changes keep arriving (towns sending pages), the follower steps only this often:
# the rollups are for people, and the CPU is the writers' until they pause.
STILL_S = 2.0
BUSY_EVERY_S = 30.0


def follow_once(step: int | None = STEP) -> int:
    """One step for each campaign with rollups (viewed once) or active; what is left to follow.

    :param step: change numbers per campaign; ``None``: all of them, in one transaction
        (rebuilding the rollups when far behind, :func:`rollup.refresh`)
    """
    session = db.session()
    campaigns = set(session.scalars(sa.select(ReportCursor.campaign_id))) | set(
        session.scalars(active_select(Campaign.id)))
    session.rollback()
    behind = 0
    for campaign_id in sorted(campaigns):
        result = rollup.refresh(session, campaign_id, step=step, wait=False)
        if not result.busy:
            behind += result.behind
    return behind


class Follower:
    """The follower thread of this process."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="report-follower", daemon=True)

    @staticmethod
    def suits(app: Flask) -> bool:
        with app.app_context():
            return db.engine.dialect.name == "postgresql"

    def start(self) -> Follower:
        rollup.set_follower_running(True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=30)
        rollup.set_follower_running(False)

    def _run(self) -> None:
        pace = _Pace()
        with self.app.app_context():
            while not self.stopped.is_set():
                behind = 0
                try:
                    counter = last_taken(db.session)
                    db.session.rollback()
                    now = time.monotonic()
                    if pace.due(counter, now):
                        analyze_stale(db.session)
                        # bounded steps while the writers keep going; once they pause, everything
                        behind = follow_once(None if pace.still(now) else STEP)
                        pace.stepped(time.monotonic())
                except Exception:  # the thread outlives a failed step; the next one tries again
                    log.exception("report rollup step failed")
                    db.session.rollback()
                finally:
                    db.session.remove()
                if not behind:
                    self.stopped.wait(IDLE_S)


class _Pace:
    """A step is due once the change counter has been still for :data:`STILL_S`, or
    :data:`BUSY_EVERY_S` after the last step under a steady stream of changes."""

    def __init__(self) -> None:
        self.counter = -1
        self.moved_at = 0.0
        self.stepped_at = 0.0

    def due(self, counter: int, now: float) -> bool:
        if counter != self.counter:
            self.counter, self.moved_at = counter, now
        return now - self.moved_at >= STILL_S or now - self.stepped_at >= BUSY_EVERY_S

    def still(self, now: float) -> bool:
        """Whether the counter has not moved for :data:`STILL_S` (the writers pause)."""
        return now - self.moved_at >= STILL_S

    def stepped(self, now: float) -> None:
        self.stepped_at = now
