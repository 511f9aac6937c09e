"""``fieldapp serve``: the production WSGI server (gunicorn, see :mod:`fieldapp.server`)."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from fieldapp.extensions import db
from fieldapp.replication.nodes import active_node_count
from fieldapp.server import default_threads, default_workers, run_gunicorn


def register(app: Flask) -> None:
    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @click.option("--workers", default=None, type=int, help="Worker processes (default: one per core).")
    @click.option("--threads", default=None, type=int,
                  help="Threads per worker process (default: 4; at central one more per town).")
    @click.option("--quiet", is_flag=True, help="No access log.")
    @with_appcontext
    def serve(host: str, port: int, workers: int | None, threads: int | None, quiet: bool) -> None:
        """Serve the app with gunicorn (生产环境服务)."""
        click.echo(f"排查通 serving on http://{host}:{port}/ (database: "
                   f"{current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]})")
        if current_app.config.get("UPSTREAM_URL"):
            click.echo(f"与县级中心同步：{current_app.config['UPSTREAM_URL']}"
                       f"（每 {current_app.config['UPSTREAM_INTERVAL']} 秒，手机上传后数秒内）")
        if threads is None:
            threads = default_threads(active_node_count(db.session))
            db.session.remove()
            db.engine.dispose()  # the workers fork from here and open their own connections
        run_gunicorn(host, port, workers or default_workers(), threads=threads, quiet=quiet,
                     app=current_app._get_current_object())  # type: ignore[attr-defined]
