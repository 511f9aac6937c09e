"""/api/v1: JSON only, bearer tokens, CSRF exempt (see docs/api.md and docs/sync-protocol.md)."""

from flask import Blueprint

from fieldapp.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)

from fieldapp.api import auth, photos, replication, views  # noqa: E402,F401
