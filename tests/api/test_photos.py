"""Photo uploads (docs/sync-protocol.md#photos): chunked, resumable, checksummed, scoped."""

from __future__ import annotations

import hashlib
import os
from typing import Any

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import AuditLog, Visit, VisitPhoto
from tests.api.conftest import Api, record

pytestmark = pytest.mark.both_backends

OCTETS = "application/offset+octet-stream"


def jpeg(size: int = 150_000, seed: int = 1) -> bytes:
    """Bytes that start like a JPEG (the server checks the signature, not the picture)."""
    body = hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1)
    return (b"\xff\xd8\xff\xe0" + body)[:size]


def describe(data: bytes, kind: str = "image/jpeg") -> dict[str, Any]:
    return {"length": len(data), "sha256": hashlib.sha256(data).hexdigest(), "content_type": kind}


class Uploader:
    def __init__(self, api: Api, token: str) -> None:
        self.api, self.token = api, token

    def create(self, visit_uuid: str, body: Any) -> Any:
        return self.api.client.post(f"/api/v1/visits/{visit_uuid}/photos", json=body,
                                    headers=self.api.headers(self.token))

    def chunk(self, photo_id: str, offset: int, data: bytes, method: str = "PATCH",
              content_type: str = OCTETS) -> Any:
        headers = {**self.api.headers(self.token), "Upload-Offset": str(offset), "Content-Type": content_type}
        return self.api.client.open(f"/api/v1/photos/{photo_id}", method=method, data=data, headers=headers)

    def head(self, photo_id: str) -> Any:
        return self.api.client.head(f"/api/v1/photos/{photo_id}", headers=self.api.headers(self.token))


@pytest.fixture
def pushed(api: Api, town: Any) -> tuple[Uploader, str]:
    token = api.login("worker_a")
    visit = record(town.households_a[0])
    visit["photos"] = 2
    assert api.push_ok(token, [visit])[0]["status"] == "accepted"
    return Uploader(api, token), visit["uuid"]


def _stored(photo_id: str) -> VisitPhoto:
    db.session.rollback()
    photo = db.session.get(VisitPhoto, photo_id)
    assert photo is not None
    return photo


def test_a_photo_goes_up_in_chunks_and_resumes_from_the_servers_offset(pushed, app) -> None:
    up, visit_uuid = pushed
    data = jpeg()
    created = up.create(visit_uuid, describe(data))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    photo_id = body["id"]
    assert body["offset"] == 0 and body["complete"] is False
    assert created.headers["Location"].endswith(f"/api/v1/photos/{photo_id}")

    first = up.chunk(photo_id, 0, data[:64_000])
    assert first.status_code == 200 and first.get_json()["offset"] == 64_000
    assert first.headers["Upload-Offset"] == "64000"
    # The connection drops during the second chunk: the phone never learns whether it
    # arrived. It asks where the upload stands and resumes from there, not from zero.
    head = up.head(photo_id)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "64000"
    assert up.api.client.get(f"/api/v1/photos/{photo_id}",
                             headers=up.api.headers(up.token)).get_json()["offset"] == 64_000
    # Sending the first chunk again is refused with the server's offset.
    again = up.chunk(photo_id, 0, data[:64_000])
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "offset_mismatch"
    assert again.get_json()["error"]["details"]["offset"] == 64_000
    # POST works as PATCH (clients and proxies without PATCH).
    second = up.chunk(photo_id, 64_000, data[64_000:128_000], method="POST")
    assert second.get_json()["offset"] == 128_000
    last = up.chunk(photo_id, 128_000, data[128_000:])
    assert last.status_code == 200, last.get_json()
    assert last.get_json() | {"upload_url": None} == {
        "id": photo_id, "visit_uuid": visit_uuid, "content_type": "image/jpeg", "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(), "offset": len(data), "complete": True, "upload_url": None}

    photo = _stored(photo_id)
    assert photo.completed_at is not None
    path = os.path.join(app.instance_path, "photos", photo.storage_key)
    assert open(path, "rb").read() == data
    entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "photo_upload"))
    assert entry is not None and entry.object_id == visit_uuid and entry.details["photo_id"] == photo_id
    # Creating it again (an answer lost) finds the same, complete upload.
    found = up.create(visit_uuid, describe(data))
    assert found.status_code == 200 and found.get_json()["id"] == photo_id and found.get_json()["complete"]
    # A complete photo acknowledges an empty chunk at its end (a retried last chunk's check).
    assert up.chunk(photo_id, len(data), b"").status_code == 200


def test_a_checksum_mismatch_drops_the_bytes_and_the_upload_starts_over(pushed) -> None:
    up, visit_uuid = pushed
    data = jpeg(40_000)
    photo_id = up.create(visit_uuid, describe(data)).get_json()["id"]
    damaged = data[:-1] + bytes([data[-1] ^ 0xFF])
    refused = up.chunk(photo_id, 0, damaged)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "checksum_mismatch" and error["details"]["offset"] == 0
    assert up.head(photo_id).headers["Upload-Offset"] == "0"
    assert _stored(photo_id).completed_at is None
    assert up.chunk(photo_id, 0, data).get_json()["complete"] is True


