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


def test_a_households_first_visit_is_measured_from_its_villages_committee(client, auth, town, runner) -> None:
    """The 村委会 position (set as an admin would, through the CLI) is the reference until the
    household has a positioned visit; its radius is LOCATION_VILLAGE_FAR_METERS (5 km)."""
    result = runner.invoke(args=["village", "locate", town.village_a.name, "--lat", "30.10000", "--lon", "114.90000"])
    assert result.exit_code == 0, result.output
    api = Api(client)
    token = api.login("worker_a")
    near = _visit(api, token, town.households_a[0], 30.13000, 114.90000)  # ~3.3 km: within 5 km
    far = _visit(api, token, town.households_a[1], 30.16000, 114.90000)  # ~6.7 km
    again = _visit(api, token, town.households_a[1], 30.16100, 114.90000)  # 111 m from its first visit
    client.post("/logout")
    auth.login("supervisor_a")
    page = client.get(f"/review/visits/{near}").get_data(as_text=True)
    assert 'data-reference="village"' in page and "距村委会位置 3.3 公里" in page and "place-far" not in page
    page = client.get(f"/review/visits/{far}").get_data(as_text=True)
    assert 'data-reference="village"' in page and "距村委会位置 6.7 公里" in page
    assert 'id="place-far"' in page and "超过 5 公里" in page
    page = client.get(f"/review/visits/{again}").get_data(as_text=True)
    assert 'data-reference="visit"' in page and "距该户上次走访位置 111 米" in page and "place-far" not in page
    assert f'href="/review/visits/{far}"' in page


def test_the_village_radius_is_a_setting_and_a_village_without_position_measures_nothing(
        client, auth, town, runner, app) -> None:
    app.config["LOCATION_VILLAGE_FAR_METERS"] = 3000
    runner.invoke(args=["village", "locate", town.village_a.name, "--lat", "30.10000", "--lon", "114.90000"])
    api = Api(client)
    token = api.login("worker_a")
    near = _visit(api, token, town.households_a[0], 30.13000, 114.90000)  # ~3.3 km: beyond 3 km
    client.post("/logout")
    token = api.login("worker_b")
    elsewhere = _visit(api, token, town.households_b[0], 30.13000, 114.90000)  # 磨山村 has no position
    client.post("/logout")
    auth.login("admin")
    page = client.get(f"/review/visits/{near}").get_data(as_text=True)
    assert 'id="place-far"' in page and "距村委会位置 3.3 公里" in page and "超过 3 公里" in page
    page = client.get(f"/review/visits/{elsewhere}").get_data(as_text=True)
    assert "走访位置：30.13000, 114.90000" in page and "place-reference" not in page
