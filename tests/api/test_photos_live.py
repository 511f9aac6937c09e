"""A photo upload against a real ``fieldapp serve`` (gunicorn), the connection cut in the
middle of a chunk: the server keeps what it acknowledged and the upload resumes there."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Any

import requests

from tests.api.conftest import record
from tests.api.test_photos import OCTETS, describe, jpeg


def _cut_chunk(url: str, path: str, token: str, offset: int, chunk: bytes, sent: int) -> None:
    """Send a chunk's headers and only ``sent`` of its bytes, then close the socket."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = (f"PATCH {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: {OCTETS}\r\nUpload-Offset: {offset}\r\nContent-Length: {len(chunk)}\r\n\r\n")
        sock.sendall(head.encode() + chunk[:sent])
        sock.shutdown(socket.SHUT_WR)
        sock.recv(4096)  # whatever the server says (or nothing) before it drops the connection


def test_an_upload_cut_mid_chunk_resumes_from_the_last_acknowledged_byte(live_server: Any, town: Any,
                                                                       tmp_path: Path) -> None:
    base = f"{live_server.url}/api/v1"
    token = requests.post(f"{base}/auth/token", json={"username": "worker_a", "password": "pass-word-123",
                                                      "device_id": "live-phone"}, timeout=10).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    visit = record(town.households_a[0])
    visit["photos"] = 1
    pushed = requests.post(f"{base}/sync/push", json={"batch_id": "live-photo", "device_id": "live-phone",
                                                      "records": [visit]}, headers=auth, timeout=20)
    assert pushed.status_code == 200 and pushed.json()["results"][0]["status"] == "accepted"
    data = jpeg(250_000, 7)
    created = requests.post(f"{base}/visits/{visit['uuid']}/photos", json=describe(data), headers=auth, timeout=10)
    assert created.status_code == 201
    upload = created.json()["upload_url"]
    first = requests.patch(f"{live_server.url}{upload}", data=data[:100_000], timeout=10,
                           headers={**auth, "Content-Type": OCTETS, "Upload-Offset": "0"})
    assert first.status_code == 200 and first.headers["Upload-Offset"] == "100000"

    _cut_chunk(live_server.url, upload, token, 100_000, data[100_000:200_000], sent=40_000)
    head = requests.head(f"{live_server.url}{upload}", headers=auth, timeout=10)
    assert head.status_code == 200 and head.headers["Upload-Offset"] == "100000"  # the cut chunk is dropped whole

    rest = requests.patch(f"{live_server.url}{upload}", data=data[100_000:], timeout=10,
                          headers={**auth, "Content-Type": OCTETS, "Upload-Offset": head.headers["Upload-Offset"]})
    assert rest.status_code == 200, rest.text
    assert rest.json()["complete"] is True and rest.json()["offset"] == len(data)
    stored = live_server.instance / "photos" / visit["uuid"] / created.json()["id"]
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()


def test_two_requests_for_the_same_chunk_at_once_write_it_once(live_server: Any, town: Any) -> None:
    """A phone retrying while its first request is still being read: the file's lock lets one
    write, the other is told the new offset (two gunicorn workers, several threads)."""
    from concurrent.futures import ThreadPoolExecutor

    base = f"{live_server.url}/api/v1"
    token = requests.post(f"{base}/auth/token", json={"username": "worker_a", "password": "pass-word-123",
                                                      "device_id": "race-phone"}, timeout=10).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    visit = record(town.households_a[1])
    visit["photos"] = 1
    assert requests.post(f"{base}/sync/push", json={"batch_id": "race", "device_id": "race-phone",
                                                    "records": [visit]}, headers=auth, timeout=20).status_code == 200
    data = jpeg(600_000, 9)
    created = requests.post(f"{base}/visits/{visit['uuid']}/photos", json=describe(data), headers=auth, timeout=10)
    upload = f"{live_server.url}{created.json()['upload_url']}"

    def send(_: int) -> requests.Response:
        return requests.patch(upload, data=data[:500_000], timeout=20,
                              headers={**auth, "Content-Type": OCTETS, "Upload-Offset": "0"})

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(send, range(4)))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409], [a.text for a in answers]
    assert all(a.headers.get("Upload-Offset") == "500000" or a.json()["error"]["details"]["offset"] == 500_000
               for a in answers)
    stored = live_server.instance / "photos" / visit["uuid"] / created.json()["id"]
    assert stored.read_bytes() == data[:500_000]
