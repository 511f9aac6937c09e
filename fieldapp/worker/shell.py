"""The app shell: which files the service worker precaches, and its version.

The version is a hash over the bytes of every precached static file and the
shell template, so any change to the shell gives the phones a new service
worker (and a new ``fieldapp-static-<version>`` cache). ``PWA_RELEASE``
(``FIELDAPP_PWA_RELEASE``) is mixed in so that an operator can force a new
version without touching a file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app, url_for

#: Screens of the app; each has a URL ``/app/<screen>`` serving the same shell.
SCREENS = ("households", "login", "visit", "sync", "returned")

#: Static files of the shell, relative to ``static/``, in load order.
SHELL_STATIC = (
    "css/app.css",
    "css/worker.css",
    "vendor/idb-8.0.0/idb.js",
    "js/app.js",
    "js/api.js",
    "js/db.js",
    "js/expr.js",
    "js/form.js",
    "js/idnumber.js",
    "js/normalize.js",
    "js/outbox.js",
    "js/sync.js",
    "js/backoff.js",
    "js/search.js",
    "js/doorstep.js",
    "js/photos.js",
    "js/location.js",
    "js/ui/dom.js",
    "js/ui/login.js",
    "js/ui/households.js",
    "js/ui/visit-form.js",
    "js/ui/members.js",
    "js/ui/form-nav.js",
    "js/ui/doorstep-panel.js",
    "js/ui/signature.js",
    "js/ui/sync-screen.js",
    "js/ui/returned.js",
    "js/ui/banners.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
)

_TEMPLATES = ("worker/app.html", "worker/sw.js")


def _static_dir() -> Path:
    return Path(current_app.static_folder or "static")


def shell_version() -> str:
    """12 hex digits of the shell's content hash (cached per process unless debugging)."""
    cached = current_app.extensions.get("fieldapp_shell_version")
    if cached and not current_app.debug:
        return str(cached)
    digest = hashlib.sha256()
    static = _static_dir()
    template_dir = Path(current_app.template_folder or "templates")
    if not template_dir.is_absolute():
        template_dir = Path(current_app.root_path) / template_dir
    for path in [static / name for name in SHELL_STATIC] + [template_dir / t for t in _TEMPLATES]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(str(current_app.config.get("PWA_RELEASE", "")).encode())
    version = digest.hexdigest()[:12]
    current_app.extensions["fieldapp_shell_version"] = version
    return version


def precache_urls() -> list[str]:
    """Every URL the shell needs offline: the shell page, the manifest, static files."""
    urls = [url_for("worker.index"), url_for("worker.manifest")]
    urls += [url_for("static", filename=name) for name in SHELL_STATIC]
    return urls


def shell_size() -> tuple[int, int]:
    """(bytes, files) of the shell's static files, icons excluded (the 160 KB budget)."""
    static = _static_dir()
    files = [static / name for name in SHELL_STATIC if not name.startswith("icons/")]
    return sum(p.stat().st_size for p in files), len(files)
