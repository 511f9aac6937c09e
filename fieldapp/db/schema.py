"""The schema: created or upgraded by the Alembic migrations in ``fieldapp/migrations``."""

from __future__ import annotations

from flask import current_app


def upgrade_schema() -> None:
    """Create or upgrade the schema to the newest migration (needs an app context)."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
