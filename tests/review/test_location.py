"""Where the visit took place: shown on the review page, flagged when far from the household's
previous visit (FIELDAPP_LOCATION_FAR_METERS)."""

from __future__ import annotations

from typing import Any

import pytest

from sync.geo import distance_m
from tests.api.conftest import Api, record

pytestmark = pytest.mark.both_backends


def test_distance_is_the_great_circle_one() -> None:
    # one degree of latitude is about 111.2 km; 0.01° of longitude at 30°N about 963 m
    assert distance_m(30.0, 114.0, 31.0, 114.0) == pytest.approx(111_195, rel=1e-3)
    assert distance_m(30.0, 114.0, 30.0, 114.01) == pytest.approx(963, rel=1e-2)
    assert distance_m(30.1, 114.9, 30.1, 114.9) == 0


def _visit(api: Api, token: str, household: Any, lat: float, lon: float, accuracy: float = 12.0) -> str:
    rec = record(household, base_rev=None)
    rec["location"] = {"lat": lat, "lon": lon, "accuracy_m": accuracy, "at": "2023-10-12T09:30:00+08:00"}
    assert api.push_ok(token, [rec])[0]["status"] in ("accepted", "conflict")
    return str(rec["uuid"])


def test_a_visit_far_from_the_households_previous_one_is_flagged(client, auth, town) -> None:
    api = Api(client)
    token = api.login("worker_a")
    household = town.households_a[0]
    first = _visit(api, token, household, 30.10000, 114.90000)
    near = _visit(api, token, household, 30.10500, 114.90000)  # ~556 m
    far = _visit(api, token, household, 30.14000, 114.90000)  # ~3.9 km from `near`
    client.post("/logout")
    auth.login("supervisor_a")
    page = client.get(f"/review/visits/{first}").get_data(as_text=True)
    assert "走访位置：30.10000, 114.90000（精度约 12 米）" in page and "place-far" not in page
    page = client.get(f"/review/visits/{near}").get_data(as_text=True)
    assert "距该户上次走访位置 556 米" in page and "place-far" not in page
    page = client.get(f"/review/visits/{far}").get_data(as_text=True)
    assert 'id="place-far"' in page and "距该户上次走访位置 3.9 公里" in page


def test_the_far_distance_is_a_setting(client, auth, town, app) -> None:
    app.config["LOCATION_FAR_METERS"] = 300
    api = Api(client)
    token = api.login("worker_a")
    household = town.households_a[1]
    _visit(api, token, household, 30.10000, 114.90000)
    near = _visit(api, token, household, 30.10500, 114.90000)
    rec = record(town.households_a[2])
    rec["location"] = None
    api.push_ok(token, [rec])
    client.post("/logout")
    auth.login("supervisor_a")
    assert 'id="place-far"' in client.get(f"/review/visits/{near}").get_data(as_text=True)
    assert "走访位置：未记录" in client.get(f"/review/visits/{rec['uuid']}").get_data(as_text=True)
