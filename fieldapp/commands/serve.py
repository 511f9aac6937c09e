"""``fieldapp serve``: the production WSGI server (gunicorn, see :mod:`fieldapp.server`)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from fieldapp.server import default_workers, run_gunicorn


def register(app: Flask) -> None:
    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @click.option("--workers", default=None, type=int, help="Worker processes (default: one per core).")
    @click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker process.")
    @click.option("--quiet", is_flag=True, help="No access log.")
    @with_appcontext
    def serve(host: str, port: int, workers: int | None, threads: int, quiet: bool) -> None:
        """Serve the app with gunicorn (生产环境服务)."""
        click.echo(f"排查通 serving on http://{host}:{port}/ (database: "
                   f"{current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]})")
        if current_app.config.get("UPSTREAM_URL"):
            click.echo(f"与县级中心同步：{current_app.config['UPSTREAM_URL']}"
                       f"（每 {current_app.config['UPSTREAM_INTERVAL']} 秒，手机上传后数秒内）")
        run_gunicorn(host, port, workers or default_workers(), threads=threads, quiet=quiet,
                     app=current_app._get_current_object())  # type: ignore[attr-defined]
