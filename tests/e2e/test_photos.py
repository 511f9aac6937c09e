"""入户照片 and the visit's location on the phone (Chromium against a live server).

A photo is taken from a generated image file, compressed on the phone, saved offline
with the visit, and uploaded chunk by chunk once online. The connection is cut in
the middle of the upload (a chunk reaches the server but its answer never comes back);
the next sync asks the server where the upload stands and goes on from there: the
first chunks are sent once, and the server holds the photo with its checksum.
"""

from __future__ import annotations

import base64
import hashlib
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Visit, VisitPhoto
from tests.e2e.conftest import Phone
from tests.factories import SmallTown

pytestmark = pytest.mark.e2e

# A 2000×1500 "camera" picture: gradients under fine noise, so that its JPEG needs
# several 64 KiB chunks; made by the browser's canvas as a PNG file.
CAMERA_PNG = """() => {
  const c = document.createElement('canvas'); c.width = 2000; c.height = 1500;
  const g = c.getContext('2d'); const img = g.createImageData(2000, 1500); const d = img.data;
  let seed = 7; const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < d.length; i += 4) {
    const x = (i / 4) % 2000, y = Math.floor(i / 8000);
    d[i] = (x / 8 + rnd() * 60) & 255; d[i + 1] = (y / 6 + rnd() * 60) & 255; d[i + 2] = (x + y) / 14 + rnd() * 60; d[i + 3] = 255;
  }
  g.putImageData(img, 0, 0);
  return c.toDataURL('image/png').split(',')[1];
}"""


def _server(query: Any) -> Any:
    db.session.rollback()
    db.session.expire_all()
    return db.session.scalars(query).all()


def test_a_photo_taken_offline_goes_up_after_the_visit_and_resumes_after_a_cut(
    town: SmallTown, phones: Any, live_server: Any, artifacts_dir: Path,
) -> None:
    phone: Phone = phones()
    phone.context.grant_permissions(["geolocation"], origin=live_server.url)
    phone.context.set_geolocation({"latitude": 30.123456, "longitude": 114.876543, "accuracy": 15})
    phone.login()
    phone.wait_controlled()
    page = phone.page
    picture = base64.b64decode(page.evaluate(CAMERA_PNG))

    phone.offline()
    phone.open_household("王建国")
    phone.fill_visit()
    started = time.monotonic()
    page.set_input_files("#photo-input", files=[{"name": "IMG_0001.png", "mimeType": "image/png",
                                                  "buffer": picture}])
    page.wait_for_selector("#photo-list img.photo-thumb")
    compress_seconds = time.monotonic() - started
    assert page.inner_text("#photo-note").startswith("入户照片 1/3")
    page.screenshot(path=str(artifacts_dir / "worker-photo-form.png"))
    phone.save_visit()
    [saved] = phone.outbox()
    [photo] = saved["photos"]
    assert photo["type"] == "image/jpeg" and max(photo["width"], photo["height"]) == 1600
    assert 64 * 1024 * 2 < photo["size"] <= 300 * 1024, photo["size"]  # several chunks, about 200-300 KB
    assert saved["location"]["lat"] == pytest.approx(30.123456) and saved["location"]["accuracy_m"] == 15
    phone_sha = photo["sha256"]
    # The record describes the photo; its bytes are in the photos store, once.
    assert "bytes" not in photo
    assert phone.idb(f"(await db.get('photos', '{photo['id']}')).byteLength") == photo["size"]

    # The cut: the second chunk reaches the server, its answer is lost on the way back.
    seen: list[tuple[str, str | None]] = []
    cut = {"done": False}

    def chunks(route: Any) -> None:
        request = route.request
        seen.append((request.method, request.headers.get("upload-offset")))
        if request.method == "PATCH" and request.headers.get("upload-offset") != "0" and not cut["done"]:
            cut["done"] = True
            route.fetch()  # delivered and stored at the server...
            route.abort("connectionreset")  # ...but the phone never hears back
            return
        route.continue_()

    page.route("**/api/v1/photos/*", chunks)
    phone.online()
    phone.wait_until("(await db.getAll('outbox')).length === 0", 30)
    deadline = time.monotonic() + 30
    while not cut["done"] and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert cut["done"], seen
    [visit] = _server(sa.select(Visit))
    assert visit.photos_expected == 1
    assert visit.location["lat"] == pytest.approx(30.123456)
    page.evaluate("window.fieldapp.syncNow('test')")  # the retry, unless the backoff timer did it already
    phone.wait_until("(await db.getAll('visits')).every((v) => (v.photos || []).every((p) => p.status === 'done'))",
                     30)
    patches = [offset for method, offset in seen if method == "PATCH"]
    assert patches.count("0") == 1, seen  # the first chunk went once: resumed, not restarted
    assert len(patches) == len(set(patches)), seen  # no chunk twice: the stored one was not sent again
    assert ("GET", None) in seen  # it asked the server where the upload stood
    [stored] = _server(sa.select(VisitPhoto))
    assert stored.completed_at is not None and stored.sha256 == phone_sha
    on_disk = live_server.instance / "photos" / stored.storage_key
    assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == phone_sha
    assert phone.idb("await db.count('photos')") == 0  # the phone let go of the bytes

    phone.goto("/app/sync")
    assert page.inner_text("#photo-progress") == "照片已全部上传"
    print(f"\nphoto compression on the phone: {compress_seconds:.2f} s, {photo['size'] / 1024:.0f} KB")


def test_the_visit_is_saved_at_once_when_location_is_refused(town: SmallTown, phones: Any) -> None:
    phone: Phone = phones()
    phone.login()
    phone.context.clear_permissions()
    phone.offline()
    phone.open_household("刘伟")
    phone.fill_visit()
    started = time.monotonic()
    phone.save_visit()
    assert time.monotonic() - started < 5
    [saved] = phone.outbox()
    assert saved["location"] is None and saved["photos"] == []


def test_a_photo_the_server_refuses_is_kept_aside_and_the_sync_goes_on(
    app: Any, database_url: str, town: SmallTown, browser: Any, tmp_path: Path,
) -> None:
    from tests.live import LiveServer

    # A server that takes photos of at most 20 KB: the phone's ~200 KB photo is refused (413).
    server = LiveServer(database_url, tmp_path / "small-photos", extra_env={"FIELDAPP_PHOTO_MAX_BYTES": "20000"})
    server.start()
    phone = Phone(browser, server.url).open()
    try:
        phone.login()
        picture = base64.b64decode(phone.page.evaluate(CAMERA_PNG))
        phone.open_household("陈秀英")
        phone.fill_visit()
        phone.page.set_input_files("#photo-input", files=[{"name": "a.png", "mimeType": "image/png",
                                                            "buffer": picture}])
        phone.page.wait_for_selector("#photo-list img.photo-thumb")
        phone.save_visit()
        phone.wait_until("(await db.getAll('visits')).some((v) => (v.photos || []).some((p) => p.status === 'failed'))")
        phone.goto("/app/sync")
        assert "1 张照片服务器不接收：照片过大" in phone.page.inner_text("#photo-failed")
        assert phone.idb("await db.getMeta('last_sync_error')") is None  # the sync itself went through
        [visit] = _server(sa.select(Visit))
        assert visit.photos_expected == 1
    finally:
        phone.close()
        server.stop()
