"""A 500 leaves a trace in the server's log under ``fieldapp demo`` and ``fieldapp serve``.

``fieldapp demo`` runs the Alembic upgrade in the serving process, and Alembic's
logging set-up used to disable every ``fieldapp.*`` logger: the 500s left no trace.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from fieldapp import create_app
from fieldapp.demo.build import demo_logins
from fieldapp.extensions import db
from tests import factories
from tests.live import LiveServer, free_port

pytestmark = pytest.mark.slow


def _env(database_url: str, instance: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FIELDAPP_")}
    env.update({"FIELDAPP_DATABASE_URL": database_url, "FIELDAPP_INSTANCE_PATH": str(instance),
                "FIELDAPP_SECRET_KEY": "log-test-secret-key"})
    return env


def _town_with_a_broken_campaign(tmp_path: Path) -> str:
    """A small database the demo reuses (its town, campaign and logins), migrated with
    ``fieldapp init-db``, whose active campaign names a form version that does not
    exist: ``GET /api/v1/form`` then fails inside the app (500)."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    subprocess.run([sys.executable, "-m", "fieldapp", "init-db"], env=_env(url, tmp_path / "instance"),
                   check=True, capture_output=True, timeout=120)
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    with app.app_context():
        town = factories.make_town()
        village = factories.make_village(town, "沼山村")
        factories.make_household(village)
        factories.make_campaign().form_version = "0.0-gone"
        for login in demo_logins():
            factories.make_user(login.username, login.role, [village] if login.role == "worker" else [])
        db.session.commit()
        db.engine.dispose()
    return url


def _fail_once(base_url: str) -> None:
    token = requests.post(f"{base_url}/api/v1/auth/token", timeout=30, json={
        "username": "admin", "password": factories.PASSWORD, "device_id": "log-test"}).json()["token"]
    response = requests.get(f"{base_url}/api/v1/form", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"


def _logged(log: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(errors="replace")
        if "unhandled error on GET /api/v1/form" in text or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


def test_an_error_under_fieldapp_demo_is_logged(tmp_path: Path) -> None:
    url = _town_with_a_broken_campaign(tmp_path)
    port = free_port()
    log_path = tmp_path / "demo.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "fieldapp", "demo", "--port", str(port)],
                                   env=_env(url, tmp_path / "instance"), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log_path.read_text(errors="replace")
                try:
                    if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    assert time.monotonic() < deadline, log_path.read_text(errors="replace")
                    time.sleep(0.3)
            _fail_once(f"http://127.0.0.1:{port}")
            text = _logged(log_path)
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    assert "unhandled error on GET /api/v1/form" in text, text
    assert "KeyError: '0.0-gone'" in text, "the traceback is logged"


def test_an_error_under_fieldapp_serve_is_logged(tmp_path: Path) -> None:
    url = _town_with_a_broken_campaign(tmp_path)
    server = LiveServer(url, tmp_path / "live").start()
    try:
        _fail_once(server.url)
        text = _logged(server.log_path)
    finally:
        server.stop()
    assert "unhandled error on GET /api/v1/form" in text, text
    assert "KeyError: '0.0-gone'" in text
