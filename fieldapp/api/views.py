"""API views (thin: parse, authorise, call the sync service, serialise)."""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from werkzeug.wrappers import Response

from fieldapp import sync_service
from fieldapp.api import bp
from fieldapp.api.auth import token_required
from fieldapp.api.body import read_json
from fieldapp.api.openapi import openapi_document
from sync.normalize import name_pinyin_table


@bp.get("/form")
@token_required
def form() -> Response:
    """The active campaign and its form definition."""
    return jsonify(sync_service.form_document())


@bp.get("/sync/pull")
@token_required
def pull() -> Response:
    """Households, removals and visit statuses changed after ``since``."""
    return jsonify(sync_service.pull(g.api_user, request.args.get("since"), request.args.get("limit"),
                                     token_id=g.api_token_id, device_id=g.api_device_id))


@bp.post("/sync/push")
@token_required
def push() -> Response:
    """One batch of visits, applied in one transaction."""
    config = current_app.config
    payload = read_json(int(config["PUSH_MAX_BYTES"]), int(config["PUSH_MAX_RECORDS"]))
    return jsonify(sync_service.push_batch(g.api_user, payload, device_id=g.api_device_id))


@bp.get("/pinyin")
@token_required
def pinyin() -> Response:
    """The name readings the phone needs to compute a typed name's pinyin offline."""
    return jsonify(name_pinyin_table())


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 description of this API (no token needed)."""
    return jsonify(openapi_document())
