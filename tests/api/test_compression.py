"""gzip: responses over 1 KiB compressed when the client accepts it (API and pages, over real
HTTP), request bodies a phone sends gzipped accepted within the same byte limit, bombs refused."""

from __future__ import annotations

import gzip
import http.client
import json
import tracemalloc
import zlib
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.api.conftest import Api, new_uuid, record


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP GET that decodes nothing (``requests`` would undo the gzip)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""),
                           headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def _token(url: str) -> str:
    import requests

    response = requests.post(f"{url}/api/v1/auth/token", timeout=30, json={
        "username": "admin", "password": factories.PASSWORD, "device_id": "gzip-test"})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


@pytest.mark.both_backends
def test_a_pull_page_is_gzipped_when_the_phone_accepts_it(live_server, town) -> None:
    token = _token(live_server.url)
    url = f"{live_server.url}/api/v1/sync/pull?limit=2000"
    auth = {"Authorization": f"Bearer {token}"}
    status, plain_headers, plain = _get(url, auth)
    assert status == 200 and "content-encoding" not in plain_headers
    assert len(plain) > 1024
    assert "Accept-Encoding" in plain_headers["vary"]
    status, headers, body = _get(url, {**auth, "Accept-Encoding": "gzip, deflate, br"})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in headers["vary"]
    assert int(headers["content-length"]) == len(body) < len(plain) / 2
    assert json.loads(gzip.decompress(body)) == json.loads(plain)
    # q=0 refuses gzip
    _status, refused, _body = _get(url, {**auth, "Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused


def test_pages_static_files_and_small_answers(live_server, town) -> None:
    status, headers, body = _get(f"{live_server.url}/login", {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert "用户名".encode() in gzip.decompress(body)
    # below 1 KiB: sent as it is
    _status, small, body = _get(f"{live_server.url}/healthz", {"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small and json.loads(body) == {"status": "ok"}
    # a static file: compressed with a weak ETag that still answers 304
    css = f"{live_server.url}/static/css/app.css"
    _status, plain_headers, plain = _get(css)
    status, headers, body = _get(css, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["content-encoding"] == "gzip" and gzip.decompress(body) == plain
    assert headers["etag"] == "W/" + plain_headers["etag"]
    status, _headers, empty = _get(css, {"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
    assert status == 304 and empty == b""
    # a range request is answered from the file as it is (byte offsets of the identity body)
    status, ranged, part = _get(css, {"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert status == 206 and "content-encoding" not in ranged and part == plain[:10]
    # the service worker script and the manifest still come through whole
    status, headers, body = _get(f"{live_server.url}/app/sw.js", {"Accept-Encoding": "gzip"})
    assert status == 200 and b"fieldapp-static-" in (gzip.decompress(body) if headers.get(
        "content-encoding") == "gzip" else body)


def test_downloads_stay_downloads(client, auth, town) -> None:
    """An XLSX (already a zip) is not compressed again; a CSV is, and decodes to the same bytes."""
    auth.login("admin")
    xlsx = client.get("/reports/export/progress.xlsx", headers={"Accept-Encoding": "gzip"})
    assert xlsx.status_code == 200 and "Content-Encoding" not in xlsx.headers
    assert xlsx.data[:2] == b"PK" and "attachment" in xlsx.headers["Content-Disposition"]
    plain = client.get("/reports/export/progress.csv")
    packed = client.get("/reports/export/progress.csv", headers={"Accept-Encoding": "gzip"})
    if len(plain.data) > 1024:
        assert packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.data) == plain.data
    else:
        assert packed.data == plain.data


def _push_gzipped(client: Any, token: str, body: bytes, encoding: str = "gzip") -> Any:
    return client.post("/api/v1/sync/push", data=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": encoding})


@pytest.mark.both_backends
def test_a_phone_may_send_its_push_gzipped(client, town) -> None:
    api = Api(client)
    token = api.login("worker_a")
    records = [record(h) for h in town.households_a]
    body = json.dumps({"batch_id": new_uuid(), "device_id": "device-1", "records": records}).encode()
    response = _push_gzipped(client, token, gzip.compress(body))
    assert response.status_code == 200, response.get_json()
    assert [r["status"] for r in response.get_json()["results"]] == ["accepted"] * 3


def test_a_gzip_bomb_answers_413_without_eating_memory(app, client, town) -> None:
    """200 MiB of JSON whitespace in 200 KB: refused at the 5 MiB push limit, decompressing
    no more than that."""
    token = Api(client).login("worker_a")
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b" " * (1024 * 1024)
    bomb = b"".join([packer.compress(b'{"records": [')] + [packer.compress(chunk) for _ in range(200)]
                    + [packer.compress(b"]}"), packer.flush()])
    assert len(bomb) < 1024 * 1024
    tracemalloc.start()
    try:
        response = _push_gzipped(client, token, bomb)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and error["details"]["max_bytes"] == app.config["PUSH_MAX_BYTES"]
    assert peak < 40 * 1024 * 1024, peak


def test_other_encodings_and_broken_gzip_are_refused(client, town) -> None:
    token = Api(client).login("worker_a")
    body = json.dumps({"batch_id": new_uuid(), "device_id": "device-1", "records": []}).encode()
    unsupported = _push_gzipped(client, token, body, encoding="br")
    assert unsupported.status_code == 415
    assert unsupported.get_json()["error"]["code"] == "unsupported_media_type"
    broken = _push_gzipped(client, token, gzip.compress(body)[:-12])
    assert broken.status_code == 400 and broken.get_json()["error"]["code"] == "malformed_json"
    not_gzip = _push_gzipped(client, token, body)
    assert not_gzip.status_code == 400 and not_gzip.get_json()["error"]["code"] == "malformed_json"
