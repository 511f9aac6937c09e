"""Accounts: headers, session cookie flags, CSRF, password hashing, login throttling (web and API)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from fieldapp.extensions import db
from tests.conftest import AuthActions, csrf_token_from, make_test_app
from tests.factories import PASSWORD, SmallTown

pytestmark = pytest.mark.both_backends


def _api_login(client: FlaskClient, username: str, password: str, address: str = "10.0.0.1") -> int:
    response = client.post("/api/v1/auth/token", environ_base={"REMOTE_ADDR": address},
                           json={"username": username, "password": password, "device_id": "phone-1"})
    if response.status_code in (401, 429):
        expected = "invalid_credentials" if response.status_code == 401 else "too_many_attempts"
        assert response.get_json()["error"]["code"] == expected
    return response.status_code


def _web_login(client: FlaskClient, username: str, password: str, address: str = "10.0.0.1") -> int:
    page = client.get("/login", environ_base={"REMOTE_ADDR": address})
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/login", environ_base={"REMOTE_ADDR": address},
                       data={"username": username, "password": password, "csrf_token": token}).status_code


@pytest.mark.parametrize("path", ["/login", "/api/v1/openapi.json", "/static/css/app.css", "/no-such-page"])
def test_security_headers_on_every_kind_of_response(client, path) -> None:
    headers = client.get(path).headers
    csp = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe" not in csp
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers  # only behind HTTPS (see below)


def test_session_cookie_is_httponly_and_samesite(client, town) -> None:
    response = AuthActions(client).login("worker_a")
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_secure_cookie_and_hsts_behind_https(database_url: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDAPP_SESSION_COOKIE_SECURE", "true")
    app = make_test_app(database_url, tmp_path / "inst")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    with app.app_context():
        db.create_all()
        SmallTown()
    client = app.test_client()
    base = "https://fieldapp.example"
    page = client.get("/login", base_url=base)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    # over HTTPS Flask-WTF also insists on a same-origin Referer
    without_referer = client.post("/login", base_url=base, data={
        "username": "worker_a", "password": PASSWORD,
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert without_referer.status_code == 400
    response = client.post("/login", base_url=base, headers={"Referer": f"{base}/login"}, data={
        "username": "worker_a", "password": PASSWORD,
        "csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert response.status_code == 302
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_passwords_are_stored_with_scrypt(town) -> None:
    assert town.worker_a.password_hash.startswith("scrypt:")
    assert PASSWORD not in town.worker_a.password_hash


def test_web_throttles_per_user(client, town) -> None:
    for n in range(5):
        assert _web_login(client, "worker_a", "wrong-password", f"10.0.1.{n}") == 401
    # right password, fresh address: still refused, the user name is locked for the window
    assert _web_login(client, "worker_a", PASSWORD, "10.0.2.1") == 429
    assert _web_login(client, "worker_b", PASSWORD, "10.0.2.1") == 302


def test_web_throttles_per_address_across_user_names(client, town) -> None:
    for n in range(20):  # 4 x LOGIN_MAX_FAILURES, each name below its own limit
        assert _web_login(client, f"guess{n}", "wrong-password", "10.9.9.9") == 401
    assert _web_login(client, "worker_b", PASSWORD, "10.9.9.9") == 429
    assert _web_login(client, "worker_b", PASSWORD, "10.9.9.10") == 302


def test_api_throttles_per_user(client, town) -> None:
    for n in range(5):
        assert _api_login(client, "worker_a", "wrong-password", f"10.0.1.{n}") == 401
    assert _api_login(client, "worker_a", PASSWORD, "10.0.2.1") == 429
    assert _api_login(client, "worker_b", PASSWORD, "10.0.2.1") == 200


def test_api_throttles_per_address_across_user_names(client, town) -> None:
    for n in range(20):
        assert _api_login(client, f"guess{n}", "wrong-password", "10.8.8.8") == 401
    assert _api_login(client, "worker_b", PASSWORD, "10.8.8.8") == 429
    assert _api_login(client, "worker_b", PASSWORD, "10.8.8.9") == 200


def test_web_and_api_share_one_throttle(client, town) -> None:
    for n in range(3):
        _web_login(client, "worker_a", "wrong-password", f"10.0.3.{n}")
    for n in range(2):
        _api_login(client, "worker_a", "wrong-password", f"10.0.4.{n}")
    assert _api_login(client, "worker_a", PASSWORD, "10.0.5.1") == 429
    assert _web_login(client, "worker_a", PASSWORD, "10.0.5.1") == 429


@pytest.mark.parametrize("path", ["web", "api"])
def test_login_timing_does_not_tell_which_user_names_exist(app, client, town, path, monkeypatch) -> None:
    """A wrong password for a real user took ~100 ms (the scrypt check), an unknown user ~6 ms.

    The work is counted rather than timed (timings flake on a busy machine): every failed
    login, whatever the name, runs exactly one scrypt of the same cost.
    """
    import hashlib

    app.config["LOGIN_MAX_FAILURES"] = 1000
    login = _web_login if path == "web" else _api_login
    town.worker_b.active = False
    db.session.commit()
    calls: list[tuple[int, int, int]] = []
    real_scrypt = hashlib.scrypt

    def counting_scrypt(password: bytes, *, salt: bytes, n: int, r: int, p: int, **kwargs: object) -> bytes:
        calls.append((n, r, p))
        return real_scrypt(password, salt=salt, n=n, r=r, p=p, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)

    def work(username: str, n: int) -> list[tuple[int, int, int]]:
        calls.clear()
        assert login(client, username, f"wrong-password-{n}", f"10.7.{len(username)}.{n}") == 401
        return list(calls)

    work("no-such-user", 0)  # the process makes its dummy hash once, on the first unknown name
    real = work("worker_a", 1)
    assert len(real) == 1
    assert work("no-such-user", 2) == real, "an unknown name must cost what a real one costs"
    assert work("worker_b", 3) == real, "an inactive user must cost what an active one costs"
