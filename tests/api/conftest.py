"""Helpers for the API tests: log a device in, build records, push, pull."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from fieldapp.extensions import db
from fieldapp.models import Household
from tests import factories


def new_uuid() -> str:
    return str(uuid.uuid4())


def record(household: Household | None, *, base_rev: int | None = None, campaign_id: str = "2023-jzpc",
           **data: Any) -> dict[str, Any]:
    """A push record for ``household`` (None: a household not on the roster), valid by default."""
    return {
        "uuid": new_uuid(), "campaign_id": campaign_id, "form_version": "2023.1",
        "household_id": household.id if household else None,
        "base_rev": (household.rev if household else None) if base_rev is None else base_rev,
        "supersedes": None, "started_at": "2023-10-12T09:21:00+08:00",
        "visited_at": "2023-10-12T09:30:00+08:00",
        "data": factories.visit_data(household, **data),
        "location": {"lat": 30.1, "lon": 114.9, "accuracy_m": 20},
    }


def use_form_2024() -> None:
    """The campaign of the small town takes form 2024.1 (household members)."""
    from fieldapp.models import Campaign
    campaign = db.session.get(Campaign, "2023-jzpc")
    campaign.form_version = "2024.1"
    db.session.commit()


def members_record(household: Household, members: list[dict[str, Any]] | None = None, **data: Any) -> dict[str, Any]:
    """A valid 2024.1 record for ``household`` with ``members`` (tests/members_data.py's
    by default), the first being its householder."""
    from tests.members_data import MEMBERS
    records = [dict(m) for m in (members or MEMBERS)]
    records[0] = {**records[0], "name": household.head_name, "id_number": household.head_id}
    rec = record(household, size=sum(1 for m in records if m.get("change") != "removed"), labor_count=2,
                 members=records, **data)
    rec["form_version"] = "2024.1"
    for key in ("work_out_province", "work_in_province", "work_in_city"):
        rec["data"].pop(key, None)
    return rec


class Api:
    """A device talking to /api/v1 through the test client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    def login(self, username: str, device_id: str = "device-1", password: str = factories.PASSWORD) -> str:
        response = self.client.post("/api/v1/auth/token", json={
            "username": username, "password": password, "device_id": device_id})
        assert response.status_code == 200, response.get_json()
        token = response.get_json()["token"]
        self.tokens[username] = token
        return token

    def headers(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def push(self, token: str, records: list[dict[str, Any]], batch_id: str | None = None,
             device_id: str = "device-1", **kwargs: Any) -> Any:
        body = {"batch_id": batch_id or new_uuid(), "device_id": device_id, "app_version": "test",
                "records": records}
        return self.client.post("/api/v1/sync/push", json=body, headers=self.headers(token), **kwargs)

    def push_ok(self, token: str, records: list[dict[str, Any]], **kwargs: Any) -> list[dict[str, Any]]:
        response = self.push(token, records, **kwargs)
        assert response.status_code == 200, response.get_json()
        results: list[dict[str, Any]] = response.get_json()["results"]
        assert [r["uuid"] for r in results] == [r["uuid"] for r in records]
        return results

    def pull(self, token: str, since: str | None = None, limit: int | None = None) -> Any:
        query: dict[str, Any] = {}
        if since is not None:
            query["since"] = since
        if limit is not None:
            query["limit"] = limit
        return self.client.get("/api/v1/sync/pull", query_string=query, headers=self.headers(token))

    def pull_all(self, token: str, since: str | None = None, limit: int = 500) -> tuple[list[dict], str]:
        """Follow ``more`` to the end; return every page's body and the last cursor."""
        pages = []
        cursor = since
        while True:
            response = self.pull(token, cursor, limit)
            assert response.status_code == 200, response.get_json()
            body = response.get_json()
            pages.append(body)
            cursor = body["cursor"]
            if not body["more"]:
                return pages, cursor


def reload(model: Any, key: Any) -> Any:
    """The row as committed now (ends the test session's snapshot first)."""
    db.session.rollback()
    return db.session.get(model, key)


@pytest.fixture
def api(client: FlaskClient) -> Iterator[Api]:
    yield Api(client)
