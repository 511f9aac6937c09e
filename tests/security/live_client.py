"""A phone talking to a real ``fieldapp serve`` over HTTP, retrying like the PWA's outbox does."""

from __future__ import annotations

import time
import uuid
from typing import Any

import requests

from tests.factories import PASSWORD


def new_id() -> str:
    return str(uuid.uuid4())


class Phone:
    def __init__(self, base_url: str, username: str, device_id: str | None = None) -> None:
        self.base_url = base_url
        self.username = username
        self.device_id = device_id or new_id()
        self.token: str | None = None
        self.http = requests.Session()

    def login(self, password: str = PASSWORD) -> requests.Response:
        response = self.http.post(f"{self.base_url}/api/v1/auth/token", timeout=30, json={
            "username": self.username, "password": password, "device_id": self.device_id})
        if response.status_code == 200:
            self.token = response.json()["token"]
        return response

    def push(self, batch_id: str, records: list[dict[str, Any]], timeout: float = 60) -> requests.Response:
        body = {"batch_id": batch_id, "device_id": self.device_id, "app_version": "live-test",
                "records": records}
        return self.http.post(f"{self.base_url}/api/v1/sync/push", json=body, timeout=timeout,
                              headers={"Authorization": f"Bearer {self.token}"})

    def pull(self, since: str | None = None) -> requests.Response:
        params = {"since": since} if since else {}
        return self.http.get(f"{self.base_url}/api/v1/sync/pull", params=params, timeout=30,
                             headers={"Authorization": f"Bearer {self.token}"})

    def push_until_acknowledged(self, batch_id: str, records: list[dict[str, Any]],
                                deadline_s: float = 90) -> dict[str, Any]:
        """Resend the same batch until the server answers 200 (connection errors, 503 retried)."""
        deadline = time.monotonic() + deadline_s
        while True:
            try:
                response = self.push(batch_id, records)
                if response.status_code == 200:
                    return response.json()
                assert response.status_code == 503, (response.status_code, response.text[:300])
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"batch {batch_id} never acknowledged"
            time.sleep(0.3)
