"""Benchmark of a 2024.1 visit on the phone (issue 19): headless Chromium at 360×640,
offline, a campaign on form 2024.1 whose households each have 6 members on the roster.

Each repetition is what a worker does at a door, through the real app: tap a household
in the list (found by its 户编号), the form opens with its 6 members prefilled; edit one
member, answer the questions, attach 3 camera pictures (4000×3000 JPEGs made by the
browser, as in ``bench/photos.py``), look the form over (0.5 s), tap 保存. The phone
stays offline for the whole run, so the outbox grows as it does on a day without signal
(each visit with its 3 photos).

Timed in the page with ``performance.now()``:

- open: from the tap (the click event's time) to the first frame painted with the form
  and its 6 member cards;
- save: from the tap on 保存 (the click event's time) to the outbox record stored (the
  transaction complete: the app's 已保存 follows it in the same task; the list the
  app goes back to is not counted);
- attach 3 photos: from the file input's change to the 3 thumbnails shown (compression
  and the draft written);
- compress a photo: ``photos.compress`` on each camera picture, on the open form, every
  repetition.

``--cpu 4`` slows the page's CPU 4× (DevTools' "mid-tier mobile"), nearer a village
worker's phone than a desktop core. ``--profile DIR`` writes the CPU profiles of the
last open and save (``.cpuprofile``, for DevTools) and prints their heaviest functions.

Run: ``python bench/form2024.py [--households 2000] [--repeat 12]``. It builds a
throwaway SQLite database, starts ``fieldapp serve`` on a free port, and stops it at
the end.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.photos import CAMERA  # noqa: E402
from bench.pwa import NAMES  # noqa: E402
from fieldapp import create_app  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.households import write_members  # noqa: E402
from fieldapp.models import utcnow  # noqa: E402
from sync.idnumber import make_id  # noqa: E402
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
from tests.members_data import member  # noqa: E402

PHONE = {"viewport": {"width": 360, "height": 640}, "locale": "zh-CN", "timezone_id": "Asia/Shanghai",
         "geolocation": {"latitude": 30.0951, "longitude": 114.9447, "accuracy": 12}, "permissions": ["geolocation"]}
TARGETS = {"open": 300.0, "save": 100.0, "compress": 1500.0}


def family(n: int, head_name: str) -> list[dict[str, Any]]:
    """Six members consistent with the household's answers: 3 in the labour force (the
    couple, a grandmother who still works the fields), two children at school, all
    healthy and insured."""
    surname = head_name[0]

    def id_of(born: dt.date, male: bool) -> str:  # unique in the town
        return make_id("420281", born + dt.timedelta(days=n // 450), (n % 450) * 2 + (1 if male else 2))

    return [
        member(head_name, id_of(dt.date(1970, 5, 1), True), "self", work="in_city", work_months=10),
        member("李秀英", id_of(dt.date(1972, 3, 8), False), "spouse", work="out_province", work_months=8),
        member(surname + "小明", id_of(dt.date(2010, 9, 1), True), "child", skill="none", school="junior"),
        member(surname + "小红", id_of(dt.date(2014, 6, 1), False), "child", skill="none", school="primary"),
        member(surname + "老汉", id_of(dt.date(1944, 2, 1), True), "parent", skill="none"),
        member("陈桂兰", id_of(dt.date(1947, 7, 1), False), "parent", skill="weak"),
    ]


def seed(database_url: str, instance: Path, households: int) -> None:
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": database_url,
                      "INSTANCE_PATH": str(instance)})
    with app.app_context():
        db.create_all()
        town = make_town()
        villages = [make_village(town, name) for name in ("沼山村", "磨山村")]
        make_campaign().form_version = "2024.1"
        make_user("worker_a", "worker", villages, display_name="张网格")
        members = {}
        for n in range(households):
            name = NAMES[n % len(NAMES)]
            people = family(n, name)
            household = make_household(villages[n % 2], name, head_id=people[0]["id_number"], size=6,
                                       labor_count=3, group=f"{n % 9 + 1}组")
            members[household.id] = people
        write_members(db.session, members, utcnow(), source="roster")
        db.session.commit()
        db.engine.dispose()


def run(households: int, repeat: int, cpu: float = 1, profile: Path | None = None) -> list[tuple[str, str, str, str]]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed(database_url, instance, households)
        server = LiveServer(database_url, instance).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(**PHONE)
                rows = measure(context, server.url, households, repeat, cpu, profile)
                browser.close()
        finally:
            server.stop()
    return rows


# Sets window.__watch to a promise of {ms}: from the next click on ``tap`` (the
# event's own time) until every selector of ``present`` matches and, if given,
# ``text`` is the text of ``textOf`` (checked on each DOM change); with ``paint``,
# until the first frame painted after that.
WATCH = """([tap, present, textOf, text, paint]) => { window.__watch = new Promise((resolve) => {
  let at = null;
  const onClick = (e) => { if (e.target.closest(tap)) at = e.timeStamp; };
  const done = () => present.every((s) => document.querySelector(s))
    && (!textOf || document.querySelector(textOf)?.textContent === text);
  document.addEventListener('click', onClick, {capture: true});
  const observer = new MutationObserver(() => {
    if (at === null || !done()) return;
    observer.disconnect();
    document.removeEventListener('click', onClick, {capture: true});
    const end = () => resolve({ms: performance.now() - at});
    if (paint) requestAnimationFrame(() => setTimeout(end)); else end();
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true});
}); }"""


def measure(context: Any, base: str, households: int, repeat: int, cpu: float = 1,
            profile: Path | None = None) -> list[tuple[str, str, str, str]]:
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    if cpu > 1:  # DevTools' CPU throttling: a phone's slower CPU (4 = "mid-tier mobile")
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": cpu})
    profiler = Profiler(cdp, profile)
    page.set_default_timeout(30_000)
    page.goto(f"{base}/app/login")
    page.wait_for_selector("#app[data-ready=true]")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30_000)
    page.fill("#login-username", "worker_a")
    page.fill("#login-password", PASSWORD)
    page.click("form button[type=submit]")
    print("logged in, pulling…", file=sys.stderr)
    page.wait_for_selector(f"#hh-counts:has-text('/ {households}')", timeout=120_000)
    page.wait_for_function("async () => !(await import('/static/js/sync.js')).isRunning()")
    form_version = page.evaluate("async () => (await (await import('/static/js/db.js')).getMeta('form')).form.version")
    assert form_version == "2024.1", form_version

    sizes = [page.evaluate(CAMERA, n) for n in (1, 2, 3)]
    camera = page.evaluate("""() => Promise.all(window.__camera.map(async (file) => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      return btoa(s);
    }))""")
    files = [{"name": f"IMG_{n + 1}.jpg", "mimeType": "image/jpeg", "buffer": base64.b64decode(b)}
             for n, b in enumerate(camera)]
    codes = page.evaluate(f"""async () => (await (await import('/static/js/db.js')).getAll('households'))
      .map((h) => h.code).sort().slice(0, {repeat})""")

    # Offline (every request aborted, the service worker's too), for the whole day.
    context.route("**/*", lambda route: route.abort("internetdisconnected"))
    context.set_offline(True)
    page.wait_for_selector("#net-status:has-text('离线')")

    opens: list[float] = []
    saves: list[float] = []
    attach: list[float] = []
    compress: list[float] = []
    for n, code in enumerate(codes):
        print(f"visit {n + 1}/{len(codes)}", file=sys.stderr)
        page.fill("#hh-search", code)
        page.wait_for_selector(f".vlist-row:has-text('{code}')")
        page.evaluate(WATCH, [".vlist-row", ["#save-visit", ".member[data-index='5']"], None, None, True])
        last = n == len(codes) - 1
        profiler.start(last)
        page.click(f".vlist-row:has-text('{code}')")
        opens.append(page.evaluate("window.__watch")["ms"])
        profiler.stop("open")
        assert page.locator(".member").count() == 6

        # The worker: one member's months of work corrected, the questions answered.
        page.click(".member[data-index='0'] [data-toggle]")  # 修改: a prefilled member is a summary
        page.fill("input[name='members.0.work_months']", "11")
        for field in ("housing_unsafe", "school_dropout", "medical_uninsured", "serious_illness", "water_unsafe"):
            page.check(f"input[name={field}][value=false]")
        page.check("input[name=food_clothing_ok][value=true]")
        for field, value in (("income_wage", "52000"), ("income_business", "8000"), ("business_cost", "2000"),
                             ("income_property", "500"), ("income_transfer", "1500")):
            page.fill(f"input[name={field}]", value)
        page.check("input[name=conclusion][value=no_risk]")
        page.check("input[name=visit_method][value=phone]")
        page.fill("input[name=visited_on]", "2023-10-12")
        page.fill("input[name=respondent]", "王建国")
        page.check("input[name=respondent_relation][value=self]")

        # Compression as the form does it, on the form (each camera picture, timed alone).
        compress += page.evaluate("""async () => {
          const photos = await import('/static/js/photos.js');
          const out = [];
          for (const file of window.__camera) {
            const t0 = performance.now();
            await photos.compress(file);
            out.push(performance.now() - t0);
          }
          return out;
        }""")
        page.evaluate("""() => { window.__watch = new Promise((resolve) => {
          const input = document.querySelector('#photo-input');
          const note = document.querySelector('#photo-note');
          input.addEventListener('change', (e) => {
            const t0 = e.timeStamp;
            const observer = new MutationObserver(() => {
              if (!note.textContent.startsWith('入户照片 3/3')) return;
              observer.disconnect();
              requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0)));
            });
            observer.observe(note, {childList: true, characterData: true, subtree: true});
          }, {once: true});
        }); }""")
        page.set_input_files("#photo-input", files)
        attach.append(page.evaluate("window.__watch"))
        assert page.locator("#photo-list img").count() == 3
        page.wait_for_timeout(500)  # the worker looks the form over

        page.evaluate("document.querySelector('#toast').textContent = ''")  # the last visit's 已保存
        page.evaluate(WATCH, ["#save-visit", [], "#toast", "已保存", False])
        profiler.start(last)
        page.click("#save-visit")
        saves.append(page.evaluate("window.__watch")["ms"])
        profiler.stop("save")
        page.wait_for_selector("#hh-counts")

    for name, values in (("open", opens), ("save", saves), ("attach", attach), ("compress", compress)):
        print(f"{name}: " + " ".join(f"{v:.0f}" for v in values), file=sys.stderr)
    outbox = page.evaluate("""async () => (await (await import('/static/js/db.js')).getAll('outbox'))
      .map((r) => ({members: r.data.members.length, photos: r.photos.length, edited: r.data.members[0].change,
        bytes: r.photos.some((p) => p.bytes)}))""")
    assert len(outbox) == len(codes), outbox
    assert all(r == {"members": 6, "photos": 3, "edited": "edited", "bytes": False} for r in outbox), outbox
    stored = page.evaluate("async () => (await import('/static/js/db.js')).count('photos')")
    assert stored == 3 * len(codes), stored  # the photos' bytes, once each, apart from the records

    def ms(values: list[float]) -> str:
        return f"median {statistics.median(values):.0f} ms, max {max(values):.0f} ms (n={len(values)})"

    def verdict(values: list[float], target: float) -> str:
        return "ok" if max(values) < target else "OVER"

    return [
        ("open the form (6 members), tap → painted", ms(opens), f"< {TARGETS['open']:.0f} ms",
         verdict(opens, TARGETS["open"])),
        ("save offline (3 photos), tap 保存 → in IndexedDB", ms(saves), f"< {TARGETS['save']:.0f} ms",
         verdict(saves, TARGETS["save"])),
        ("compress a photo (4000×3000 JPEG)", ms(compress), f"< {TARGETS['compress']:.0f} ms each",
         verdict(compress, TARGETS["compress"])),
        ("attach 3 photos (compress, thumbnails, draft)", ms(attach), "", ""),
        ("camera pictures", ", ".join(f"{n / 1024 / 1024:.1f} MB" for n in sizes), "", ""),
        ("outbox at the end (offline)", f"{len(outbox)} visits, {sum(r['photos'] for r in outbox)} photos", "", ""),
    ]


class Profiler:
    """With a folder: the CPU profile (DevTools' .cpuprofile) of the last open and save,
    written there, and their functions by self time printed to stderr."""

    def __init__(self, cdp: Any, folder: Path | None) -> None:
        self.cdp, self.folder, self.running = cdp, folder, False
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 100})

    def start(self, now: bool) -> None:
        if self.folder is not None and now:
            self.cdp.send("Profiler.start")
            self.running = True

    def stop(self, name: str) -> None:
        if not self.running or self.folder is None:
            return
        self.running = False
        data = self.cdp.send("Profiler.stop")["profile"]
        (self.folder / f"{name}.cpuprofile").write_text(json.dumps(data))
        nodes = {node["id"]: node for node in data["nodes"]}
        parent = {child: node["id"] for node in data["nodes"] for child in node.get("children", ())}

        def where(node_id: int) -> str:
            frame = nodes[node_id]["callFrame"]
            return f"{frame['functionName'] or '(anonymous)'} {frame['url'].rsplit('/', 1)[-1]}:{frame['lineNumber'] + 1}"

        own: dict[str, float] = {}
        total: dict[str, float] = {}
        for sample, delta in zip(data["samples"], data["timeDeltas"], strict=True):
            own[where(sample)] = own.get(where(sample), 0) + delta
            seen: set[str] = set()
            node: int | None = sample
            while node is not None:
                if where(node) not in seen:
                    seen.add(where(node))
                    total[where(node)] = total.get(where(node), 0) + delta
                node = parent.get(node)
        print(f"{name}: {sum(own.values()) / 1000:.0f} ms sampled", file=sys.stderr)
        for title, times, n in (("self", own, 12), ("total (with callees)", total, 25)):
            print(f"  by {title}:", file=sys.stderr)
            for function, us in sorted(times.items(), key=lambda x: -x[1])[:n]:
                print(f"  {us / 1000:7.1f} ms  {function}", file=sys.stderr)


def print_markdown(rows: list[tuple[str, str, str, str]]) -> None:
    print("| measure | result | target | |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=12)
    parser.add_argument("--cpu", type=float, default=1,
                        help="CPU slowdown (Emulation.setCPUThrottlingRate): 4 is DevTools' mid-tier mobile")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="write the CPU profiles of the last open and save there (.cpuprofile)")
    args = parser.parse_args()
    print(f"form 2024.1, {args.households} households of 6 members, Chromium 360×640, offline, "
          f"{args.repeat} visits, CPU slowdown {args.cpu:g}×")
    print_markdown(run(args.households, args.repeat, args.cpu, args.profile))


if __name__ == "__main__":
    main()
