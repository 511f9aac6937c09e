"""Benchmark: towns replicating into a county's central server (docs/replication.md).

    python bench/replicate.py [--towns 10] [--visits 1.0] [--page 2000] [--skip-many]

1. Builds (once, cached under ``bench/out/towns/``) ``--towns`` demo towns on SQLite, each
   the reference town's 13,740 households with ``--visits`` of them visited through the
   real push ingest, each under its own name (保安镇, 保安镇2, ...) and seed.
2. One fresh town into an empty central (PostgreSQL, ``fieldapp serve``, 2 workers):
   ``fieldapp replicate`` timed, with pages, bytes on the wire and bytes per visit.
3. All towns at once into another empty central (one ``fieldapp replicate`` process each),
   while central's dashboard (``/reports/`` as the county admin) and a worker's pull at the
   first town's own ``fieldapp serve`` are timed every second.
4. Central's peak memory (the largest ``VmHWM`` of its server processes) in each run.

Prints one table. Servers listen on 127.0.0.1 on free ports and stop at the end; the
central databases are dropped. Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import csrf_token_from  # noqa: E402
from tests.live import LiveServer  # noqa: E402

PG_URL = os.environ.get("FIELDAPP_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
CACHE = ROOT / "bench" / "out" / "towns"
ADMIN_PASSWORD = "county-admin-2023"


def cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    result = subprocess.run([sys.executable, "-m", "fieldapp.cli", *args], env=env, cwd=ROOT, input=stdin,
                            capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"fieldapp {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result.stdout


def town_name(index: int) -> str:
    return "保安镇" if index == 0 else f"保安镇{index + 1}"


def build_town(index: int, visits: float) -> Path:
    """The demo town with its own seed and name, cached."""
    path = CACHE / f"town{index}-v{visits}.db"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "FIELDAPP_DATABASE_URL": f"sqlite:///{folder}/town.db", "FIELDAPP_INSTANCE_PATH": folder}
        print(f"building {town_name(index)} (seed {2023 + index}) ...", flush=True)
        cli(["demo", "--no-serve", "--visits", str(visits), "--seed", str(2023 + index)], env)
        connection = sqlite3.connect(f"{folder}/town.db")
        try:
            with connection:
                connection.execute("UPDATE towns SET name = ?", (town_name(index),))
            # The database is in WAL mode: copy one file that holds everything, not a file
            # whose latest commits are still in its -wal beside it.
            connection.execute("VACUUM INTO ?", (str(path),))
        finally:
            connection.close()
    return path


def build_members_town() -> Path:
    """A town on form 2024.1 (``bench/sync_push.py``'s: 13,740 households with 2–6 members
    each from a roster, every one visited with its members through the real push), cached."""
    path = CACHE / "town-2024.1.db"
    if path.exists():
        return path
    sys.path.insert(0, str(ROOT / "bench"))
    import sync_push  # noqa: PLC0415 - the benchmark's own town, only when asked for

    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/town.db"
        print("building a 2024.1 town with members ...", flush=True)
        # The schema by its migrations first (the town is upgraded like any other later on).
        cli(["init-db"], {**os.environ, "FIELDAPP_DATABASE_URL": url, "FIELDAPP_INSTANCE_PATH": f"{folder}/instance"})
        data = sync_push.build(url, Path(folder) / "instance", 13_740, form_version="2024.1")
        server = LiveServer(url, Path(folder) / "instance").start()
        try:
            _seconds, counts = sync_push.push_all(f"{server.url}/api/v1/sync/push", data["batches"], 4)
        finally:
            server.stop()
        print(f"pushed: {counts}", flush=True)
        connection = sqlite3.connect(f"{folder}/town.db")
        try:
            connection.execute("VACUUM INTO ?", (str(path),))
        finally:
            connection.close()
    return path


class Central:
    """An empty central on PostgreSQL with a node per town, served by ``fieldapp serve``."""

    def __init__(self, folder: Path, towns: int, threads: int | None = None, pages_server: bool = False) -> None:
        self.name = f"bench_central_{uuid.uuid4().hex[:8]}"
        self.admin = sa.create_engine(re.sub(r"/[^/?]*(\?|$)", r"/postgres\1", PG_URL, count=1),
                                      isolation_level="AUTOCOMMIT")
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = re.sub(r"/[^/?]*(\?|$)", rf"/{self.name}\1", PG_URL, count=1)
        self.env = {**os.environ, "FIELDAPP_DATABASE_URL": self.url, "FIELDAPP_INSTANCE_PATH": str(folder / "central")}
        cli(["init-db"], self.env)
        cli(["campaign", "create", "2023-jzpc", "--name", "2023年防止返贫监测帮扶集中排查", "--start", "2023-10-01",
             "--end", "2023-12-31", "--activate"], self.env)
        cli(["user", "create", "county", "--role", "admin", "--password-stdin"], self.env, ADMIN_PASSWORD + "\n")
        self.tokens = [cli(["node", "create", f"town{i}", "--town", town_name(i)], self.env).strip().splitlines()[-1]
                       for i in range(towns)]
        self.server = LiveServer(self.url, folder / "central" / "live", threads=threads).start()
        # README "Running a county": the proxy may send the towns' pages to one fieldapp serve
        # and everything else to another, so that people's pages never share a process with them.
        self.pages = LiveServer(self.url, folder / "central" / "pages").start() if pages_server else None

    @property
    def pages_url(self) -> str:
        """Where people's pages are served (the towns' server unless there is one for pages)."""
        return (self.pages or self.server).url

    def peak_memory_mb(self) -> float:
        """The largest peak resident size among the server's processes (master and workers)."""
        peaks = []
        for pid in self.server_pids():
            try:
                text = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", text)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return max(peaks, default=0.0)

    def server_pids(self) -> list[int]:
        pids = []
        for server in (self.server, self.pages):
            if server is not None and server.process is not None:
                pids += [server.process.pid] + [int(p) for p in subprocess.run(
                    ["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True).stdout.split()]
        return pids

    def backend_pids(self) -> list[int]:
        with self.admin.connect() as connection:
            return [row[0] for row in connection.execute(
                sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": self.name})]

    def cpu_seconds(self) -> CpuMeter:
        """A meter of the CPU used by central's server processes and by PostgreSQL's backends
        serving its database, sampled every half second until stopped (a connection the pool
        closes takes its backend with it; its CPU up to the last sample is kept)."""
        meter = CpuMeter(self)
        meter.start()
        return meter

    def stop(self) -> None:
        self.server.stop()
        if self.pages is not None:
            self.pages.stop()
        with self.admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


class CpuMeter(threading.Thread):
    """CPU seconds per process since the meter started, for central's processes and backends."""

    def __init__(self, central: Central) -> None:
        super().__init__(daemon=True)
        self.central, self.done = central, threading.Event()
        self.start_cpu: dict[int, float] = {}
        self.latest: dict[int, float] = {}
        self.kinds: dict[int, str] = {}
        self.sample(first=True)

    def sample(self, first: bool = False) -> None:
        for kind, pids in (("central", self.central.server_pids()), ("database", self.central.backend_pids())):
            for pid in pids:
                cpu = process_cpu(pid)
                self.kinds[pid] = kind
                if first:
                    self.start_cpu[pid] = cpu
                if cpu:
                    self.latest[pid] = max(cpu, self.latest.get(pid, 0.0))

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.sample()

    def stop(self) -> tuple[float, float]:
        self.done.set()
        self.join()
        self.sample()
        used = {"central": 0.0, "database": 0.0}
        for pid, cpu in self.latest.items():
            used[self.kinds[pid]] += cpu - self.start_cpu.get(pid, 0.0)
        return used["central"], used["database"]


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def town_env(database: Path, folder: Path, central: Central, index: int, page: int) -> dict[str, str]:
    return {**os.environ, "FIELDAPP_DATABASE_URL": f"sqlite:///{database}", "FIELDAPP_INSTANCE_PATH": str(folder),
            "FIELDAPP_UPSTREAM_URL": central.server.url, "FIELDAPP_UPSTREAM_TOKEN": central.tokens[index],
            "FIELDAPP_REPLICATION_PAGE_RECORDS": str(page)}


def parse(output: str) -> dict[str, float]:
    found: dict[str, float] = {}
    if match := re.search(r"走访记录(\d+)", output):
        found["visits"] = float(match.group(1))
    if match := re.search(r"农户(\d+)", output):
        found["households"] = float(match.group(1))
    if match := re.search(r"（(\d+)页，(\d+)字节）", output):
        found["pages"], found["bytes"] = float(match.group(1)), float(match.group(2))
    return found


def upgraded_copy(town: Path, copy: Path) -> Path:
    """A copy of a cached town with its schema brought up to this tree's (``init-db``: a
    town upgrades before it runs new code)."""
    shutil.copyfile(town, copy)
    cli(["init-db"], {**os.environ, "FIELDAPP_DATABASE_URL": f"sqlite:///{copy}",
                      "FIELDAPP_INSTANCE_PATH": str(copy.parent / f"{copy.stem}-instance")})
    return copy


def one_town(folder: Path, town: Path, page: int) -> dict[str, float]:
    central = Central(folder / "one", 1)
    try:
        copy = upgraded_copy(town, folder / "one" / "town.db")
        meter = central.cpu_seconds()
        town_before = children_cpu()
        started = time.perf_counter()
        output = cli(["replicate"], town_env(copy, folder / "one" / "town", central, 0, page))
        seconds = time.perf_counter() - started
        central_cpu, database_cpu = meter.stop()
        result = {"seconds": seconds, **parse(output), "memory": central.peak_memory_mb(),
                  "town_cpu": children_cpu() - town_before, "central_cpu": central_cpu,
                  "database_cpu": database_cpu}
    finally:
        central.stop()
    return result


def keep_alive_session() -> requests.Session:
    """A client that sends a GET again once when the server closed the kept-alive connection
    just as the request went out (gunicorn closes idle ones after 2 s), as browsers do."""
    session = requests.Session()
    retry = Retry(total=1, connect=1, read=1, status=0, allowed_methods=["GET"], raise_on_status=False)
    session.mount("http://", HTTPAdapter(max_retries=retry))
    return session


class Probe(threading.Thread):
    """Times a GET every second until stopped."""

    def __init__(self, get: callable) -> None:  # type: ignore[valid-type]
        super().__init__(daemon=True)
        self.get, self.times, self.done = get, [], threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        while not self.done.is_set():
            started = time.perf_counter()
            try:
                self.get()
                self.times.append(time.perf_counter() - started)
            except requests.RequestException as error:
                self.times.append(float("inf"))
                self.errors.append(f"{type(error).__name__}: {str(error)[:200]}")
            self.done.wait(1.0)


def spread(times: list[float]) -> tuple[int, float, float, float]:
    """How many, the median, the 95th percentile and the largest of the probe's times."""
    if not times:
        return 0, 0.0, 0.0, 0.0
    ranked = sorted(times)
    return len(ranked), statistics.median(ranked), ranked[min(len(ranked) - 1, int(0.95 * len(ranked)))], ranked[-1]


def rollups_current_after(web: requests.Session, url: str, limit_s: float = 600.0) -> float:
    """Seconds until central's dashboard counts everything the towns sent (its notice
    ``统计正在更新`` gone: the report follower has caught up, docs/domain.md)."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        page = web.get(f"{url}/reports/", timeout=60)
        page.raise_for_status()
        if 'id="counting-behind"' not in page.text:
            break
        time.sleep(0.5)
    return time.perf_counter() - started


def many_towns(folder: Path, towns: list[Path], page: int, threads: int | None = None,
               pages_server: bool = False) -> dict[str, float]:
    central = Central(folder / "many", len(towns), threads, pages_server)
    copies = []
    for index, town in enumerate(towns):
        copies.append(upgraded_copy(town, folder / "many" / f"town{index}.db"))
    first_town = LiveServer(f"sqlite:///{copies[0]}", folder / "many" / "serve0").start()
    try:
        web, phone = keep_alive_session(), keep_alive_session()
        login = web.get(f"{central.pages_url}/login", timeout=30)
        web.post(f"{central.pages_url}/login", timeout=30, data={
            "username": "county", "password": ADMIN_PASSWORD, "csrf_token": csrf_token_from(login.text)})
        token = phone.post(f"{first_town.url}/api/v1/auth/token", timeout=30, json={
            "username": "worker_zhaoshan", "password": "baoan-worker-2023", "device_id": "bench"}).json()["token"]
        dashboard = Probe(lambda: web.get(f"{central.pages_url}/reports/", timeout=30).raise_for_status())
        pull = Probe(lambda: phone.get(f"{first_town.url}/api/v1/sync/pull", timeout=30,
                                       headers={"Authorization": f"Bearer {token}"}).raise_for_status())
        dashboard.start()
        pull.start()
        meter = central.cpu_seconds()
        town_before = children_cpu()
        started = time.perf_counter()
        processes = [subprocess.Popen([sys.executable, "-m", "fieldapp.cli", "replicate"], cwd=ROOT,
                                      env=town_env(copy, folder / "many" / f"t{index}", central, index, page),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                     for index, copy in enumerate(copies)]
        outputs = [p.communicate(timeout=3600) for p in processes]
        seconds = time.perf_counter() - started
        central_cpu, database_cpu = meter.stop()
        dashboard.done.set()
        pull.done.set()
        current_after = rollups_current_after(web, central.pages_url)
        failed = [err for (out, err), p in zip(outputs, processes, strict=True) if p.returncode != 0]
        if failed:
            errors = [line for line in central.server.log_path.read_text(errors="replace").splitlines()
                      if "Error" in line or "error" in line]
            raise RuntimeError(f"{len(failed)} towns failed: {failed[0][-1500:]}\ncentral's log:\n"
                               + "\n".join(errors[-30:]))
        if dashboard.errors or pull.errors:
            trouble = [line for line in central.server.log_path.read_text(errors="replace").splitlines()
                       if any(word in line for word in ("CRITICAL", "ERROR", "Error", "TIMEOUT", "Traceback"))]
            print("central's log around the failed probes:\n" + "\n".join(trouble[-20:]), flush=True)
        totals = [parse(out) for out, _err in outputs]
        return {"seconds": seconds, "visits": sum(t.get("visits", 0) for t in totals),
                "households": sum(t.get("households", 0) for t in totals),
                "bytes": sum(t.get("bytes", 0) for t in totals), "pages": sum(t.get("pages", 0) for t in totals),
                "memory": central.peak_memory_mb(), "town_cpu": children_cpu() - town_before,
                "central_cpu": central_cpu, "database_cpu": database_cpu, "current_after": current_after,
                "dashboard": spread(dashboard.times), "pull": spread(pull.times),
                "probe_errors": dashboard.errors + pull.errors}
    finally:
        first_town.stop()
        central.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--towns", type=int, default=10)
    parser.add_argument("--visits", type=float, default=1.0)
    parser.add_argument("--page", type=int, default=2000)
    parser.add_argument("--skip-many", action="store_true", help="only the one-town runs")
    parser.add_argument("--central-threads", type=int, default=None,
                        help="threads per worker of central's fieldapp serve in the ten-town run "
                             "(default: fieldapp serve's, 4 plus one per town)")
    parser.add_argument("--pages-server", action="store_true",
                        help="in the ten-town run, central's pages from a fieldapp serve of their own, the "
                             "towns' pages to another (README, Running a county: the proxy splits them)")
    parser.add_argument("--members", action="store_true",
                        help="also one town on form 2024.1, every visit with its members (issue 19)")
    args = parser.parse_args()
    towns = [build_town(i, args.visits) for i in range(1 if args.skip_many else args.towns)]
    with_members = build_members_town() if args.members else None
    with tempfile.TemporaryDirectory() as folder:
        one = one_town(Path(folder), towns[0], args.page)
        members = one_town(Path(folder) / "members", with_members, args.page) if with_members else None
        many = None if args.skip_many else many_towns(Path(folder), towns, args.page, args.central_threads,
                                                            args.pages_server)
    print()
    print(f"{os.cpu_count()} CPUs; load average at the end {os.getloadavg()[0]:.1f} (CPU seconds do not depend "
          "on the neighbours, wall seconds do)")
    print("| run | households | visits | pages | seconds | target | town CPU s | central CPU s | PostgreSQL CPU s "
          "| bytes/visit on the wire | central peak MB |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = [("one town into an empty central", one, "< 10")]
    if members:
        rows.append(("one 2024.1 town with members into an empty central", members, "< 10"))
    if many:
        rows.append((f"{args.towns} towns at once", many, "< 60"))
    for name, run, target in rows:
        print(f"| {name} | {run.get('households', 0):.0f} | {run.get('visits', 0):.0f} | {run.get('pages', 0):.0f} | "
              f"{run['seconds']:.1f} | {target} | {run['town_cpu']:.1f} | {run['central_cpu']:.1f} | "
              f"{run['database_cpu']:.1f} | {run.get('bytes', 0) / max(run.get('visits', 1), 1):.0f} | "
              f"{run['memory']:.0f} |")
    if many:
        print()
        print("| while the towns replicate | views | median s | 95th percentile s | max s | target |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, key in (("central's dashboard (/reports/)", "dashboard"), ("a worker's pull at a town", "pull")):
            count, median, p95, top = many[key]
            print(f"| {name} | {count} | {median:.2f} | {p95:.2f} | {top:.2f} | < 1 |")
        print(f"\ncentral's dashboard counted everything {many['current_after']:.1f} s after the last town finished "
              "(the report follower catching up)")
        for error in many["probe_errors"]:
            print(f"probe failed: {error}")


if __name__ == "__main__":
    main()
