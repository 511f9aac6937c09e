"""Photos go up to central after their visit, each with its bytes, checked and idempotent."""

from __future__ import annotations

import hashlib
import os

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import VisitPhoto
from tests.api.test_photos import OCTETS, describe, jpeg
from tests.replication.conftest import County, count_rows, push, visit_record

pytestmark = pytest.mark.both_backends


def _upload(county: County, visit_uuid: str, data: bytes, *, finish: bool = True) -> str:
    town = county.towns[0]
    assert town.api is not None
    token = town.api.tokens["baoan_w0"]
    headers = town.api.headers(token)
    created = town.api.client.post(f"/api/v1/visits/{visit_uuid}/photos", json=describe(data), headers=headers)
    assert created.status_code == 201, created.get_json()
    photo_id = str(created.get_json()["id"])
    end = len(data) if finish else len(data) // 2
    answer = town.api.client.patch(f"/api/v1/photos/{photo_id}", data=data[:end],
                                   headers={**headers, "Content-Type": OCTETS, "Upload-Offset": "0"})
    assert answer.status_code == 200, answer.get_json()
    return photo_id


def test_a_complete_photo_goes_up_after_its_visit_once(county: County) -> None:
    baoan = county.towns[0]
    record = visit_record(baoan, baoan.households[0])
    record["photos"] = 2
    push(baoan, "baoan_w0", [record])
    photo = jpeg(120_000, 31)
    photo_id = _upload(county, record["uuid"], photo)
    _upload(county, record["uuid"], jpeg(90_000, 32), finish=False)  # half way: not sent
    reports = county.round()
    assert reports[0].up["visits"] == 1 and reports[0].up["photos"] == 1
    with county.central.app_context():
        stored = db.session.get(VisitPhoto, photo_id)
        assert stored is not None and stored.completed_at is not None
        path = os.path.join(county.central.instance_path, "photos", stored.storage_key)
        assert hashlib.sha256(open(path, "rb").read()).hexdigest() == hashlib.sha256(photo).hexdigest()
        worker = db.session.scalar(sa.text("SELECT username FROM users WHERE id = :id"), {"id": stored.worker_id})
        assert worker == "baoan_w0@baoan"
        db.session.remove()
    assert count_rows(county.central, VisitPhoto) == 1
    again = baoan.replicate(county.central)
    assert again.ok and again.up == {}


def test_a_photo_page_whose_answer_is_lost_is_applied_once(county: County) -> None:
    baoan = county.towns[0]
    record = visit_record(baoan, baoan.households[2])
    record["photos"] = 1
    push(baoan, "baoan_w0", [record])
    photo_id = _upload(county, record["uuid"], jpeg(50_000, 40))
    lost = baoan.replicate(county.central, fail=lambda method, path: "after" if method == "POST" else None)
    assert not lost.ok
    county.round()
    assert count_rows(county.central, VisitPhoto, VisitPhoto.id == photo_id) == 1
