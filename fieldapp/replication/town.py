"""One replication round of a town with its upstream (``fieldapp replicate``, and the
background replicator of ``fieldapp serve``): up, then down, then up again for what the
down brought (docs/replication.md).

Nothing is acknowledged before it is committed: central moves its cursor for this
town in the transaction that stores a page, and the town asks central where it stands
at the start of every round, so a round killed anywhere resumes with nothing lost and
nothing applied twice. Down, each command is applied with the town's own cursor in
one transaction, so a command is never applied twice either.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from fieldapp.db import write_transaction
from fieldapp.models import utcnow
from fieldapp.replication import downstream, feed
from fieldapp.replication.client import UpstreamClient, UpstreamError
from sync.replication import FeedCursor, parse_feed_cursor

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@dataclass
class RoundReport:
    """What one round did, and whether both directions completed."""

    up: dict[str, int] = field(default_factory=dict)
    up_pages: int = 0
    up_rejected: int = 0
    campaigns: int = 0
    commands: dict[str, int] = field(default_factory=dict)
    up_done: bool = False
    down_done: bool = False
    error: str | None = None
    sent_bytes: int = 0
    received_bytes: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.up_done and self.down_done and self.error is None

    def as_json(self) -> dict[str, Any]:
        return {"up": self.up, "up_pages": self.up_pages, "up_rejected": self.up_rejected,
                "campaigns": self.campaigns, "commands": self.commands, "up_done": self.up_done,
                "down_done": self.down_done, "error": self.error, "sent_bytes": self.sent_bytes,
                "received_bytes": self.received_bytes, "seconds": round(self.seconds, 2)}


@dataclass(frozen=True)
class PageLimits:
    records: int = 2000
    bytes: int = 2_000_000


def replicate_once(session: Session, client: UpstreamClient, *, limits: PageLimits = PageLimits(),
                   progress: Progress | None = None) -> RoundReport:
    """One round both ways; never raises for central's failures (they are in the report
    and in the town's upstream state, in Chinese)."""
    started = dt.datetime.now(dt.UTC)
    report = RoundReport()
    say = progress or (lambda _text: None)
    _note_attempt(session, started)
    try:
        _up(session, client, limits, report, say)
        applied = _down(session, client, report, say)
        if applied:
            report.up_done = False
            _up(session, client, limits, report, say)
    except UpstreamError as error:
        report.error = error.message
        log.warning("replication with %s failed: %s", client.base, error.message)
    finally:
        session.rollback()
    report.sent_bytes, report.received_bytes = client.sent_bytes, client.received_bytes
    report.seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
    _note_outcome(session, report)
    return report


def _up(session: Session, client: UpstreamClient, limits: PageLimits, report: RoundReport,
        say: Progress) -> None:
    cursor = parse_feed_cursor(client.up_cursor())
    for _attempt in range(3):  # central's cursor moved under us (another round): start from it again
        try:
            _send_pages(session, client, cursor, limits, report, say)
            report.up_done = True
            return
        except UpstreamError as error:
            if error.code != "cursor_mismatch":
                raise
            cursor = parse_feed_cursor(str(error.details.get("cursor", "")))
    raise UpstreamError("与县级中心的同步位置反复不一致，请稍后重试")


def _send_pages(session: Session, client: UpstreamClient, cursor: FeedCursor, limits: PageLimits,
                report: RoundReport, say: Progress) -> None:
    """Send the feed after ``cursor`` page by page. The next page is read while central
    applies the one in flight (one page ahead, never more): reading and applying take
    about as long as each other, so the round takes the longer of the two, not their sum.
    A page read ahead from a position central did not confirm is dropped and read again."""
    waiting = feed.pending(session, cursor)  # counted once; each page's share is taken off
    sent: dict[Any, int] = {}  # households central stored as ride-along of a page of this round
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="replicate-up") as sender:
        in_flight: tuple[feed.FeedPage, Future[dict[str, Any]]] | None = None
        ahead = cursor  # where the next page to read starts: the page in flight's end
        while True:
            page: feed.FeedPage | None = None
            if in_flight is None or in_flight[0].more:
                page = feed.read_page(session, ahead, max_records=limits.records, max_bytes=limits.bytes,
                                      sent=sent)
                session.rollback()
            if in_flight is not None:
                done, answer = in_flight[0], in_flight[1].result()
                in_flight = None
                cursor = parse_feed_cursor(str(answer.get("cursor", "")))
                _count_page(session, report, done, answer, cursor, say)
                if not done.more:
                    return
                if cursor != done.to:
                    ahead, page = cursor, None  # central stands elsewhere: read again from there
                    sent.clear()
                    continue
                sent.update(done.ref_households)
            if page is None or (page.records == 0 and page.to == ahead):
                return
            waiting = max(waiting - page.records, 0)
            remaining = waiting if page.more else 0
            body = {**page.body, "from": str(ahead), "to": str(page.to), "pending": remaining, "more": page.more}
            page.pending = remaining
            in_flight = (page, sender.submit(client.send_page, body))
            ahead = page.to


def _count_page(session: Session, report: RoundReport, page: feed.FeedPage, answer: dict[str, Any],
                cursor: FeedCursor, say: Progress) -> None:
    """Central stored ``page``: count it, remember central's cursor, say so."""
    report.up_pages += 1
    report.up_rejected += int(answer.get("rejected") or 0)
    for name, count in page.counts.items():
        report.up[name] = report.up.get(name, 0) + count
    _remember_cursor(session, str(cursor))
    say(f"上传第{report.up_pages}页：{page.records}条，剩余{page.pending}条")


def _down(session: Session, client: UpstreamClient, report: RoundReport, say: Progress) -> int:
    """Campaigns and commands from central; returns how many commands were applied."""
    with write_transaction(session):
        since = downstream.upstream_state(session).down_cursor
    applied = 0
    while True:
        page = client.down(since)
        report.campaigns += downstream.apply_campaigns(session, list(page.get("campaigns") or []))
        for command in page.get("commands") or []:
            status = downstream.apply_command(session, command)
            report.commands[status] = report.commands.get(status, 0) + 1
            applied += 1
        since = int(page.get("cursor") or since)
        if not page.get("more"):
            break
    if applied:
        say(f"下载：执行县级决定{applied}条")
    report.down_done = True
    return applied


def _note_attempt(session: Session, now: dt.datetime) -> None:
    with write_transaction(session):
        downstream.upstream_state(session).last_attempt_at = now


def _remember_cursor(session: Session, cursor: str) -> None:
    with write_transaction(session):
        downstream.upstream_state(session).up_cursor = cursor


def _note_outcome(session: Session, report: RoundReport) -> None:
    with write_transaction(session):
        state = downstream.upstream_state(session)
        state.last_round = report.as_json()
        if report.ok:
            state.last_success_at = utcnow()
            state.last_error = None
            state.failures = 0
        else:
            state.last_error = report.error or "同步未完成"
            state.failures += 1

