"""``fieldapp init-db``."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from fieldapp.db.schema import upgrade_schema


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    @with_appcontext
    def init_db() -> None:
        """Create or upgrade the database schema (创建或升级数据库)."""
        upgrade_schema()
        click.echo(f"数据库已就绪 / database ready: {current_app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}")
