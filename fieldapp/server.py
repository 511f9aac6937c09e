"""The production WSGI server: ``create_app()`` under gunicorn (``fieldapp serve``, ``fieldapp demo``)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from typing import Any

from flask import Flask


def default_workers() -> int:
    """One process per core: a push is CPU work, and more processes than cores
    only make the one holding the database's write lock wait for a core. Each
    process also has threads for slow uploads and pulls (``--threads``)."""
    return max(2, multiprocessing.cpu_count())


def default_threads(towns: int) -> int:
    """Threads per worker process: 4, and at central one more per town replicating into it.

    A town's page waits for its process's ingest (:mod:`fieldapp.ingest_slot`) on a
    thread of its own; with every thread taken by pages, a supervisor's view would queue
    behind them (measured at central with ten towns sending at once, one run each: the
    dashboard's slowest view took 1.6 s with 4 threads, 0.5 s with 12)."""
    return 4 + max(towns, 0)


def start_replicator(app: Flask) -> subprocess.Popen[bytes] | None:
    """On a town with an upstream, ``fieldapp replicate --watch`` beside the workers (one
    process, whatever the number of workers; docs/replication.md). It lives in the server's
    process group and stops with it."""
    if not (app.config.get("UPSTREAM_URL") and app.config.get("UPSTREAM_TOKEN")):
        return None
    return subprocess.Popen([sys.executable, "-m", "fieldapp.cli", "replicate", "--watch"])


def run_gunicorn(host: str, port: int, workers: int, threads: int = 4, quiet: bool = False,
                 app: Flask | None = None) -> None:
    """Serve ``create_app()`` under gunicorn; each worker builds its own app.

    The workers checkpoint SQLite's log in a background thread (unless
    ``FIELDAPP_SQLITE_CHECKPOINT`` says otherwise): a server takes a steady
    stream of writes, and a checkpoint inside a commit holds up every writer.
    On PostgreSQL each worker also follows the report rollups in a thread (``reports/follower.py``).
    With ``app`` configured with an upstream, the background replicator runs
    beside the workers for as long as the server does.
    """
    from gunicorn.app.base import BaseApplication

    from fieldapp import create_app

    os.environ.setdefault("FIELDAPP_SQLITE_CHECKPOINT", "background")

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}", "workers": workers, "threads": threads,
                "worker_class": "gthread", "timeout": 120, "graceful_timeout": 10,
                "accesslog": None if quiet else "-", "errorlog": "-", "loglevel": "warning",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:  # in each worker, after the fork
            from fieldapp.reports.follower import Follower

            served = create_app()
            if Follower.suits(served):
                Follower(served).start()
            return served

    replicator = start_replicator(app) if app is not None else None
    try:
        _Server().run()
    finally:
        if replicator is not None:
            replicator.terminate()
            try:
                replicator.wait(timeout=10)
            except subprocess.TimeoutExpired:
                replicator.kill()
