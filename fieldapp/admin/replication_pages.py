"""The admin pages of the central tier: a town's replication with central (``/admin/upstream``)
and central's nodes (``/admin/nodes``, the same rows as ``fieldapp node list``)."""

from __future__ import annotations

import datetime as dt

from flask import current_app, render_template
from flask_babel import gettext as _

from fieldapp.extensions import db
from fieldapp.models import utcnow
from fieldapp.replication.nodes import node_statuses
from fieldapp.replication.status import upstream_status
from fieldapp.tier import at_central

# A node not heard from for longer than this is shown as late (a town replicates every
# minute, and soon after its phones push).
LATE = dt.timedelta(minutes=10)


def duration(delta: dt.timedelta | None) -> str:
    """How long, in words (秒, 分钟, 小时, 天); "—" for never."""
    if delta is None:
        return "—"
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return str(_("%(n)d秒", n=seconds))
    if seconds < 3600:
        return str(_("%(n)d分钟", n=seconds // 60))
    if seconds < 86400:
        return str(_("%(n)d小时", n=seconds // 3600))
    return str(_("%(n)d天", n=seconds // 86400))


def upstream() -> str:
    """The town's replication with central: address, last success, pending up, last error."""
    config = current_app.config
    status = upstream_status(db.session(), config.get("UPSTREAM_URL") or "", config.get("UPSTREAM_TOKEN") or "")
    now = utcnow()
    since = now - status.last_success_at if status.last_success_at else None
    return render_template("admin/upstream.html", status=status, since=duration(since),
                           interval=config.get("UPSTREAM_INTERVAL"), central=at_central())


def nodes() -> str:
    """Central's nodes with last contact, lag and what waits each way (``fieldapp node list``)."""
    now = utcnow()
    rows = node_statuses(db.session())
    lags = {row.name: row.lag(now) for row in rows}
    return render_template("admin/nodes.html", rows=rows, lag={name: duration(lag) for name, lag in lags.items()},
                           late={name: lag is None or lag > LATE for name, lag in lags.items()})
