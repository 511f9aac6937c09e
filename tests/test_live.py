"""The live-server and browser fixtures work against a real ``fieldapp serve``."""

from __future__ import annotations

import pytest
import requests

pytestmark = pytest.mark.both_backends


def test_live_server_serves_login_page(live_server, town) -> None:
    response = requests.get(f"{live_server.url}/login", timeout=10)
    assert response.status_code == 200
    assert "登录排查通" in response.text


@pytest.mark.e2e
def test_browser_logs_in(live_server, town, page, backend) -> None:
    if backend != "sqlite":
        pytest.skip("one browser run is enough")
    page.goto(f"{live_server.url}/login")
    page.fill("input[name=username]", "supervisor_a")
    page.fill("input[name=password]", "pass-word-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/review/")
    assert page.locator(".topbar .who").inner_text() == "supervisor_a"
