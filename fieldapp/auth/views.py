"""Web login and logout (session cookie + CSRF)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from fieldapp import audit
from fieldapp.auth import bp, device_cookie, idle
from fieldapp.auth.credentials import authenticate
from fieldapp.auth.forms import LoginForm, LogoutForm
from fieldapp.auth.throttle import is_throttled, note_attempt
from fieldapp.db import write_transaction
from fieldapp.extensions import db

log = logging.getLogger(__name__)


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        username = form.username.data.strip()
        address = request.remote_addr or "?"
        device = device_cookie.read(request)
        if is_throttled(db.session, username, address, device):
            flash(_("登录失败次数过多，请5分钟后再试"), "error")
            log.warning("login throttled for %s from %s", username, address)
            return render_template("auth/login.html", form=form), 429
        user = authenticate(db.session(), username, form.password.data)
        if user is None:
            note_attempt(db.session, username, address, success=False, device=device)
            db.session.commit()
            flash(_("用户名或密码错误"), "error")
            status = 401
        else:
            device = device or device_cookie.new()
            note_attempt(db.session, username, address, success=True, device=device)
            audit.record(db.session, user, "login", "user", user.id)
            db.session.commit()
            login_user(user)
            idle.start()
            response = redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
            device_cookie.write(response, device)
            return response
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response | str:
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        if current_user.is_authenticated:
            with write_transaction(db.session()):
                current_user.end_sessions()  # copies of this session's cookie die too
        logout_user()
        flash(_("已退出登录"), "info")
        return redirect(url_for("auth.login"))
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)
