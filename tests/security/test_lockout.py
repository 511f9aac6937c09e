"""One outsider cannot lock the town out: forwarded addresses trusted only from the
configured proxies (``FIELDAPP_TRUSTED_PROXIES``), and failures on unknown or other user
names never block a valid user on a device they logged in from before (web and API)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from fieldapp.extensions import db
from fieldapp.models import AuditLog, LoginAttempt
from tests.conftest import csrf_token_from, make_test_app
from tests.factories import PASSWORD, SmallTown

pytestmark = pytest.mark.both_backends

PROXY = "10.0.0.2"


@pytest.fixture
def proxied(database_url: str, tmp_path: Path):
    """An app behind a reverse proxy at 10.0.0.2 (and 127.0.0.1), and its small town."""
    app = make_test_app(database_url, tmp_path / "proxied", TRUSTED_PROXIES=[PROXY, "127.0.0.1/32"])
    with app.app_context():
        db.create_all()
        SmallTown()
        yield app
        db.session.remove()
        db.engine.dispose()


def _via(client: FlaskClient, client_address: str | None, peer: str = PROXY) -> dict:
    """Request options for a request from ``peer`` forwarding for ``client_address``."""
    headers = {"X-Forwarded-For": client_address, "X-Forwarded-Proto": "http"} if client_address else {}
    return {"environ_base": {"REMOTE_ADDR": peer}, "headers": headers}


def web_login(client: FlaskClient, username: str, password: str, address: str | None,
              peer: str = PROXY) -> int:
    page = client.get("/login", **_via(client, address, peer))
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       **_via(client, address, peer)).status_code


def api_login(client: FlaskClient, username: str, password: str, address: str | None,
              device: str = "phone-1", peer: str = PROXY) -> int:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password,
                                                   "device_id": device},
                       **_via(client, address, peer)).status_code


def _attempt_addresses() -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(LoginAttempt.address).order_by(LoginAttempt.id)))


def test_forwarded_addresses_are_trusted_from_the_proxies_only(proxied) -> None:
    client = proxied.test_client()
    assert web_login(client, "nobody", "wrong-password", "203.0.113.7") == 401
    assert api_login(client, "nobody", "wrong-password", "203.0.113.8") == 401
    # a chain of proxies: the first address that is not a trusted proxy is the client
    assert api_login(client, "nobody", "wrong-password", "203.0.113.9, 127.0.0.1") == 401
    # a client talking to the app directly cannot make up an address
    assert api_login(client, "nobody", "wrong-password", "198.51.100.1", peer="192.0.2.50") == 401
    assert _attempt_addresses() == ["203.0.113.7", "203.0.113.8", "203.0.113.9", "192.0.2.50"]
    assert api_login(client, "worker_a", PASSWORD, "203.0.113.10") == 200
    db.session.rollback()
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "token_issue"))
    assert entry.address == "203.0.113.10"


def test_without_trusted_proxies_forwarded_headers_are_ignored(client, town) -> None:
    assert api_login(client, "nobody", "wrong-password", "203.0.113.7", peer="10.0.0.2") == 401
    assert _attempt_addresses() == ["10.0.0.2"]


def test_random_user_names_from_one_address_lock_out_no_one_else(proxied) -> None:
    """20 failures with random names gave admin (right password) 429 on /login and the API:
    behind the proxy every client had the proxy's address."""
    attacker = proxied.test_client()
    for n in range(20):
        assert web_login(attacker, f"guess{n}", "wrong-password", "203.0.113.66") == 401
    office = proxied.test_client()
    assert web_login(office, "admin", PASSWORD, "198.51.100.20") == 302
    assert api_login(office, "admin", PASSWORD, "198.51.100.21") == 200
    # the attacker's own address is throttled (the higher bar per address)
    assert web_login(attacker, "worker_b", PASSWORD, "203.0.113.66") == 429


def test_a_known_device_logs_in_while_others_fail_on_its_user_name_and_address(proxied) -> None:
    office = proxied.test_client()  # the admin's PC: logged in here before
    assert web_login(office, "admin", PASSWORD, "198.51.100.20") == 302
    assert office.get_cookie("fieldapp_device", path="/login") is not None
    office.post("/logout", data={"csrf_token": csrf_token_from(office.get("/logout").get_data(as_text=True))})
    assert api_login(office, "worker_a", PASSWORD, "198.51.100.20", device="phone-a") == 200

    attacker = proxied.test_client()
    for n in range(25):  # the user names' own limits and the shared (NAT) address's
        assert web_login(attacker, "admin" if n % 2 else "worker_a", "wrong-password", "198.51.100.20") in (401, 429)
    assert web_login(attacker, "admin", PASSWORD, "198.51.100.20") == 429
    assert api_login(attacker, "worker_a", PASSWORD, "198.51.100.20", device="phone-x") == 429
    # the admin's PC and the worker's phone were used before: others' failures do not block them
    assert web_login(office, "admin", PASSWORD, "198.51.100.20") == 302
    assert api_login(office, "worker_a", PASSWORD, "198.51.100.20", device="phone-a") == 200
    # a known device's own failures still count
    for _ in range(5):
        assert api_login(office, "worker_a", "wrong-password", "198.51.100.20", device="phone-a") == 401
    assert api_login(office, "worker_a", PASSWORD, "198.51.100.20", device="phone-a") == 429
