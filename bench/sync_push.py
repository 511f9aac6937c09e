"""Benchmark: a town's visits pushed over HTTP to ``fieldapp serve``, against an insert-only endpoint.

    python bench/sync_push.py [--backend sqlite|postgres|both] [--households 13740] [--clients 4]
                              [--workers 2] [--threads 4] [--rounds 3] [--form 2023.1|2024.1|both]

For each backend: builds a town (30 villages, ``--households`` roster
households, 10 workers per village, an active campaign), makes one valid,
realistic visit per household (incomes, risks, signatures for in-person
visits; a few changed phones and sizes), then

1. pushes them in batches of 200 (each batch one worker's visits) from
   ``--clients`` concurrent HTTP clients to ``fieldapp serve``;
2. sends every record again under new batch ids (all ``already_received``);
3. times a worker's full pull of 500 households (median of 5);
4. pushes the same batches to a minimal Flask endpoint that only does
   ``INSERT OR IGNORE`` (PostgreSQL: ``ON CONFLICT DO NOTHING``) into one
   table, under the same gunicorn settings (gthread, same workers/threads).

``--form 2024.1`` makes the campaign use form version 2024.1: each roster
household gets 2–6 members (本人 with the head's ID, a spouse, children with
ages that fit their schooling, a child-in-law and grandchildren or parents;
GB 11643 IDs whose birth date and sex fit the relation; health, labour skill,
migrant work and insurance consistent with age), stored as a roster's members
sheet would store them, and each visit records them (a few with a newborn
added, a member moved out or died, a member gone to work away) with the
household figures the form checks against them. Every visit is validated
before the run (an error stops it). ``--form both`` runs the two versions
side by side in each round, each on its own town, and prints them as columns.

Each round runs 1-4 on a fresh copy of the town, fieldapp and the
insert-only endpoint back to back: this machine's speed drifts by tens of
per cent from minute to minute, so the table gives medians over the rounds
and the ratio is taken within each round; it also gives the CPU time the
server's processes spent on the push, which other load on the machine hardly
changes. Prints one table. Servers listen on 127.0.0.1 on free ports and are stopped
at the end. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.town_data import (  # noqa: E402
    ROSTER_FIELDS,
    MemberIds,
    add_town,
    household_rows,
    roster,
    signature_png,
    visit_data,
    visit_data_2024,
    with_members,
)
from tests.live import LiveServer, free_port  # noqa: E402

PG_URL = os.environ.get("FIELDAPP_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
BATCH = 200
WORKERS_PER_VILLAGE = 10


# -- set-up -------------------------------------------------------------------


def build(database_url: str, instance: Path, households: int, seed: int = 7,
          form_version: str = "2023.1") -> dict[str, Any]:
    """Create the schema and the town; return the batches, tokens and a puller's token.

    Under ``form_version`` 2024.1 the campaign names that version, each roster
    household has 2–6 members (stored as a roster's members sheet would store
    them) and its size and labour force follow from them, and each visit
    records the members (see :func:`visit_data_2024`)."""
    from fieldapp import create_app, tokens
    from fieldapp.extensions import db
    from fieldapp.households import write_members
    from fieldapp.models import Household, HouseholdRevision, User, user_villages
    from sync.form import FormContext, load_form

    rng = random.Random(seed)
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        town, villages = add_town(db.session, "2023-jzpc", 2023, form_version)
        workers = []
        for v in villages:
            for k in range(WORKERS_PER_VILLAGE):
                user = User(username=f"w{v.id}_{k}", role="worker", display_name=f"网格员{v.id}-{k}",
                            password_hash="bench-no-login")
                workers.append((user, v))
        db.session.add_all([u for u, _ in workers])
        db.session.flush()
        db.session.execute(sa.insert(user_villages), [{"user_id": u.id, "village_id": v.id} for u, v in workers])
        rows = roster(households, rng)
        with_form_members = form_version == "2024.1"
        if with_form_members:
            member_rng = random.Random(seed + 1)
            member_ids = MemberIds(member_rng, with_members(rows, member_rng))
        ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in rows]
        db.session.execute(sa.insert(Household), household_rows(list(zip(ids, rows, strict=True)), town, villages))
        db.session.execute(sa.insert(HouseholdRevision), [
            {"household_id": hid, "rev": 1, "values": {f: r[f] for f in ROSTER_FIELDS},
             "changed": list(ROSTER_FIELDS), "reason": "roster"} for hid, r in zip(ids, rows, strict=True)
        ])
        if with_form_members:
            write_members(db.session, {hid: r["members"] for hid, r in zip(ids, rows, strict=True)},
                          dt.datetime.now(dt.UTC), source="roster")
        token_of = {}
        for user, _ in workers:
            token_of[user.id] = tokens.issue(db.session, user, f"bench-{user.id}", ttl_days=1).token
        db.session.commit()
        form = load_form(form_version)
        context = FormContext(7600.0, dt.date(2023, 10, 1), dt.date(2023, 12, 31))
        signatures = [signature_png(rng) for _ in range(20)]
        by_village: dict[int, list[dict[str, Any]]] = {}
        village_workers = {v.id: [u for u, vv in workers if vv.id == v.id] for v in villages}
        for hid, r in zip(ids, rows, strict=True):
            data = (visit_data_2024(r, member_rng, rng.choice(signatures), member_ids) if with_form_members
                    else visit_data(r, rng, rng.choice(signatures)))
            checked = form.validate(data, context)
            assert not checked.errors, (data, checked.errors)
            by_village.setdefault(villages[r["village"]].id, []).append({
                "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "campaign_id": "2023-jzpc",
                "form_version": form_version, "household_id": hid, "base_rev": 1,
                "started_at": f"{data['visited_on']}T09:{rng.randrange(0, 50):02d}:00+08:00",
                "visited_at": f"{data['visited_on']}T10:{rng.randrange(0, 59):02d}:00+08:00",
                "data": data, "location": {"lat": 30.1 + rng.random() / 10, "lon": 114.9 + rng.random() / 10,
                                           "accuracy_m": rng.randrange(5, 60)},
            })
        # A phone syncs its outbox in batches of 200: each batch is one worker's, in their village.
        batches = []
        for village_id, records in sorted(by_village.items()):
            for start in range(0, len(records), BATCH):
                worker = rng.choice(village_workers[village_id])
                batches.append((token_of[worker.id], {
                    "batch_id": str(uuid.uuid4()), "device_id": f"bench-{worker.id}", "app_version": "bench",
                    "records": records[start:start + BATCH]}))
        rng.shuffle(batches)
        puller = token_of[next(u for u, v in workers if v.id == villages[0].id).id]
        db.session.remove()
        db.engine.dispose()
    bodies = [(token, json.dumps(body, ensure_ascii=False).encode()) for token, body in batches]
    return {"batches": bodies, "puller": puller, "records": len(rows), "form": form_version,
            "members": sum(len(r.get("members") or ()) for r in rows),
            "first_village": sum(1 for r in rows if r["village"] == 0),
            "bytes": sum(len(b) for _, b in bodies)}


# -- the insert-only endpoint ---------------------------------------------------


def insert_only_app(database_url: str) -> Any:
    """A minimal Flask app: parse the push, INSERT OR IGNORE each record, answer uuids."""
    from flask import Flask, jsonify, request

    app = Flask("insert_only")
    engine = sa.create_engine(database_url.replace("postgresql+psycopg", "postgresql+psycopg"), pool_size=8)
    postgres = engine.dialect.name == "postgresql"
    if not postgres:
        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 30000")

    insert = ("INSERT INTO raw_visits (uuid, data) VALUES (:uuid, :data) ON CONFLICT DO NOTHING" if postgres
              else "INSERT OR IGNORE INTO raw_visits (uuid, data) VALUES (:uuid, :data)")

    @app.post("/push")
    def push() -> Any:
        body = request.get_json()
        rows = [{"uuid": r["uuid"], "data": json.dumps(r, ensure_ascii=False)} for r in body["records"]]
        with engine.begin() as conn:
            conn.execute(sa.text(insert), rows)
        return jsonify({"batch_id": body["batch_id"], "results": [{"uuid": r["uuid"]} for r in rows]})

    return app


def serve_insert_only(database_url: str, port: int, workers: int, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE IF NOT EXISTS raw_visits (uuid VARCHAR(36) PRIMARY KEY, data TEXT)"))
    engine.dispose()

    class _Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            # the same settings as fieldapp/server.py
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": workers, "threads": threads,
                               "worker_class": "gthread", "timeout": 120, "accesslog": None,
                               "errorlog": "-", "loglevel": "warning"}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return insert_only_app(database_url)

    _Server().run()


class InsertOnlyServer:
    def __init__(self, database_url: str, workers: int, threads: int, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-insert-only", database_url, str(self.port), str(workers),
             str(threads)],
            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url, timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError("insert-only server did not start")

    def stop(self) -> None:
        import signal

        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=15)


# -- the measurements -------------------------------------------------------------


def push_all(url: str, batches: list[tuple[str, bytes]], clients: int,
             rewrite_ids: bool = False) -> tuple[float, dict[str, int]]:
    counts: dict[str, int] = {}
    local = __import__("threading").local()

    def send(item: tuple[str, bytes]) -> list[str]:
        token, body = item
        if rewrite_ids:  # same records, a new batch id: every result already_received
            body = re.sub(rb'"batch_id": "[^"]+"', f'"batch_id": "{uuid.uuid4()}"'.encode(), body, count=1)
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        # A new connection per batch, as a phone makes: its batches are seconds or
        # hours apart. A kept-alive connection would also tie a client to one
        # server process, so that how connections happened to spread decided the run.
        response = session.post(url, data=body, timeout=300, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}", "Connection": "close"})
        response.raise_for_status()
        return [r.get("status", "stored") for r in response.json()["results"]]

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for statuses in pool.map(send, batches):
            for status in statuses:
                counts[status] = counts.get(status, 0) + 1
    return time.perf_counter() - started, counts


def group_cpu_s(group: int) -> float:
    """CPU seconds (user and system) used so far by the live processes of a process
    group: the server's gunicorn master and workers (Linux ``/proc``; NaN elsewhere).
    Unlike the wall time, it hardly moves with what else the machine is running."""
    ticks, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if int(fields[2]) == group:  # fields after the name: state, ppid, pgrp, ..., utime (12), stime (13)
            ticks += int(fields[11]) + int(fields[12])
            found = True
    return ticks / os.sysconf("SC_CLK_TCK") if found else float("nan")


def time_pull(url: str, token: str, runs: int = 5) -> tuple[float, int]:
    session = requests.Session()
    times, count = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        response = session.get(f"{url}/api/v1/sync/pull", params={"limit": 500},
                               headers={"Authorization": f"Bearer {token}"}, timeout=60)
        times.append(time.perf_counter() - started)
        response.raise_for_status()
        count = len(response.json()["households"])
    return statistics.median(times), count


def run_round(backend: str, app_url: str, raw_url: str, instance: Path, data: dict[str, Any], clients: int,
              workers: int, threads: int, log: Path) -> dict[str, float | dict[str, int]]:
    """fieldapp push, replay and pull, then the insert-only endpoint, back to back (the
    machine's speed drifts: the ratio is only fair between runs close in time)."""
    server = LiveServer(app_url, instance, workers=workers, threads=threads).start()
    assert server.process is not None
    try:
        cpu_before = group_cpu_s(server.process.pid)
        push_s, counts = push_all(f"{server.url}/api/v1/sync/push", data["batches"], clients)
        push_cpu_s = group_cpu_s(server.process.pid) - cpu_before
        replay_s, replay_counts = push_all(f"{server.url}/api/v1/sync/push", data["batches"], clients,
                                           rewrite_ids=True)
        pull_s, pulled = time_pull(server.url, data["puller"])
    finally:
        server.stop()
    raw = InsertOnlyServer(raw_url, workers, threads, log)
    try:
        raw_s, _ = push_all(f"{raw.url}/push", data["batches"], clients)
    finally:
        raw.stop()
    assert replay_counts == {"already_received": data["records"]}, replay_counts
    assert pulled == min(500, data["first_village"]), pulled
    return {"push_s": push_s, "push_cpu_s": push_cpu_s, "replay_s": replay_s, "pull_s": pull_s, "raw_s": raw_s,
            "counts": counts}


def run_backend(backend: str, households: int, clients: int, workers: int, threads: int,
                rounds: int, forms: list[str]) -> list[dict[str, Any]]:
    """``rounds`` rounds, each on fresh copies of the towns (one per form version);
    medians of each measure, one result per form version. Within a round the
    versions run back to back, first one then the other, in turn (ABBA...), so that
    the machine's drift falls on both alike."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-sync-{backend}-"))
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT") if backend == "postgres" else None
    schemas: list[str] = []
    measured: dict[str, list[dict[str, Any]]] = {form: [] for form in forms}
    data: dict[str, dict[str, Any]] = {}
    try:
        for number in range(rounds):
            for form in forms if number % 2 == 0 else forms[::-1]:
                tag = f"{backend} {form}"
                here = work / f"round{number}-{form}"
                pristine = work / f"pristine-{form}"
                if backend == "sqlite":
                    app_url = f"sqlite:///{here / 'fieldapp.db'}"
                    raw_url = f"sqlite:///{here / 'insert_only.db'}"
                else:
                    assert admin is not None
                    schemas.append(f"bench_sync_{os.getpid()}_{number}_{form.replace('.', '_')}")
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'CREATE SCHEMA "{schemas[-1]}"'))
                    app_url = raw_url = f"{PG_URL}?options=-csearch_path%3D{schemas[-1]}"
                if form not in data or backend == "postgres":
                    here.mkdir(parents=True)
                    started = time.perf_counter()
                    data[form] = build(app_url, here / "instance", households, form_version=form)
                    built = data[form]
                    print(f"[{tag}] town built in {time.perf_counter() - started:.1f}s: {built['records']} "
                          f"visits, {built['members']} members, {len(built['batches'])} batches, "
                          f"{built['bytes'] / 1e6:.1f} MB", file=sys.stderr)
                    if backend == "sqlite" and rounds > 1:  # the same town again in later rounds
                        shutil.copytree(here, pristine)
                else:
                    shutil.copytree(pristine, here)
                result = run_round(backend, app_url, raw_url, here / "instance", data[form], clients, workers,
                                   threads, here / "insert_only.log")
                measured[form].append(result)
                print(f"[{tag}] round {number + 1}: fieldapp {result['push_s']:.2f} s "
                      f"(server CPU {result['push_cpu_s']:.2f} s), insert-only {result['raw_s']:.2f} s, "
                      f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        if admin is not None:
            with admin.connect() as conn:
                for schema in schemas:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
        shutil.rmtree(work, ignore_errors=True)
    return [summarise(backend, form, data[form], measured[form]) for form in forms]


def summarise(backend: str, form: str, data: dict[str, Any], measured: list[dict[str, Any]]) -> dict[str, Any]:
    n = data["records"]

    def median(key: str) -> float:
        return statistics.median(float(r[key]) for r in measured)

    push_s, raw_s, replay_s = median("push_s"), median("raw_s"), median("replay_s")
    return {"backend": backend, "form": form, "visits": n, "members": data["members"],
            "mb": data["bytes"] / 1e6, "rounds": len(measured), "push_s": push_s, "push_rate": n / push_s,
            "best_push_s": min(float(r["push_s"]) for r in measured), "push_cpu_s": median("push_cpu_s"),
            "counts": measured[-1]["counts"], "raw_s": raw_s, "raw_rate": n / raw_s,
            "ratio": statistics.median(float(r["raw_s"]) / float(r["push_s"]) for r in measured),
            "replay_s": replay_s, "replay_rate": n / replay_s, "pull_s": median("pull_s")}


def print_table(results: list[dict[str, Any]]) -> None:
    names = [f"{r['backend']} {r['form']}" for r in results]
    rows = [
        ("visits pushed (batches of 200)", [f"{r['visits']}" for r in results]),
        ("household members (roster)", [f"{r['members']}" if r["members"] else "-" for r in results]),
        ("push body, whole town (MB)", [f"{r['mb']:.1f}" for r in results]),
        ("rounds (medians below)", [f"{r['rounds']}" for r in results]),
        ("fieldapp push: whole town (s)", [f"{r['push_s']:.2f}" for r in results]),
        ("fieldapp push: whole town, best round (s)", [f"{r['best_push_s']:.2f}" for r in results]),
        ("fieldapp push: server CPU, both workers (s)", [f"{r['push_cpu_s']:.2f}" for r in results]),
        ("fieldapp push: visits/s", [f"{r['push_rate']:.0f}" for r in results]),
        ("insert-only endpoint: visits/s", [f"{r['raw_rate']:.0f}" for r in results]),
        ("ratio fieldapp / insert-only (same round)", [f"{r['ratio']:.2f}" for r in results]),
        ("replay (all already_received): visits/s", [f"{r['replay_rate']:.0f}" for r in results]),
        ("full pull of 500 households (s, median of 5)", [f"{r['pull_s']:.3f}" for r in results]),
        ("push statuses", [", ".join(f"{k} {v}" for k, v in sorted(r["counts"].items())) for r in results]),
    ]
    width = max(len(label) for label, _ in rows)
    cols = [max(len(n), *(len(v[i]) for _, v in rows)) for i, n in enumerate(names)]
    print(f"| {'':{width}} | " + " | ".join(f"{n:>{c}}" for n, c in zip(names, cols, strict=True)) + " |")
    print(f"|{'-' * (width + 2)}|" + "|".join("-" * (c + 2) for c in cols) + "|")
    for label, values in rows:
        print(f"| {label:{width}} | " + " | ".join(f"{v:>{c}}" for v, c in zip(values, cols, strict=True)) + " |")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve-insert-only":
        serve_insert_only(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--households", type=int, default=13_740)
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes for both servers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker, both servers")
    parser.add_argument("--rounds", type=int, default=3, help="rounds on fresh copies of the town (medians)")
    parser.add_argument("--form", choices=("2023.1", "2024.1", "both"), default="2023.1",
                        help="the campaign's form version; 2024.1 gives each household its members; "
                             "both runs the two side by side in each round")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    forms = ["2023.1", "2024.1"] if args.form == "both" else [args.form]
    results = [result for b in backends
               for result in run_backend(b, args.households, args.clients, args.workers, args.threads,
                                         args.rounds, forms)]
    print_table(results)


if __name__ == "__main__":
    main()
