"""Central or town: the same code runs on both tiers (docs/replication.md). A server is a
county's **central** once towns are registered on it as nodes (``fieldapp node create``);
a town is one with ``FIELDAPP_UPSTREAM_URL`` set, or a server on its own."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g, has_app_context
from sqlalchemy.orm import Session

from fieldapp.extensions import db
from fieldapp.models import Node


def is_central(session: Session) -> bool:
    """Whether this server has towns registered as nodes (it is a county's central)."""
    return session.scalar(sa.select(sa.literal(1)).select_from(Node).limit(1)) is not None


def at_central() -> bool:
    """:func:`is_central` for the request (asked once per request; outside one, a town)."""
    if not has_app_context():
        return False
    if "fieldapp_central" not in g:
        g.fieldapp_central = is_central(db.session())
    return bool(g.fieldapp_central)
