"""Replication endpoints for town servers (node token, never a user token): thin adapters
over ``fieldapp.replication`` (docs/replication.md)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, jsonify, request
from werkzeug.wrappers import Response

from fieldapp.api import bp
from fieldapp.api.body import read_json
from fieldapp.errors import json_error
from fieldapp.extensions import db
from fieldapp.replication import central
from fieldapp.replication.nodes import node_for_token

F = TypeVar("F", bound=Callable[..., Any])

# What a refused node token answers with (sync.errors.KINDS), by the check's verdict.
NODE_PROBLEMS = {"unauthenticated": "node_missing", "node_revoked": "node_revoked"}


def node_required(view: F) -> F:
    """Require a node's bearer token; sets ``g.node_id``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        node_id, problem = node_for_token(db.session, value.strip() if scheme.lower() == "bearer" else None)
        db.session.rollback()
        if node_id is None:
            return json_error(NODE_PROBLEMS[problem or "unauthenticated"],
                              headers={"WWW-Authenticate": 'Bearer realm="fieldapp-node"'})
        g.node_id = node_id
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


@bp.get("/replication/up")
@node_required
def up_cursor() -> Response:
    """Where central stands in this town's feed: the next page starts after it."""
    return jsonify(central.up_state(db.session, g.node_id))


@bp.post("/replication/up")
@node_required
def up() -> Response:
    """One page of this town's feed, applied in one transaction."""
    body = read_json(int(current_app.config["REPLICATION_MAX_BYTES"]))
    return jsonify(central.receive_page(db.session(), g.node_id, body))


@bp.get("/replication/down")
@node_required
def down() -> Response:
    """Central's campaigns, and the decisions on this town's data taken after ``since``."""
    return jsonify(central.down_page(db.session, g.node_id, request.args.get("since"),
                                     request.args.get("limit")))
