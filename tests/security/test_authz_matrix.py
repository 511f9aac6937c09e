"""Authorization as a matrix: every role × every route × in scope / out of scope.

The routes come from ``app.url_map``; the expected access from
``tests/security/routes.py``. A route without a rule fails. Every HTML page
fetched on the way is also checked for what the CSP forbids (inline scripts,
event handler attributes, style attributes) and, since the data carries
markup (``tests/security/world.py``), for unescaped user input.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import Rule as UrlRule

from fieldapp.extensions import db
from tests.conftest import AuthActions, csrf_token_from, make_test_app
from tests.factories import PASSWORD
from tests.security.html_checks import csp_problems
from tests.security.routes import ADMIN, ANON, RULES, Rule
from tests.security.world import World, build_world

ROLE_USERS = {"worker": "worker_a", "supervisor": "supervisor_a", "admin": "admin"}
ROLES = (ANON, "worker", "supervisor", ADMIN)
PROBED_METHODS = ("GET", "POST")


def _url_rules(app: Flask) -> dict[str, UrlRule]:
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


def test_every_route_has_a_rule(app: Flask) -> None:
    endpoints = set(_url_rules(app))
    missing = sorted(endpoints - set(RULES))
    assert not missing, f"routes without an authorization rule (add them to tests/security/routes.py): {missing}"
    stale = sorted(set(RULES) - endpoints)
    assert not stale, f"rules for routes that no longer exist: {stale}"


class Caller:
    """One role's client: a session cookie (web) and a bearer token (API)."""

    def __init__(self, app: Flask, role: str, session_cookie: str | None, token: str | None) -> None:
        self.role = role
        self.client: FlaskClient = app.test_client()
        self.token = token
        if session_cookie:
            self.client.set_cookie("session", session_cookie)

    @staticmethod
    def sign_in(app: Flask, role: str) -> tuple[str | None, str | None]:
        """Log ``role`` in through the real form and the token endpoint; return (cookie, token)."""
        if role == ANON:
            return None, None
        client = app.test_client()
        assert AuthActions(client).login(ROLE_USERS[role]).status_code == 302
        cookie = client.get_cookie("session")
        assert cookie is not None
        response = client.post("/api/v1/auth/token", json={
            "username": ROLE_USERS[role], "password": PASSWORD, "device_id": f"authz-{role}"})
        assert response.status_code == 200, response.get_json()
        return cookie.value, response.get_json()["token"]

    def csrf(self) -> str:
        return csrf_token_from(self.client.get("/login" if self.role == ANON else "/logout").get_data(as_text=True))

    def call(self, method: str, url: str, rule: Rule, world: World, side: str) -> Any:
        if rule.api:
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            body = rule.body(world, side) if rule.body and method == "POST" else None
            return self.client.open(url, method=method, json=body, headers=headers)
        data = {"csrf_token": self.csrf()} if method == "POST" else None
        return self.client.open(url, method=method, data=data)


@dataclass
class Template:
    """A database file with the world and signed-in sessions, copied for each route's test."""

    path: Path
    world: World
    credentials: dict[str, tuple[str | None, str | None]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("authz")
    path = folder / "template.db"
    app = make_test_app(f"sqlite:///{path}", folder / "instance")
    with app.app_context():
        db.create_all()
    world = build_world(app)
    credentials = {role: Caller.sign_in(app, role) for role in ROLES}
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return Template(path, world, credentials)


def _expect(rule: Rule, role: str, side: str, response: Any, where: str) -> None:
    status = response.status_code
    assert status < 500, f"{where}: {status}"
    if rule.node:
        assert status == 401, f"{where}: a user's token got {status} from a node endpoint, expected 401"
        return
    if role not in rule.roles:
        if role == ANON:
            if rule.api:
                assert status == 401, f"{where}: anonymous got {status}, expected 401"
            else:
                assert status == 302 and "/login" in response.headers["Location"], \
                    f"{where}: anonymous got {status}, expected a redirect to /login"
        else:
            assert status == 403, f"{where}: {role} got {status}, expected 403"
        return
    if side == "out" and rule.scoped and role != ADMIN:
        assert status == 404, f"{where}: {role} reached an out-of-scope object ({status}), expected 404"
        return
    refused = (401, 403) if rule.outside_db else (401, 403, 404)
    assert status not in refused, f"{where}: {role} was refused ({status}) but is allowed"
    if role == ANON and not rule.api:
        assert "/login" not in response.headers.get("Location", ""), f"{where}: public page redirects to login"


@pytest.mark.parametrize("endpoint", sorted(RULES))
def test_route_access_and_clean_html(template: Template, tmp_path: Path, endpoint: str) -> None:
    path = tmp_path / "copy.db"
    shutil.copyfile(template.path, path)
    app = make_test_app(f"sqlite:///{path}", tmp_path / "instance")
    try:
        _probe(app, endpoint, template)
    finally:
        with app.app_context():
            db.engine.dispose()


def _probe(app: Flask, endpoint: str, template: Template) -> None:
    url_rule = _url_rules(app).get(endpoint)
    if url_rule is None:
        pytest.fail(f"rule for a route that does not exist: {endpoint}")
    rule, world = RULES[endpoint], template.world
    sides = ("out", "in") if rule.scoped else ("in",)
    methods = [m for m in PROBED_METHODS if m in (url_rule.methods or set())]
    for role in ROLES:
        caller = Caller(app, role, *template.credentials[role])
        for side in sides:
            kwargs = rule.args(world, side) if rule.args else {}
            with app.test_request_context():
                url = url_for(endpoint, **kwargs, **rule.query)
            for method in methods:
                response = caller.call(method, url, rule, world, side)
                where = f"{method} {url} as {role} ({side})"
                _expect(rule, role, side, response, where)
                if response.mimetype == "text/html":
                    problems = csp_problems(response.get_data(as_text=True))
                    assert not problems, f"{where}: {problems}"
                textual = response.mimetype.startswith("text/") or response.mimetype.endswith("json")
                if response.status_code == 200 and method == "GET" and textual and not (rule.api or rule.unmasked):
                    text = response.get_data(as_text=True)
                    shown = [value for value in world.secrets if value in text]
                    assert not shown, f"{where}: unmasked ID numbers or phones {shown[:3]}"


def test_every_web_post_needs_a_csrf_token(template: Template, tmp_path: Path) -> None:
    """Every web route that takes a POST refuses it without the CSRF token (400), even for
    an admin (allowed nearly everywhere) or a supervisor."""
    path = tmp_path / "copy.db"
    shutil.copyfile(template.path, path)
    app = make_test_app(f"sqlite:///{path}", tmp_path / "instance")
    checked = []
    try:
        callers = [Caller(app, role, *template.credentials[role]) for role in (ADMIN, "supervisor")]
        for endpoint, url_rule in sorted(_url_rules(app).items()):
            rule = RULES[endpoint]
            if rule.api or "POST" not in (url_rule.methods or set()):
                continue
            with app.test_request_context():
                url = url_for(endpoint, **(rule.args(template.world, "in") if rule.args else {}))
            for caller in callers:
                response = caller.client.post(url, data={"anything": "x"})
                assert response.status_code == 400, \
                    f"POST {url} as {caller.role} without CSRF: {response.status_code}"
            checked.append(endpoint)
    finally:
        with app.app_context():
            db.engine.dispose()
    assert "admin.user_new" in checked and "auth.login" in checked and len(checked) >= 15
