"""The app shell as the server serves it: service worker, manifest, icons, budget."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

from fieldapp.worker.shell import SCREENS, shell_size
from tests.conftest import make_test_app

STATIC = Path(__file__).resolve().parents[2] / "static"


def _precache(body: str) -> list[str]:
    match = re.search(r"const PRECACHE = (\[.*?\]);", body)
    assert match, body[:500]
    return json.loads(match.group(1))


def test_service_worker_is_versioned_uncached_and_scoped_to_the_app(client: Any) -> None:
    response = client.get("/app/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    version = re.search(r"const VERSION = '([0-9a-f]{12})'", body).group(1)
    assert "`fieldapp-static-${VERSION}`" in body
    assert "name.startsWith('fieldapp-') && !EXPECTED_CACHES.has(name)" in body
    page = client.get("/app/").get_data(as_text=True)
    assert f'data-version="{version}"' in page


def test_every_precached_url_is_served_without_a_session(client: Any) -> None:
    urls = _precache(client.get("/app/sw.js").get_data(as_text=True))
    assert urls[0] == "/app/"
    assert {"/static/js/app.js", "/static/js/db.js", "/static/js/expr.js", "/static/css/worker.css",
            "/static/vendor/idb-8.0.0/idb.js", "/app/manifest.webmanifest"} <= set(urls)
    for url in urls:
        assert client.get(url).status_code == 200, url
    for screen in SCREENS:
        path = "/app/" if screen == "households" else f"/app/{screen}"
        assert client.get(path).status_code == 200


def test_every_module_the_app_imports_is_precached(client: Any) -> None:
    urls = set(_precache(client.get("/app/sw.js").get_data(as_text=True)))
    for module in (STATIC / "js").rglob("*.js"):
        source = module.read_text(encoding="utf-8")
        for target in re.findall(r"^import .*? from '(\.[^']+)';", source, flags=re.M):
            url = "/static/" + str((module.parent / target).resolve().relative_to(STATIC))
            assert url in urls, f"{module.name} imports {target}, which is not precached"


def test_a_release_label_gives_a_new_version(tmp_path: Path, database_url: str) -> None:
    versions = []
    for release in ("", "next"):
        app = make_test_app(database_url, tmp_path / f"i{release}", PWA_RELEASE=release)
        body = app.test_client().get("/app/sw.js").get_data(as_text=True)
        versions.append(re.search(r"const VERSION = '(\w+)'", body).group(1))
    assert versions[0] != versions[1]


def test_manifest_is_installable(client: Any) -> None:
    response = client.get("/app/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = response.get_json(force=True)
    assert manifest["name"] == "排查通" and manifest["lang"] == "zh-CN"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/app/"
    assert manifest["theme_color"].startswith("#")
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "maskable"), ("512x512", "maskable"), ("192x192", "any"), ("512x512", "any")} <= sizes
    for icon in manifest["icons"]:
        png = client.get(icon["src"]).data
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", png[16:24])
        assert f"{width}x{height}" == icon["sizes"]


def test_shell_fits_the_budget(app: Any) -> None:
    with app.app_context():
        size, files = shell_size()
    # 150 KB until issue 19: the members repeat of form 2024.1 (js/ui/members.js, the
    # repeat in form.js and expr.js) adds about 17 KB, photos and location (photos.js,
    # location.js, the upload in sync.js) about 8 KB. The shell travels gzip-compressed
    # (about a third of this) and is downloaded once per release.
    assert size < 172 * 1024, f"shell is {size} bytes"
    assert files >= 20


def test_vendored_idb_is_pinned_with_its_licence() -> None:
    vendor = STATIC / "vendor" / "idb-8.0.0"
    assert (vendor / "LICENSE").read_text(encoding="utf-8").startswith("ISC License")
    assert "export { deleteDB, openDB, unwrap, wrap }" in (vendor / "idb.js").read_text(encoding="utf-8")
