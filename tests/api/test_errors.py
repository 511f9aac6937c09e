"""Every bad input gets the documented JSON error and status, never HTML, never a 500."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Visit
from tests.api.conftest import new_uuid, record

pytestmark = pytest.mark.both_backends


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def post_raw(api, token, data: bytes | str, content_type: str = "application/json", **headers):
    return api.client.post("/api/v1/sync/push", data=data, content_type=content_type,
                           headers={**api.headers(token), **headers})


def test_malformed_json_is_400(api, town) -> None:
    token = api.login("worker_a")
    for raw in ('{"batch_id": ', "[1, 2", "NaN", '{"a": Infinity}', b"\xff\xfe{}", "{" * 100_000):
        assert error_of(post_raw(api, token, raw), 400)["code"] == "malformed_json"


def test_not_json_is_415(api, town) -> None:
    token = api.login("worker_a")
    error = error_of(post_raw(api, token, "batch_id=1", "application/x-www-form-urlencoded"), 415)
    assert error["code"] == "unsupported_media_type"
    error_of(post_raw(api, token, "{}", "text/plain"), 415)


def test_more_than_500_records_is_413(api, town) -> None:
    token = api.login("worker_a")
    records = [record(town.households_a[0]) for _ in range(501)]
    error = error_of(api.push(token, records), 413)
    assert error["code"] == "too_large" and error["details"]["max_records"] == 500
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def test_more_than_5_mib_is_413(api, town) -> None:
    token = api.login("worker_a")
    body = {"batch_id": "big", "device_id": "d", "records": [], "pad": "x" * (5 * 1024 * 1024)}
    error = error_of(post_raw(api, token, json.dumps(body)), 413)
    assert error["details"]["max_bytes"] == 5 * 1024 * 1024


@pytest.mark.parametrize(("mutate", "path"), [
    (lambda b: b.update(extra=1), "extra"),
    (lambda b: b.update(batch_id=5), "batch_id"),
    (lambda b: b.pop("device_id"), "device_id"),
    (lambda b: b.update(records={"a": 1}), "records"),
    (lambda b: b["records"].append("not an object"), "records[1]"),
    (lambda b: b["records"][0].update(base_rev="3"), "records[0].base_rev"),
    (lambda b: b["records"][0].update(base_rev=True), "records[0].base_rev"),
    (lambda b: b["records"][0].update(uuid="not-a-uuid"), "records[0].uuid"),
    (lambda b: b["records"][0].update(colour="red"), "records[0].colour"),
    (lambda b: b["records"][0].update(data=[1, 2]), "records[0].data"),
    (lambda b: b["records"][0].pop("campaign_id"), "records[0].campaign_id"),
    (lambda b: b["records"][0].update(visited_at="2023-10-12T09:30:00"), "records[0].visited_at"),
    (lambda b: b["records"][0].update(location={"lat": 200}), "records[0].location.lat"),
    (lambda b: b["records"][0].update(location={"lat": 1, "street": "x"}), "records[0].location.street"),
    (lambda b: b["records"][0].update(household_id=["x"]), "records[0].household_id"),
])
def test_envelope_errors_are_422_with_the_path(api, town, mutate, path) -> None:
    token = api.login("worker_a")
    body = {"batch_id": new_uuid(), "device_id": "d", "records": [record(town.households_a[0])]}
    mutate(body)
    error = error_of(post_raw(api, token, json.dumps(body)), 422)
    assert error["code"] == "invalid_request"
    assert path in error["details"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0


def test_a_top_level_array_is_422(api, town) -> None:
    error = error_of(post_raw(api, api.login("worker_a"), "[]"), 422)
    assert error["details"]["fields"] == {"$": ["expected an object"]}


def test_wrong_types_inside_data_reject_the_record_only(api, town) -> None:
    token = api.login("worker_a")
    bad = record(town.households_a[0], size="four", food_clothing_ok="yes", colour="red")
    good = record(town.households_a[1])
    results = api.push_ok(token, [bad, good])
    assert results[0]["status"] == "rejected"
    assert {"size", "food_clothing_ok", "colour"} <= set(results[0]["errors"])
    assert results[1]["status"] == "accepted"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer "}])
def test_missing_or_unknown_token_is_401(api, town, headers) -> None:
    for method, path in (("get", "/api/v1/form"), ("get", "/api/v1/sync/pull"),
                         ("post", "/api/v1/sync/push"), ("post", "/api/v1/auth/revoke")):
        response = getattr(api.client, method)(path, headers=headers, json={})
        error = error_of(response, 401)
        assert error["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_messages_follow_accept_language(api, town) -> None:
    zh = error_of(api.client.get("/api/v1/sync/pull"), 401)["message"]
    en = error_of(api.client.get("/api/v1/sync/pull", headers={"Accept-Language": "en-US,en;q=0.9"}), 401)
    assert "登录" in zh and "token" in en["message"]
    token = api.login("worker_a")
    response = api.client.get("/api/v1/sync/pull?since=zzz",
                              headers={**api.headers(token), "Accept-Language": "en"})
    assert "cursor" in error_of(response, 400)["message"]


def test_unknown_route_and_method_are_json(api, town) -> None:
    assert error_of(api.client.get("/api/v1/sync/nothing"), 404)["code"] == "not_found"
    assert error_of(api.client.get("/api/v1/sync/push"), 405)["code"] == "method_not_allowed"


def test_form_of_the_active_campaign(api, town) -> None:
    token = api.login("worker_a")
    response = api.client.get("/api/v1/form", headers=api.headers(token))
    assert response.status_code == 200
    body = response.get_json()
    assert body["campaign"]["id"] == "2023-jzpc" and body["campaign"]["form_version"] == "2023.1"
    assert body["form"]["version"] == "2023.1"
    household_fields = [f["id"] for f in body["form"]["fields"] if f["household"]]
    assert household_fields[:3] == ["head_name", "head_id", "phone"]


def test_form_without_an_active_campaign_is_404(api, town) -> None:
    token = api.login("worker_a")
    town.campaign.active = False
    db.session.commit()
    error = error_of(api.client.get("/api/v1/form", headers=api.headers(token)), 404)
    assert error["code"] == "no_active_campaign"


def test_huge_numbers_reject_the_record_not_the_server(api, town) -> None:
    token = api.login("worker_a")
    rec = record(town.households_a[0], income_wage=10**400, size=2**60)
    [result] = api.push_ok(token, [rec])
    assert result["status"] == "rejected" and set(result["errors"]) == {"income_wage", "size"}


def test_lone_surrogates_are_malformed(api, town) -> None:
    token = api.login("worker_a")
    body = '{"batch_id": "b", "device_id": "d", "records": [], "x": "\\udb39"}'
    assert error_of(post_raw(api, token, body), 400)["code"] == "malformed_json"
