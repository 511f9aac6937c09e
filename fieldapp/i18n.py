"""Locale: Simplified Chinese by default; English when the user switches (?lang=en)."""

from __future__ import annotations

import os

from flask import Flask, current_app, has_request_context, request, session

from fieldapp.extensions import babel


def select_locale() -> str:
    if not has_request_context():  # CLI commands and other work outside a request: the default
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    requested = request.args.get("lang")
    if requested in current_app.config["LANGUAGES"]:
        session["lang"] = requested
    lang = session.get("lang")
    return str(lang if lang in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    translations = os.path.join(os.path.dirname(__file__), "translations")
    babel.init_app(app, locale_selector=select_locale, default_translation_directories=translations)
    init_templates(app)


def init_templates(app: Flask) -> None:
    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
