"""Schemathesis against /api/v1/openapi.json: generated requests never get a 5xx.

Bounded (a few dozen examples per operation) so that it runs in the normal
test suite. Requests carry a valid worker token, so generation reaches the
handlers behind authentication, and also run without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings

from fieldapp.extensions import db
from tests import schemathesis_media  # noqa: F401  (the photo chunks' media type)
from tests.factories import PASSWORD, SmallTown


@pytest.fixture
def api_schema(app: Flask) -> Iterator[Any]:
    with app.app_context():
        SmallTown()
        db.session.remove()
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def worker_token(app: Flask, api_schema: Any) -> str:
    response = app.test_client().post("/api/v1/auth/token", json={
        "username": "worker_a", "password": PASSWORD, "device_id": "schemathesis"})
    assert response.status_code == 200
    return str(response.get_json()["token"])


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, worker_token: str) -> None:
    for headers in ({"Authorization": f"Bearer {worker_token}"}, {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.path, response.status_code,
                                            response.text[:300])
        if response.request.method in ("OPTIONS", "HEAD"):
            continue  # Flask's automatic answers: empty bodies
        content_type = {k.lower(): v for k, v in response.headers.items()}["content-type"]
        assert content_type[0].startswith("application/json"), (response.request.method, response.request.url, response.status_code)
