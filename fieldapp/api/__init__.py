"""/api/v1: JSON only, bearer tokens, CSRF exempt."""

from flask import Blueprint

from fieldapp.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)

from fieldapp.api import views  # noqa: E402,F401
