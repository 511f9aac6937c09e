"""Benchmark of 入户照片 on the phone (headless Chromium, 360×640): compressing camera
pictures, saving a visit with 3 photos offline, and uploading the 3 photos over
Chromium's "Regular 3G" network emulation with one forced cut in the middle.

The camera pictures are made by the browser: 4000×3000 JPEGs (quality 0.92) of
gradients, shapes and sensor-like noise, about the size a phone's camera writes.
The cut lets one chunk reach the server and drops its answer; the upload must go on
from the server's offset (chunks are counted: none is sent twice).

Run: ``python bench/photos.py``. It builds a throwaway SQLite database, starts
``fieldapp serve`` on a free port, and stops it at the end.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pwa import VISIT_ANSWERS_JS, print_table, seed  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.factories import PASSWORD  # noqa: E402
from tests.live import LiveServer  # noqa: E402

# Chrome DevTools' "Regular 3G": 750 kb/s down, 250 kb/s up, 100 ms latency.
REGULAR_3G = {"offline": False, "latency": 100, "downloadThroughput": 750 * 1024 / 8,
              "uploadThroughput": 250 * 1024 / 8}

CAMERA = """async (seed) => {
  const c = document.createElement('canvas'); c.width = 4000; c.height = 3000;
  const g = c.getContext('2d');
  const grad = g.createLinearGradient(0, 0, 4000, 3000);
  grad.addColorStop(0, `hsl(${seed * 70}, 40%, 60%)`); grad.addColorStop(1, `hsl(${seed * 70 + 120}, 50%, 35%)`);
  g.fillStyle = grad; g.fillRect(0, 0, 4000, 3000);
  let s = seed * 7919; const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < 400; i += 1) {
    g.fillStyle = `hsla(${rnd() * 360}, 50%, ${30 + rnd() * 50}%, 0.6)`;
    g.fillRect(rnd() * 4000, rnd() * 3000, rnd() * 600, rnd() * 400);
  }
  const img = g.getImageData(0, 0, 4000, 3000); const d = img.data;
  for (let i = 0; i < d.length; i += 4) { const n = (rnd() - 0.5) * 24; d[i] += n; d[i + 1] += n; d[i + 2] += n; }
  g.putImageData(img, 0, 0);
  const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.92));
  window.__camera = window.__camera || [];
  window.__camera.push(new File([blob], `IMG_${seed}.jpg`, {type: 'image/jpeg'}));
  return blob.size;
}"""


def run() -> list[tuple[str, str, str, str]]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed(database_url, instance, 20)
        server = LiveServer(database_url, instance).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
                rows = measure(context, server.url)
                browser.close()
        finally:
            server.stop()
    return rows


def measure(context: Any, base: str) -> list[tuple[str, str, str, str]]:
    page = context.new_page()
    page.goto(f"{base}/app/login")
    page.wait_for_selector("#app[data-ready=true]")
    page.fill("#login-username", "worker_a")
    page.fill("#login-password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector("#hh-counts")
    page.wait_for_function("async () => !(await import('/static/js/sync.js')).isRunning()")
    camera = [page.evaluate(CAMERA, n) for n in (1, 2, 3)]

    compressed = page.evaluate("""async () => {
      const photos = await import('/static/js/photos.js');
      const out = [];
      for (const file of window.__camera) {
        const t0 = performance.now();
        const p = await photos.compress(file);
        out.push({ms: performance.now() - t0, size: p.size, width: p.width, height: p.height});
        (window.__photos = window.__photos || []).push(p);
      }
      return out;
    }""")
    # A visit with the 3 photos, saved offline (timed until the transaction completes).
    save_ms = page.evaluate("""async () => {
      const answers = """ + VISIT_ANSWERS_JS + """;
      const outbox = await import('/static/js/outbox.js');
      const db = await import('/static/js/db.js');
      const doc = await db.getMeta('form');
      const h = (await db.getAll('households'))[0];
      const draft = {uuid: outbox.newUuid(), owner: 'worker_a', household_key: h.id, household_id: h.id,
        base_rev: h.rev, started_at: outbox.isoNow(), label: h.head_name, photos: window.__photos};
      const data = answers(h);
      const t0 = performance.now();
      await outbox.saveVisit(draft, data, {campaignId: doc.campaign.id, formVersion: doc.form.version});
      return performance.now() - t0;
    }""")

    # Upload over Regular 3G, the answer to the 4th chunk lost on the way back.
    sent: list[tuple[str, str, int]] = []
    cut = {"done": False}

    def chunks(route: Any) -> None:
        request = route.request
        if request.method == "PATCH":
            sent.append((request.url, request.headers.get("upload-offset", ""), len(request.post_data_buffer or b"")))
            if len(sent) == 4 and not cut["done"]:
                cut["done"] = True
                route.fetch()
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/api/v1/photos/*", chunks)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", REGULAR_3G)
    started = time.monotonic()
    page.evaluate("window.fieldapp.syncNow('bench')")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = page.evaluate("""async () => (await (await import('/static/js/db.js')).getAll('visits'))
          .every((v) => (v.photos || []).every((p) => p.status === 'done'))
          && (await (await import('/static/js/db.js')).getAll('outbox')).length === 0""")
        if done and cut["done"]:
            break
        if cut["done"] and not page.evaluate("(async () => (await import('/static/js/sync.js')).isRunning())()"):
            page.evaluate("window.fieldapp.syncNow('retry')")  # the backoff timer, sooner
        page.wait_for_timeout(200)
    else:
        raise AssertionError("upload did not finish")
    upload_s = time.monotonic() - started
    total = sum(p["size"] for p in compressed)
    chunk_bytes = sum(n for _, _, n in sent)
    offsets_ok = len({(url, offset) for url, offset, _ in sent}) == len(sent)

    times = [c["ms"] for c in compressed]
    sizes = ", ".join(f"{c['size'] / 1024:.0f} KB" for c in compressed)
    return [
        ("camera pictures (4000×3000 JPEG)", ", ".join(f"{n / 1024 / 1024:.1f} MB" for n in camera), "", ""),
        ("compress a photo on the phone", f"median {statistics.median(times):.0f} ms, max {max(times):.0f} ms",
         "< 1500 ms each", "ok" if max(times) < 1500 else "OVER"),
        ("compressed photo", f"{sizes} ({compressed[0]['width']}×{compressed[0]['height']})",
         "≈ 200–300 KB", "ok" if all(150 * 1024 < c["size"] <= 300 * 1024 for c in compressed) else "CHECK"),
        ("save a visit with 3 photos offline", f"{save_ms:.0f} ms", "< 100 ms",
         "ok" if save_ms < 100 else "OVER"),
        ("upload 3 photos, Regular 3G, one cut", f"{upload_s:.1f} s, {len(sent)} chunks, "
         f"{chunk_bytes / 1024:.0f} KB sent for {total / 1024:.0f} KB",
         "no restart from zero", "ok" if offsets_ok and chunk_bytes == total else "RESENT"),
    ]


def main() -> None:
    print_table(run())


if __name__ == "__main__":
    main()