def test_what_is_not_a_photo_of_the_workers_own_visit_is_refused(pushed, api, town) -> None:
    up, visit_uuid = pushed
    data = jpeg(1000)
    assert up.create(visit_uuid, describe(data, "image/gif")).get_json()["error"]["code"] == "unsupported_photo_type"
    too_big = up.create(visit_uuid, {**describe(data), "length": 6 * 1024 * 1024})
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "too_large"
    bad = up.create(visit_uuid, {"length": "1", "sha256": "X", "content_type": "image/jpeg", "extra": 1})
    assert bad.status_code == 422 and set(bad.get_json()["error"]["details"]["fields"]) == {
        "length", "sha256", "extra"}
    # PNG bytes declared as a JPEG: not an image of its type, dropped.
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    photo_id = up.create(visit_uuid, describe(png)).get_json()["id"]
    assert up.chunk(photo_id, 0, png).get_json()["error"]["code"] == "unsupported_photo_type"
    assert up.chunk(photo_id, 0, png, content_type="image/png").status_code == 415
    assert up.chunk(photo_id, 0, png + b"x").get_json()["error"]["code"] == "too_large"
    # up to PHOTOS_PER_VISIT (3) per visit; the failed one above counts
    for seed in (2, 3):
        assert up.create(visit_uuid, describe(jpeg(1000, seed))).status_code == 201
    full = up.create(visit_uuid, describe(jpeg(1000, 4)))
    assert full.status_code == 409 and full.get_json()["error"]["details"] == {"max_photos": 3}

    # Another worker's visit, an unknown one, another worker's upload: not found.
    other = api.login("worker_b", device_id="device-b")
    theirs = Uploader(api, other)
    assert theirs.create(visit_uuid, describe(data)).status_code == 404
    assert theirs.create("00000000-0000-4000-8000-000000000000", describe(data)).status_code == 404
    assert theirs.head(photo_id).status_code == 404
    assert theirs.chunk(photo_id, 0, png).status_code == 404
    # A supervisor of the village does not upload.
    supervisor = Uploader(api, api.login("supervisor_a", device_id="device-s"))
    assert supervisor.create(visit_uuid, describe(data)).status_code == 403


def test_the_visit_is_complete_at_the_server_once_its_photos_are(pushed, client, auth) -> None:
    up, visit_uuid = pushed
    first, second = jpeg(5000, 10), jpeg(7000, 11)
    one = up.create(visit_uuid, describe(first)).get_json()["id"]
    up.chunk(one, 0, first)
    auth.login("supervisor_a")
    page = client.get(f"/review/visits/{visit_uuid}").get_data(as_text=True)
    assert "照片上传中 1/2" in page
    batch_id = db.session.get(Visit, visit_uuid).batch_id
    assert "照片上传中 1/2" in client.get(f"/review/batches/{batch_id}").get_data(as_text=True)
    two = up.create(visit_uuid, describe(second)).get_json()["id"]
    up.chunk(two, 0, second)
    page = client.get(f"/review/visits/{visit_uuid}").get_data(as_text=True)
    assert "照片上传中" not in page and "照片 2/2" in page
    assert "照片 2/2" in client.get(f"/review/batches/{batch_id}").get_data(as_text=True)
    image = client.get(f"/review/visits/{visit_uuid}/photos/{one}")
    assert image.status_code == 200 and image.data == first and image.mimetype == "image/jpeg"
    assert image.headers["Cache-Control"] == "no-store"
    db.session.rollback()
    assert db.session.scalar(sa.select(Visit.photos_expected).where(Visit.uuid == visit_uuid)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                             .where(AuditLog.action == "photo_view")) == 1
    auth.logout()
    auth.login("supervisor_b")  # another village: not found
    assert client.get(f"/review/visits/{visit_uuid}/photos/{one}").status_code == 404


def test_a_push_without_photos_stays_as_it_was(api, town) -> None:
    token = api.login("worker_a")
    visit = record(town.households_a[1])
    assert api.push_ok(token, [visit])[0]["status"] == "accepted"
    db.session.rollback()
    assert db.session.get(Visit, visit["uuid"]).photos_expected is None
    bad = record(town.households_a[2])
    bad["photos"] = -1
    response = api.push(token, [bad])
    assert response.status_code == 422 and "records[0].photos" in response.get_json()["error"]["details"]["fields"]


def test_photos_count_in_the_admins_disk_usage_and_go_with_a_purge(pushed, client, auth, runner, app) -> None:
    up, visit_uuid = pushed
    data = jpeg(300_000, 20)
    photo_id = up.create(visit_uuid, describe(data)).get_json()["id"]
    up.chunk(photo_id, 0, data[:200_000])
    up.chunk(photo_id, 200_000, data[200_000:])
    auth.login("admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert '<dd data-key="photos">0.3 MB（1 个文件）</dd>' in page
    path = os.path.join(app.instance_path, "photos", _stored(photo_id).storage_key)
    assert os.path.exists(path)
    result = runner.invoke(args=["purge", "--campaign", "2023-jzpc", "--before", "2099-01-01", "--yes"])
    assert result.exit_code == 0, result.output
    assert "visit_photos" in result.output
    db.session.rollback()
    assert db.session.get(VisitPhoto, photo_id) is None
    assert not os.path.exists(path)
