"""What the replication pages and commands show: a town's state with its upstream
(``/admin/upstream``) and central's nodes (``/admin/nodes`` and ``fieldapp node list``:
both read :func:`fieldapp.replication.nodes.node_statuses`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from fieldapp.models import UpstreamState
from fieldapp.replication import feed
from fieldapp.replication.downstream import STATE
from sync.replication import parse_feed_cursor


@dataclass(frozen=True)
class UpstreamStatus:
    """A town's replication as its admin page shows it (read only: nothing is written)."""

    url: str  # central's address ("" when the town has no upstream)
    configured: bool  # address and token both set: ``fieldapp serve`` replicates
    last_attempt_at: dt.datetime | None
    last_success_at: dt.datetime | None
    last_error: str | None  # in Chinese, as the round recorded it
    failures: int  # rounds failed in a row
    pending_up: int  # rows of the feed central has not confirmed, as last heard
    down_cursor: int
    last_round: dict[str, Any] | None

    @property
    def healthy(self) -> bool:
        return self.last_success_at is not None and not self.last_error


def upstream_status(session: Session, url: str, token: str) -> UpstreamStatus:
    """The town's upstream state row (absent before the first round) and what waits to go up."""
    state = session.get(UpstreamState, STATE) or UpstreamState(name=STATE, down_cursor=0, up_cursor="",
                                                                failures=0)
    status = UpstreamStatus(
        url=url, configured=bool(url and token), last_attempt_at=state.last_attempt_at,
        last_success_at=state.last_success_at, last_error=state.last_error, failures=state.failures or 0,
        pending_up=feed.pending(session, parse_feed_cursor(state.up_cursor or "")),
        down_cursor=state.down_cursor or 0, last_round=state.last_round)
    session.rollback()
    return status
