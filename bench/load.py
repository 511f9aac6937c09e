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
import http.client
import json
import multiprocessing
import os
import random
import re
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldapp.server import default_workers  # noqa: E402
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
        # A phone on 4G does not keep a connection across its pauses: one connection per
        # request. http.client, not requests: the generator shares the server's cores,
        # and requests cost about twice its CPU per call.
        address = urllib.parse.urlsplit(base_url)
        self.host, self.port = address.hostname or "127.0.0.1", address.port or 80
        self.headers = {"Connection": "close", "Content-Type": "application/json"}
        self.token = ""
        self.cursor: str | None = None
        self.households: dict[str, dict[str, Any]] = {}
        self.random = random.Random(n)

    def _call(self, op: str, method: str, path: str, body: Any = None) -> dict[str, Any] | None:
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        started = time.perf_counter()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            connection.request(method, path, body=payload, headers=self.headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.samples.errors[f"{op}: {type(exc).__name__}"] += 1
            return None
        finally:
            connection.close()
        self.samples.add(op, time.perf_counter() - started)
        if response.status != 200:
            self.samples.errors[f"{op}: HTTP {response.status}"] += 1
            return None
        decoded: dict[str, Any] = json.loads(data)
        return decoded

    def login(self) -> bool:
        body = self._call("login", "POST", "/api/v1/auth/token", {
            "username": self.username, "password": factories.PASSWORD, "device_id": self.device_id})
        if body is None:
            return False
        self.token = body["token"]
        self.headers["Authorization"] = f"Bearer {self.token}"
        return True

    def pull(self) -> None:
        while True:
            query = "?" + urllib.parse.urlencode({"since": self.cursor}) if self.cursor else ""
            body = self._call("pull", "GET", "/api/v1/sync/pull" + query)
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
        self._call("push", "POST", "/api/v1/sync/push", {
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


def client_process(base_url: str, numbers: list[int], think: float, records: int, duration: float,
                   ready: Any, out: Any) -> None:
    """One client process: log its devices in, wait for every other process at ``ready``,
    then run its devices as threads for ``duration`` s; put its samples and the CPU
    seconds it spent under load on ``out``."""
    setup = Samples()
    devices = [Device(base_url, n, think, records, setup) for n in numbers]
    for device in devices:
        if not device.login():
            setup.errors["login failed"] += 1
    measured = Samples()
    for device in devices:
        device.samples = measured
    ready.wait(timeout=300)
    cpu = time.process_time()
    start_at = time.monotonic() + 0.2
    stop_at = start_at + duration
    threads = [threading.Thread(target=d.run, args=(start_at, stop_at), daemon=True)
               for d in devices if d.token]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 90)
    measured.latencies["login"] = setup.latencies.get("login", [])
    measured.errors.update(setup.errors)
    out.put((measured, time.process_time() - cpu))


def process_cpu(wanted: Callable[[int, str], bool]) -> float:
    """CPU seconds (user + system) of the live processes ``wanted(process_group, name)`` picks."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # the process ended meanwhile
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        if wanted(int(fields[2]), name):
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


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
        server = LiveServer(url, folder / "instance", workers=args.server_workers,
                            threads=args.server_threads).start(timeout=60)
        print(f"[{backend}] {server.url}: {args.server_workers} gunicorn workers × {args.server_threads} threads; "
              f"{args.devices} devices for {args.duration:g} s…", file=sys.stderr)
        numbers = list(range(args.devices))
        chunks = [numbers[i::args.client_procs] for i in range(args.client_procs)]
        context = multiprocessing.get_context("fork")
        ready = context.Barrier(args.client_procs + 1)
        out = context.Queue()
        clients = [context.Process(target=client_process, args=(
            server.url, chunk, args.think, args.records, args.duration, ready, out)) for chunk in chunks]
        for client in clients:
            client.start()
        ready.wait(timeout=300)  # every device logged in (scrypt on the server): the load starts
        server_group = server.process.pid if server.process else -1
        in_server = lambda group, name: group == server_group  # noqa: E731
        in_database = lambda group, name: name == "postgres"  # noqa: E731
        before = process_cpu(in_server), process_cpu(in_database)
        time.sleep(args.duration + 0.2)
        after = process_cpu(in_server), process_cpu(in_database)
        samples = Samples()
        client_cpu = 0.0
        for _ in clients:
            result, seconds = out.get(timeout=args.duration + 120)
            samples.merge(result)
            client_cpu += seconds
        for client in clients:
            client.join(timeout=30)
        requests_done = sum(len(samples.latencies.get(op, [])) for op in ("pull", "push"))
        cpu = {"server": after[0] - before[0], "database": after[1] - before[1], "load generator": client_cpu}
        print(f"[{backend}] CPU under load, ms per request: " + ", ".join(
            f"{part} {seconds * 1000 / max(requests_done, 1):.2f}" for part, seconds in cpu.items())
            + f"; the {os.cpu_count()} cores {sum(cpu.values()) / (args.duration * (os.cpu_count() or 1)):.0%} busy",
              file=sys.stderr)
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
    parser.add_argument("--server-threads", type=int, default=4, help="threads per gunicorn worker")
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
          f"{args.households} households, {args.server_workers} server workers × {args.server_threads} threads, "
          f"{os.cpu_count()} cores shared with the load generator\n")
    print_table(rows)
    if all_errors:
        print("\nerrors:", dict(all_errors))
    p95 = [float(r[5]) for r in rows if r[1] == "pull+push" and re.match(r"^\d", r[5])]
    print(f"\ntargets: zero errors ({'met' if not all_errors else 'NOT met'}), "
          f"p95 < 1000 ms ({'met' if p95 and max(p95) < 1000 else 'NOT met'})")


if __name__ == "__main__":
    main()
