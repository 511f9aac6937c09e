"""Benchmark of the worker's PWA in headless Chromium (Debian build).

Measures: the app shell's size (bytes and requests of a first load, icons
excluded, against the 150 KB budget), the time to pull and store 2,000
households into IndexedDB (< 3 s), to open the form of a household
(< 200 ms), and to save a visit to the outbox offline (< 50 ms; durability
'strict', timed until the transaction completes).

Run: ``python bench/pwa.py [--households 2000] [--repeat 15]``. It builds a
throwaway SQLite database, starts ``fieldapp serve`` on a free port, and
stops it at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fieldapp import create_app  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.factories import (  # noqa: E402
    PASSWORD,
    make_campaign,
    make_household,
    make_town,
    make_user,
    make_village,
)
from tests.live import LiveServer  # noqa: E402

NAMES = "王建国 刘伟 陈秀英 柯友明 尹桂兰 张明华 李春生 赵大强 孙小红 周国平".split()


# A valid 2023.1 visit to household ``h`` (a JS arrow function the page scripts call as
# ``answers(h)``): the same answers for every save the benchmarks time.
VISIT_ANSWERS_JS = """(h) => ({head_name: h.head_name, head_id: h.head_id, phone: h.phone, group: h.group,
  hamlet: h.hamlet, size: h.size, labor_count: h.labor_count, category: h.category, monitor_type: h.monitor_type,
  risk_eliminated: null, food_clothing_ok: true, housing_unsafe: false, school_dropout: false,
  medical_uninsured: false, serious_illness: false, water_unsafe: false, income_wage: 36000,
  income_business: 8000, business_cost: 2000, income_property: 500, income_transfer: 1500,
  conclusion: 'no_risk', visit_method: 'phone', visited_on: '2023-10-12', respondent: h.head_name,
  respondent_relation: 'self'})"""


def seed(database_url: str, instance: Path, households: int) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": database_url,
                      "INSTANCE_PATH": str(instance)})
    with app.app_context():
        db.create_all()
        town = make_town()
        villages = [make_village(town, name) for name in ("沼山村", "磨山村")]
        make_campaign()
        make_user("worker_a", "worker", villages, display_name="张网格")
        for n in range(households):
            make_household(villages[n % 2], NAMES[n % len(NAMES)], group=f"{n % 9 + 1}组",
                           category="lifted" if n % 20 == 0 else "general")
        db.session.commit()
        db.engine.dispose()


def run(households: int, repeat: int) -> list[tuple[str, str, str, str]]:
    from playwright.sync_api import sync_playwright

    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed(database_url, instance, households)
        server = LiveServer(database_url, instance).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
                rows += measure(context, server.url, households, repeat)
                browser.close()
        finally:
            server.stop()
    return rows


def measure(context: Any, base: str, households: int, repeat: int) -> list[tuple[str, str, str, str]]:
    page = context.new_page()
    loaded: list[tuple[str, int]] = []

    def on_response(response: Any) -> None:
        if response.request.resource_type in {"document", "script", "stylesheet", "manifest", "image", "fetch"} \
                and "/api/" not in response.url and response.url.startswith(base):
            try:
                loaded.append((response.url, len(response.body())))
            except Exception:  # a redirect has no body
                loaded.append((response.url, 0))

    page.on("response", on_response)
    page.goto(f"{base}/app/login")
    page.wait_for_selector("#app[data-ready=true]")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
    page.wait_for_timeout(300)
    shell = [(u, n) for u, n in loaded if "/icons/" not in u]
    shell_bytes = sum(n for _, n in shell)
    sw_bytes = len(page.evaluate("fetch('/app/sw.js').then(r => r.text())").encode())
    precache = page.evaluate("""async () => {
      const cache = await caches.open((await caches.keys())[0]);
      let total = 0, count = 0, icons = 0;
      for (const request of await cache.keys()) {
        const size = (await (await cache.match(request)).arrayBuffer()).byteLength;
        if (request.url.includes('/icons/')) { icons += size; continue; }
        total += size; count += 1;
      }
      return {total, count, icons};
    }""")

    page.fill("#login-username", "worker_a")
    page.fill("#login-password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_selector(f"#hh-counts:has-text('/ {households}')", timeout=60_000)

    pulls = []
    for _ in range(3):
        pulls.append(page.evaluate("""async () => {
          const db = await import('/static/js/db.js');
          const sync = await import('/static/js/sync.js');
          while (sync.isRunning()) await new Promise((r) => setTimeout(r, 50));
          await db.write(['households', 'meta'], (tx) => { tx.objectStore('households').clear(); tx.objectStore('meta').delete('cursor'); });
          const auth = await db.getMeta('auth');
          const t0 = performance.now();
          await sync.pull(auth);
          const ms = performance.now() - t0;
          return {ms, stored: await db.count('households')};
        }"""))
    assert all(p["stored"] == households for p in pulls), pulls

    ids = page.evaluate("async () => (await (await import('/static/js/db.js')).getAll('households')).slice(0, 40).map((h) => h.id)")
    opens = []
    for household_id in ids[:repeat]:
        opens.append(page.evaluate("""async (id) => {
          const t0 = performance.now();
          await window.fieldapp.go('/app/visit?h=' + encodeURIComponent(id));
          const ms = performance.now() - t0;
          if (!document.querySelector('#visit-form input[name=head_name]')) throw new Error('form not rendered');
          return ms;
        }""", household_id))
    page.evaluate("window.fieldapp.go('/app/')")

    # Offline: every request aborted, as on a phone with no signal.
    context.route("**/*", lambda route: route.abort("internetdisconnected"))
    context.set_offline(True)
    saves = page.evaluate("""async ([ids]) => {
      const answers = """ + VISIT_ANSWERS_JS + """;
      const outbox = await import('/static/js/outbox.js');
      const db = await import('/static/js/db.js');
      const doc = await db.getMeta('form');
      const times = [];
      for (const id of ids) {
        const h = await db.get('households', id);
        const draft = {uuid: outbox.newUuid(), owner: 'worker_a', household_key: id, household_id: id, base_rev: h.rev,
          started_at: outbox.isoNow(), label: h.head_name};
        const data = answers(h);
        const t0 = performance.now();
        await outbox.saveVisit(draft, data, {campaignId: doc.campaign.id, formVersion: doc.form.version});
        times.push(performance.now() - t0);
      }
      return times;
    }""", [ids[:repeat]])
    pending = page.evaluate("async () => (await (await import('/static/js/db.js')).getAll('outbox')).length")
    assert pending == len(saves), (pending, saves)

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values):.0f} ms, max {max(values):.0f} ms (n={len(values)})"

    pull_ms = [p["ms"] for p in pulls]
    return [
        ("shell, first load (no icons)", f"{shell_bytes / 1024:.1f} KB in {len(shell)} requests",
         "< 150 KB", "ok" if shell_bytes < 150 * 1024 else "OVER"),
        ("shell, precached (no icons)", f"{precache['total'] / 1024:.1f} KB in {precache['count']} files"
         f" + sw.js {sw_bytes / 1024:.1f} KB; icons {precache['icons'] / 1024:.1f} KB",
         "< 150 KB", "ok" if precache["total"] + sw_bytes < 150 * 1024 else "OVER"),
        (f"pull + store {households} households", ms(pull_ms), "< 3000 ms",
         "ok" if max(pull_ms) < 3000 else "OVER"),
        ("open the form of a household", ms(opens), "< 200 ms", "ok" if statistics.median(opens) < 200 else "OVER"),
        ("save a visit offline (strict)", ms(saves), "< 50 ms", "ok" if statistics.median(saves) < 50 else "OVER"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print_table(run(args.households, args.repeat))


def print_table(rows: list[tuple[Any, ...]]) -> None:
    """Rows of (measure, result, target, verdict) as a plain-text table."""
    header = ("measure", "result", "target", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    line = "+".join("-" * (w + 2) for w in widths)
    print(line)
    for row in [header, *rows]:
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        if row is header:
            print(line)
    print(line)


if __name__ == "__main__":
    main()
