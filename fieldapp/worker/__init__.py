from flask import Blueprint

bp = Blueprint("worker", __name__)

from fieldapp.worker import views  # noqa: E402,F401
