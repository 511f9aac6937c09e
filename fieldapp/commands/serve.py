"""``fieldapp serve``: the production WSGI server (gunicorn)."""

from __future__ import annotations

import multiprocessing
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def default_workers() -> int:
    return max(2, multiprocessing.cpu_count() * 2 + 1)


def run_gunicorn(host: str, port: int, workers: int, threads: int = 4, quiet: bool = False) -> None:
    """Serve ``create_app()`` under gunicorn; each worker builds its own app."""
    from gunicorn.app.base import BaseApplication

    from fieldapp import create_app

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"{host}:{port}", "workers": workers, "threads": threads,
                "worker_class": "gthread", "timeout": 120, "graceful_timeout": 10,
                "accesslog": None if quiet else "-", "errorlog": "-", "loglevel": "warning",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Flask:
            return create_app()

    _Server().run()


def register(app: Flask) -> None:
    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @click.option("--workers", default=None, type=int, help="Worker processes (default 2×cores+1).")
    @click.option("--quiet", is_flag=True, help="No access log.")
    @with_appcontext
    def serve(host: str, port: int, workers: int | None, quiet: bool) -> None:
        """Serve the app with gunicorn (生产环境服务)."""
        click.echo(f"排查通 serving on http://{host}:{port}/ (database: "
                   f"{current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]})")
        run_gunicorn(host, port, workers or default_workers(), quiet=quiet)
