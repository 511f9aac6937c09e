"""Load: simulated phones pushing and pulling against ``fieldapp serve``.

    python bench/load.py [--backend sqlite|postgres|both] [--devices 200] [--duration 60]
                         [--think 1.0] [--records 5] [--workers-per-village 2]
                         [--households 100] [--server-workers N] [--client-procs 4]

For each backend: a fresh database (a SQLite file in a temporary folder, or a
new schema on the PostgreSQL of ``FIELDAPP_TEST_POSTGRES_URL``), seeded with
one worker account per device, two grid workers to a village of 100
households by default (``--workers-per-village 20 --households 100`` is the
older, harsher set-up: twenty phones rewriting the same hundred households,
so every pull carries most of the village), and a real ``fieldapp serve``
(gunicorn) on a free port. Every device logs in once
(not timed), then until the time is up: pull what changed since its cursor,
push a batch of visits to households of its village, wait a random think
time. Prints requests/s, p50/p95/p99 latency and errors per operation, and
stops everything it started, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import requests
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldapp.commands.serve import default_workers  # noqa: E402
from tests import factories  # noqa: E402
from tests.live import LiveServer  # noqa: E402

PG_URL = os.environ.get("FIELDAPP_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


# -- set-up -------------------------------------------------------------------------


def seed(database_url: str, instance: Path, devices: int, per_village: int, households: int) -> None:
    """Schema plus a town: one worker per device, ``per_village`` of them to each village
    of ``households`` households."""
    from fieldapp import create_app
    from fieldapp.extensions import db
    from fieldapp.models import User

    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance),
                      "SECRET_KEY": "bench-load-secret"})
    with app.app_context():
        db.create_all()
        town = factories.make_town()
        factories.make_campaign()
        villages = [factories.make_village(town, f"压测{n:03d}村", f"420281101{n:03d}")
                    for n in range(-(-devices // per_village))]
        for village in villages:
            for _ in range(households):
                factories.make_household(village, random.choice(("王建国", "刘伟", "陈秀英", "李桂兰")))
        template = User(username="template", role="worker")
        template.set_password(factories.PASSWORD)  # hashed once; every device account shares it
        for n in range(devices):
            db.session.add(User(username=f"device{n:03d}", role="worker", display_name=f"网格员{n}",
                                password_hash=template.password_hash,
                                villages=[villages[n // per_village]]))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def pg_schema(name: str) -> tuple[str, sa.Engine]:
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{name}", admin


# -- devices ------------------------------------------------------------------------


@dataclass
class Samples:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, op: str, seconds: float) -> None:
        self.latencies.setdefault(op, []).append(seconds)

    def merge(self, other: Samples) -> None:
        for op, values in other.latencies.items():
            self.latencies.setdefault(op, []).extend(values)
        self.errors.update(other.errors)


class Device:
    def __init__(self, base_url: str, n: int, think: float, records: int, samples: Samples) -> None:
        self.base_url = base_url
        self.username = f"device{n:03d}"
        self.device_id = str(uuid.uuid4())
        self.think = think
        self.records = records
        self.samples = samples
        self.http = requests.Session()
        # A phone on 4G does not keep a connection across its pauses; reusing one that
        # gunicorn already closed (keep-alive 2 s) would count as a client-made error.
        self.http.headers["Connection"] = "close"
        self.token = ""
        self.cursor: str | None = None
        self.households: dict[str, dict[str, Any]] = {}
        self.random = random.Random(n)

    def _call(self, op: str, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            response = self.http.request(method, self.base_url + path, timeout=60, **kwargs)
        except requests.RequestException as exc:
            self.samples.errors[f"{op}: {type(exc).__name__}"] += 1
            return None
        self.samples.add(op, time.perf_counter() - started)
        if response.status_code != 200:
            self.samples.errors[f"{op}: HTTP {response.status_code}"] += 1
            return None
        body: dict[str, Any] = response.json()
        return body

    def login(self) -> bool:
        body = self._call("login", "POST", "/api/v1/auth/token", json={
            "username": self.username, "password": factories.PASSWORD, "device_id": self.device_id})
        if body is None:
            return False
        self.token = body["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        return True

    def pull(self) -> None:
        while True:
            params = {"since": self.cursor} if self.cursor else {}
            body = self._call("pull", "GET", "/api/v1/sync/pull", params=params)
            if body is None:
                return
            for household in body["households"]:
                self.households[household["id"]] = household
            self.cursor = body["cursor"]
            if not body["more"]:
                return

    def push(self) -> None:
        if not self.households:
            return
        records = []
        for household in self.random.sample(list(self.households.values()),
                                            min(self.records, len(self.households))):
            shape = SimpleNamespace(**household)
            records.append({
                "uuid": str(uuid.uuid4()), "campaign_id": "2023-jzpc", "form_version": "2023.1",
                "household_id": household["id"], "base_rev": household["rev"], "supersedes": None,
                "started_at": "2023-10-12T09:21:00+08:00", "visited_at": "2023-10-12T09:30:00+08:00",
                "data": factories.visit_data(shape), "location": None,
            })
        self._call("push", "POST", "/api/v1/sync/push", json={
            "batch_id": str(uuid.uuid4()), "device_id": self.device_id, "app_version": "bench",
            "records": records})

    def run(self, start_at: float, stop_at: float) -> None:
        time.sleep(max(0.0, start_at - time.monotonic()) + self.random.uniform(0, self.think))
        while time.monotonic() < stop_at:
            self.pull()
            if time.monotonic() >= stop_at:
                break
            self.push()
            time.sleep(self.random.expovariate(1 / self.think) if self.think > 0 else 0)


def client_process(args: tuple[str, list[int], float, int, float, float]) -> Samples:
    """One client process: log its devices in, then run them as threads until ``stop_at``."""
    base_url, numbers, think, records, duration, login_deadline = args
    setup = Samples()
    devices = [Device(base_url, n, think, records, setup) for n in numbers]
    for device in devices:
        if time.monotonic() > login_deadline or not device.login():
            setup.errors["login failed"] += 1
    measured = Samples()
    for device in devices:
        device.samples = measured
    start_at = time.monotonic() + 0.5
    stop_at = start_at + duration
    threads = [threading.Thread(target=d.run, args=(start_at, stop_at), daemon=True)
               for d in devices if d.token]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 90)
    measured.latencies["login"] = setup.latencies.get("login", [])
    measured.errors.update(setup.errors)
    return measured


# -- reporting -----------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def report_rows(backend: str, samples: Samples, duration: float) -> list[list[str]]:
    rows = []
    ops = ["pull", "push"]
    timed = [v for op in ops for v in samples.latencies.get(op, [])]
    op_errors = Counter({op: sum(c for k, c in samples.errors.items() if k.startswith(op)) for op in ops})
    for op, values in [(op, samples.latencies.get(op, [])) for op in ops] + [("pull+push", timed)]:
        errors = op_errors[op] if op in ops else sum(op_errors.values())
        rows.append([backend, op, str(len(values)), f"{len(values) / duration:.1f}",
                     f"{percentile(values, 50) * 1000:.0f}", f"{percentile(values, 95) * 1000:.0f}",
                     f"{percentile(values, 99) * 1000:.0f}", str(errors)])
    logins = samples.latencies.get("login", [])
    rows.append([backend, "login (setup)", str(len(logins)), "-",
                 f"{percentile(logins, 50) * 1000:.0f}", f"{percentile(logins, 95) * 1000:.0f}",
                 f"{percentile(logins, 99) * 1000:.0f}",
                 str(sum(c for k, c in samples.errors.items() if k.startswith("login")))])
    return rows


def print_table(rows: list[list[str]]) -> None:
    header = ["backend", "operation", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


# -- one run ---------------------------------------------------------------------------


def run_backend(backend: str, args: argparse.Namespace) -> tuple[list[list[str]], Counter[str]]:
    folder = Path(tempfile.mkdtemp(prefix=f"fieldapp-load-{backend}-"))
    admin: sa.Engine | None = None
    schema = f"load_{os.getpid()}_{int(time.time())}"
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'load.db'}"
    else:
        url, admin = pg_schema(schema)
    server: LiveServer | None = None
    try:
        villages = -(-args.devices // args.workers_per_village)
        print(f"[{backend}] seeding {args.devices} devices, {villages} villages of {args.households} households…",
              file=sys.stderr)
        seed(url, folder / "instance", args.devices, args.workers_per_village, args.households)
        server = LiveServer(url, folder / "instance", workers=args.server_workers).start(timeout=60)
        print(f"[{backend}] {server.url}: {args.server_workers} gunicorn workers; "
              f"{args.devices} devices for {args.duration:g} s…", file=sys.stderr)
        numbers = list(range(args.devices))
        chunks = [numbers[i::args.client_procs] for i in range(args.client_procs)]
        login_deadline = time.monotonic() + 120
        context = multiprocessing.get_context("fork")
        with context.Pool(args.client_procs) as pool:
            results = pool.map(client_process, [(server.url, chunk, args.think, args.records,
                                                 args.duration, login_deadline) for chunk in chunks])
        samples = Samples()
        for result in results:
            samples.merge(result)
        return report_rows(backend, samples, args.duration), samples.errors
    finally:
        if server is not None:
            server.stop()
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--devices", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load per backend")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between a device's rounds (s)")
    parser.add_argument("--records", type=int, default=5, help="visits per push")
    parser.add_argument("--workers-per-village", type=int, default=2,
                        help="devices sharing one village (a village has a few grid workers)")
    parser.add_argument("--households", type=int, default=100, help="households per village")
    parser.add_argument("--server-workers", type=int, default=default_workers())
    parser.add_argument("--client-procs", type=int, default=4)
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    rows: list[list[str]] = []
    all_errors: Counter[str] = Counter()
    for backend in backends:
        backend_rows, errors = run_backend(backend, args)
        rows.extend(backend_rows)
        all_errors.update({f"{backend} {k}": v for k, v in errors.items()})
    print(f"\n{args.devices} devices, {args.duration:g} s per backend, think time {args.think:g} s, "
          f"{args.records} visits per push, {args.workers_per_village} devices to a village of "
          f"{args.households} households, {args.server_workers} server workers, "
          f"{os.cpu_count()} cores shared with the load generator\n")
    print_table(rows)
    if all_errors:
        print("\nerrors:", dict(all_errors))
    p95 = [float(r[5]) for r in rows if r[1] == "pull+push" and re.match(r"^\d", r[5])]
    print(f"\ntargets: zero errors ({'met' if not all_errors else 'NOT met'}), "
          f"p95 < 1000 ms ({'met' if p95 and max(p95) < 1000 else 'NOT met'})")


if __name__ == "__main__":
    main()
