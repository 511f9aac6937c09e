"""The grid worker's offline-first app (PWA) under ``/app/``.

Every page under ``/app/`` is the same app shell: a static HTML page whose
ES modules render the screens from IndexedDB and talk to ``/api/v1`` with a
bearer token. The shell holds no user data, so it needs no session login:
the service worker precaches it (fetched without cookies) and serves it for
every navigation under ``/app/`` when the network is gone.
"""

from __future__ import annotations

import json

from flask import Response, current_app, render_template, send_from_directory

from fieldapp.worker import bp
from fieldapp.worker.shell import SCREENS, precache_urls, shell_version


def _shell(screen: str) -> str:
    return render_template("worker/app.html", screen=screen, version=shell_version())


@bp.route("/")
def index() -> str:
    """My households (the app's home screen)."""
    return _shell("households")


@bp.route("/<any(" + ",".join(s for s in SCREENS if s != "households") + "):screen>")
def screen(screen: str) -> str:
    """Any other screen: the same shell, the router in app.js picks the screen."""
    return _shell(screen)


@bp.route("/sw.js")
def service_worker() -> Response:
    """The service worker with the shell version and the precache list rendered in.

    Served from ``/app/`` so that its scope covers the app, and with
    ``no-cache`` so that a phone always revalidates it and sees a new version.
    """
    body = render_template(
        "worker/sw.js", version=shell_version(),
        precache=json.dumps(precache_urls(), ensure_ascii=False),
    )
    response = Response(body, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    """The web app manifest (static file, served with its proper media type)."""
    response = send_from_directory(current_app.static_folder or "static", "manifest.webmanifest",
                                   mimetype="application/manifest+json", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response
