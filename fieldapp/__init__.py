"""排查通 fieldapp: the Flask application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. ``config`` overrides everything (tests pass a mapping)."""
    instance_path = os.environ.get("FIELDAPP_INSTANCE_PATH") or (config or {}).get("INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        static_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "static"),
        template_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates"),
    )
    from fieldapp import config as config_module
    from fieldapp import logs

    config_module.load_config(app, config)
    logs.configure(app)
    from fieldapp import clock, compression

    clock.init_app(app)
    compression.init_app(app)  # first of the after_request functions: it runs last
    _init_extensions(app)
    _register_blueprints(app)

    from fieldapp import cli, errors, proxies, security

    errors.init_app(app)
    security.init_app(app)
    proxies.init_app(app)
    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from fieldapp import i18n
    from fieldapp.db import engine as database
    from fieldapp.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        database.configure_engine(app, db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    csrf.init_app(app)
    i18n.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None

    from fieldapp.access import whole_server
    from fieldapp.models import User
    from fieldapp.tier import at_central

    app.jinja_env.globals.update(whole_server=whole_server, at_central=at_central)

    @app.before_request
    def _nothing_cached_from_an_earlier_request() -> None:
        # Flask-Login caches the user and Flask-WTF the CSRF token in ``g``; when
        # an application context outlives a request (a CLI command or a test
        # holding one open) ``g`` is shared, so each request starts clean and
        # reads both from its own session cookie.
        from flask import g

        g.pop("_login_user", None)
        g.pop(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
        g.pop("fieldapp_central", None)  # fieldapp.tier and fieldapp.access: central or town, town scopes
        g.pop("fieldapp_town_scopes", None)

    @login_manager.user_loader  # type: ignore[untyped-decorator]  # Flask-Login ships no types
    def _load_user(session_id: str) -> User | None:
        # "<user id>.<session version>": a session from before the version last went up is dead
        user_id, _, version = session_id.partition(".")
        if not (user_id.isdigit() and version.isdigit()):
            return None
        user = db.session.get(User, int(user_id))
        if user is None or not user.active or (user.session_version or 0) != int(version):
            return None
        return user

    from fieldapp.auth import idle

    idle.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from fieldapp.admin import bp as admin_bp
    from fieldapp.api import bp as api_bp
    from fieldapp.auth import bp as auth_bp
    from fieldapp.main import bp as main_bp
    from fieldapp.reports import bp as reports_bp
    from fieldapp.review import bp as review_bp
    from fieldapp.worker import bp as worker_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(worker_bp, url_prefix="/app")
    app.register_blueprint(review_bp, url_prefix="/review")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
