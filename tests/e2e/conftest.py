"""Helpers for the worker app's browser tests: phones (contexts), login, visits."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS

PHONE = {"viewport": {"width": 360, "height": 640}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


class Phone:
    """One phone: a browser context (optionally a persistent profile) and its page."""

    def __init__(self, browser: Any, base_url: str, profile: Path | None = None) -> None:
        self.browser = browser
        self.base_url = base_url
        self.profile = profile
        self.context: Any = None
        self.page: Any = None
        self.blocked = False

    def open(self) -> Phone:
        if self.profile is not None:
            self.context = self.browser.browser_type.launch_persistent_context(
                str(self.profile), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **PHONE)
        else:
            self.context = self.browser.new_context(**PHONE)
        self.context.route("**/*", self._route)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.set_default_timeout(15_000)
        return self

    def _route(self, route: Any) -> None:
        # set_offline does not stop the service worker's own fetches: abort
        # every request (page's and service worker's) while "offline".
        if self.blocked:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def offline(self) -> None:
        self.blocked = True
        self.context.set_offline(True)

    def online(self) -> None:
        self.blocked = False
        self.context.set_offline(False)

    def close(self) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None

    # -- app actions ---------------------------------------------------------

    def goto(self, path: str = "/app/") -> None:
        self.page.goto(self.base_url + path)
        self.page.wait_for_selector("#app[data-ready=true]")

    def wait_controlled(self) -> None:
        """Until the service worker is active and controls the page."""
        self.page.wait_for_function(
            "() => navigator.serviceWorker.controller !== null", timeout=20_000)

    def login(self, username: str = "worker_a", password: str = "pass-word-123") -> None:
        self.goto("/app/login")
        self.page.fill("#login-username", username)
        self.page.fill("#login-password", password)
        self.page.click("form button[type=submit]")
        self.page.wait_for_selector("#hh-counts")
        self.wait_synced()

    def wait_until(self, expression: str, timeout: float = 20.0) -> None:
        """Poll an async JS expression (``db`` = static/js/db.js) until it is truthy."""
        deadline = time.monotonic() + timeout
        while not self.idb(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {expression}")
            self.page.wait_for_timeout(100)

    def wait_outbox_empty(self, timeout: float = 30.0) -> None:
        self.wait_until("(await db.getAll('outbox')).length === 0", timeout)

    def wait_synced(self) -> None:
        """Until a sync has finished (no sync running, households stored)."""
        self.wait_until("!(await import('/static/js/sync.js')).isRunning()"
                        " && document.querySelectorAll('.vlist-row').length > 0")

    def idb(self, expression: str) -> Any:
        """Evaluate ``expression`` with ``db`` (static/js/db.js) imported."""
        return self.page.evaluate(
            f"async () => {{ const db = await import('/static/js/db.js'); return {expression}; }}")

    def outbox(self) -> list[dict[str, Any]]:
        return self.idb("await db.getAll('outbox')")

    def open_household(self, name: str) -> None:
        self.page.fill("#hh-search", name)
        self.page.click(f".vlist-row:has-text('{name}')")
        self.page.wait_for_selector("#visit-form")

    def fill_visit(self, *, method: str = "phone", wage: str = "36000", sign: bool = False) -> None:
        """Answer every required question of a valid visit (household fields come prefilled)."""
        p = self.page
        for field in ("housing_unsafe", "school_dropout", "medical_uninsured", "serious_illness", "water_unsafe"):
            p.check(f"input[name={field}][value=false]")
        p.check("input[name=food_clothing_ok][value=true]")
        p.fill("input[name=income_wage]", wage)
        for field, value in (("income_business", "8000"), ("business_cost", "2000"),
                             ("income_property", "500"), ("income_transfer", "1500")):
            p.fill(f"input[name={field}]", value)
        p.check("input[name=conclusion][value=no_risk]")
        p.check(f"input[name=visit_method][value={method}]")
        p.fill("input[name=visited_on]", "2023-10-12")
        p.fill("input[name=respondent]", "王建国")
        p.check("input[name=respondent_relation][value=self]")
        if sign:
            self.sign()

    def sign(self) -> None:
        """A signature drawn with the finger (the mouse) on the pad."""
        p = self.page
        box = p.locator("canvas.sigpad").bounding_box()
        p.mouse.move(box["x"] + 20, box["y"] + 30)
        p.mouse.down()
        for i in range(1, 12):
            p.mouse.move(box["x"] + 20 + i * 20, box["y"] + 30 + (i % 3) * 15)
        p.mouse.up()

    def save_visit(self) -> None:
        self.page.click("#save-visit")
        self.page.wait_for_selector("#toast:has-text('已保存')")
        self.page.wait_for_selector("#hh-counts")


@pytest.fixture
def phones(browser: Any, live_server: Any, tmp_path: Path) -> Iterator[Any]:
    """``phones(profile=False)`` makes phones against the live server; all closed at the end."""
    made: list[Phone] = []

    def make(profile: bool = False) -> Phone:
        phone = Phone(browser, live_server.url, tmp_path / "profile" if profile else None).open()
        made.append(phone)
        return phone

    yield make
    for phone in made:
        phone.close()
