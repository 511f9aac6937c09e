"""Time the progress-dashboard queries at 1M households and 1M visits, on SQLite and PostgreSQL.

The dashboard reads the report rollup (fieldapp/reports/rollup.py). Its first
build is timed separately (a one-off, like building an index); then an
incremental refresh after 1,000 new visits (numbered from the pull sequence and
bumping their households, as a push does), and the queries, each of which
includes its refresh with nothing new. At the end the incrementally kept rollup
is compared with a rebuild from scratch.

    python bench/reports.py [--households 1000000] [--visits 1000000] [--backend sqlite|postgres|both]

Synthetic rows are bulk-inserted (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) into a SQLite file in a temporary directory and into a dedicated
PostgreSQL schema; both are removed at the end, whatever happens. Prints one
table: rows, load time, and the best and median of several runs of each query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldapp.db.changes import next_change  # noqa: E402
from fieldapp.db.engine import begin_write  # noqa: E402
from fieldapp.models import Base, ChangeCounter, Household, Visit  # noqa: E402
from fieldapp.reports import queries, rollup  # noqa: E402

PG_URL = os.environ.get("FIELDAPP_BENCH_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
CAMPAIGN = "bench-2023"
VILLAGES = 300
WORKERS = 600
RUNS = 3
NEW_VISITS = 1000
START = dt.date(2023, 10, 1)
NOW = dt.datetime(2023, 10, 1, tzinfo=dt.UTC).isoformat()
STATUS_WEIGHTS = (("pending", 40), ("approved", 50), ("returned", 6), ("superseded", 4))
CONCLUSIONS = ("no_risk",) * 95 + ("suggest_monitor",) * 3 + ("suggest_eliminate",) * 2

HOUSEHOLD_COLUMNS = ("id", "code", "town_id", "village_id", "group", "head_name", "head_id", "size",
                     "category", "monitor_type", "risk_eliminated", "head_pinyin", "head_initials",
                     "source", "rev", "merged_into_id", "change_seq", "created_at", "updated_at")
VISIT_COLUMNS = ("uuid", "campaign_id", "household_id", "village_id", "worker_id", "device_id",
                 "batch_id", "form_version", "visited_on", "received_at", "server_seq", "data",
                 "sync_status", "review_status", "change_seq", "conclusion", "below_monitoring_line",
                 "below_10k", "guarantee_gap", "needs_attention")


def household_rows(count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Households spread over the villages; 0.5% merged into the previous one, 0.3% found in the field."""
    previous = None
    for n in range(count):
        hid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        village = n % VILLAGES + 1
        lifted = rng.random() < 0.05
        monitor = "none" if rng.random() > 0.003 else ("unstable" if lifted else "marginal")
        merged = previous if previous and rng.random() < 0.005 else None
        source = "field" if rng.random() < 0.003 else "roster"
        yield (hid, f"H{n:08d}", 1, village, f"{n % 12 + 1}组", "王建国", f"{n:018d}", rng.randint(1, 7),
               "lifted" if lifted else "general", monitor, None if monitor == "none" else False,
               "wangjianguo", "wjg", source, 1, merged, 0, NOW, NOW)
        previous = hid if merged is None else previous


def visit_rows(households: list[tuple[str, int]], count: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    statuses = [s for s, weight in STATUS_WEIGHTS for _ in range(weight)]
    for n in range(count):
        # 90% of the visits go to distinct households, the rest revisit one.
        hid, village = households[n if n < len(households) * 0.9 else rng.randrange(len(households))]
        below = rng.random() < 0.02
        yield (str(uuid.UUID(int=rng.getrandbits(128), version=4)), CAMPAIGN, hid, village,
               rng.randrange(WORKERS) + 1, "bench", "bench", "2023.1",
               (START + dt.timedelta(days=rng.randrange(60))).isoformat(), NOW, n + 1, "{}",
               "accepted", rng.choice(statuses), 0, rng.choice(CONCLUSIONS), below,
               below or rng.random() < 0.05, rng.random() < 0.01, below and rng.random() < 0.3)


def _seed_reference_rows(conn: sa.Connection) -> None:
    conn.execute(sa.text("INSERT INTO towns (id, name) VALUES (1, '保安镇')"))
    conn.execute(sa.text("INSERT INTO villages (id, town_id, name, code, kind) VALUES (:id, 1, :name, :code, 'village')"),
                 [{"id": i, "name": f"村{i:03d}", "code": f"420281101{i:03d}"} for i in range(1, VILLAGES + 1)])
    conn.execute(sa.text("INSERT INTO users (id, uid, username, display_name, password_hash, role, active, created_at) "
                         "VALUES (:id, :uid, :u, :u, 'x', 'worker', true, :now)"),
                 [{"id": i, "uid": f"bench-w{i}", "u": f"w{i}", "now": NOW} for i in range(1, WORKERS + 1)])
    conn.execute(sa.text("INSERT INTO campaigns (id, name, start_date, end_date, form_version, monitoring_line, "
                         "active, closed, created_at) VALUES (:id, 'bench', '2023-10-01', '2023-12-31', "
                         "'2023.1', 7600, true, false, :now)"), {"id": CAMPAIGN, "now": NOW})


def _big_indexes() -> list[sa.Index]:
    return [index for name in ("households", "visits") for index in Base.metadata.tables[name].indexes]


def _bulk_load(engine: sa.Engine, n_households: int, n_visits: int, *, sqlite: bool) -> None:
    """Rows first, then the indexes (building an index once is far faster than keeping it up).
    SQLite takes the rows by ``executemany`` with its safety off; PostgreSQL by COPY."""
    rng = random.Random(7)
    with engine.begin() as conn:
        _seed_reference_rows(conn)
        for index in _big_indexes():
            index.drop(conn)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            for pragma in ("synchronous = OFF", "journal_mode = OFF", "cache_size = -500000"):
                cursor.execute(f"PRAGMA {pragma}")
        write = _executemany if sqlite else _copy
        households = list(household_rows(n_households, rng))
        write(cursor, "households", HOUSEHOLD_COLUMNS, households)
        alive = [(row[0], row[3]) for row in households if row[15] is None]
        del households
        write(cursor, "visits", VISIT_COLUMNS, visit_rows(alive, n_visits, rng))
        raw.commit()
        for index in _big_indexes():
            cursor.execute(str(sa.schema.CreateIndex(index).compile(engine)))
        if sqlite:
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def load_sqlite(engine: sa.Engine, n_households: int, n_visits: int) -> None:
    _bulk_load(engine, n_households, n_visits, sqlite=True)


def load_postgres(engine: sa.Engine, n_households: int, n_visits: int) -> None:
    _bulk_load(engine, n_households, n_visits, sqlite=False)


def _executemany(cursor: Any, table: str, columns: tuple[str, ...], rows: Any) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    cursor.executemany(f'INSERT INTO {table} ({names}) VALUES ({", ".join("?" for _ in columns)})', rows)


def _copy(cursor: Any, table: str, columns: tuple[str, ...], rows: Any) -> None:
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def add_visits(session: Session, rng: random.Random, n_households: int) -> None:
    """``NEW_VISITS`` visits to random households, numbered like a push (visits, then their households)."""
    codes = [f"H{rng.randrange(n_households):08d}" for _ in range(NEW_VISITS)]
    found = session.execute(sa.select(Household.id, Household.village_id).where(
        Household.town_id == 1, Household.code.in_(codes), Household.merged_into_id.is_(None))).all()
    households = sorted({hid for hid, _ in found})
    begin_write(session)
    seq = next_change(session, len(found) + len(households))
    rows = []
    for n, (hid, village) in enumerate(found):
        row = dict(zip(VISIT_COLUMNS, next(visit_rows([(hid, village)], 1, rng)), strict=True))
        row.update(server_seq=seq + n, change_seq=seq + n, data={},
                   visited_on=dt.date.fromisoformat(row["visited_on"]),
                   received_at=dt.datetime.fromisoformat(row["received_at"]))
        rows.append(row)
    visits = Base.metadata.tables["visits"]
    session.execute(visits.insert(), rows)
    first = seq + len(found)
    session.execute(sa.update(Household.__table__).where(Household.__table__.c.id == sa.bindparam("b_id"))
                    .values(change_seq=sa.bindparam("b_seq")),
                    [{"b_id": hid, "b_seq": first + n} for n, hid in enumerate(households)])
    session.commit()


def time_queries(engine: sa.Engine, n_households: int, vacuum: Callable[[], None]) -> dict[str, tuple[float, float]]:
    """Seconds (best, median of RUNS) of the rollup build, the incremental refresh and each dashboard query."""
    cases: dict[str, Callable[[Session], Any]] = {
        "refresh (nothing new)": lambda s: rollup.refresh(s, CAMPAIGN),
        "progress_by_village (all)": lambda s: queries.progress_by_village(s, CAMPAIGN),
        "progress_by_village (1 village)": lambda s: queries.progress_by_village(s, CAMPAIGN, [1]),
        "progress_by_worker (all)": lambda s: queries.progress_by_worker(s, CAMPAIGN),
        "follow_up below_monitoring_line": lambda s: queries.follow_up(s, CAMPAIGN, "below_monitoring_line"),
        "visits_per_day (all)": lambda s: queries.visits_per_day(s, CAMPAIGN),
    }
    results = {}
    rng = random.Random(11)
    with Session(engine) as session:
        # Loaded rows carry no change numbers; the counter starts past them (and past their
        # server_seq, unique in a live database: the rollup's "latest visit" relies on it).
        loaded = session.scalar(sa.select(sa.func.max(Visit.server_seq))) or 0
        session.add(ChangeCounter(name="pull", value=int(loaded) + 1))
        session.commit()
        started = time.perf_counter()
        built = rollup.rebuild(session, CAMPAIGN)
        build = time.perf_counter() - started
        results[f"rollup build ({built.households:,} rows, once)"] = (build, build)
        print(f"  rollup built in {build:.1f} s", file=sys.stderr)
        vacuum()
        timings = []
        for _ in range(RUNS):
            add_visits(session, rng, n_households)
            started = time.perf_counter()
            done = rollup.refresh(session, CAMPAIGN)
            timings.append(time.perf_counter() - started)
            assert not done.full and done.households > 0, done
        results[f"refresh after {NEW_VISITS:,} new visits"] = (min(timings), statistics.median(timings))
        for name, run in cases.items():
            timings = []
            for _ in range(RUNS):
                started = time.perf_counter()
                run(session)
                timings.append(time.perf_counter() - started)
                session.rollback()
            results[name] = (min(timings), statistics.median(timings))
        kept = queries.progress_by_village(session, CAMPAIGN).to_dict()
        rollup.rebuild(session, CAMPAIGN)
        rebuilt = queries.progress_by_village(session, CAMPAIGN).to_dict()
        totals = rebuilt["totals"]
        print(f"  totals: households={totals['households']} visited={totals['visited']} "
              f"approved={totals['approved']} below_line={totals['below_monitoring_line']}; "
              f"incremental == rebuilt: {kept == rebuilt}", file=sys.stderr)
        if kept != rebuilt:
            raise SystemExit(f"the incrementally kept rollup differs from a rebuild: {_difference(kept, rebuilt)}")
    return results


def _difference(kept: Any, rebuilt: Any, where: str = "") -> str:
    """The first place two report dicts differ, for the message."""
    if isinstance(kept, dict) and isinstance(rebuilt, dict):
        for key in sorted(set(kept) | set(rebuilt), key=str):
            if kept.get(key) != rebuilt.get(key):
                return _difference(kept.get(key), rebuilt.get(key), f"{where}.{key}")
    if isinstance(kept, list) and isinstance(rebuilt, list) and len(kept) == len(rebuilt):
        for n, (a, b) in enumerate(zip(kept, rebuilt, strict=True)):
            if a != b:
                return _difference(a, b, f"{where}[{n}]")
    return f"{where}: kept {kept!r}, rebuilt {rebuilt!r}"


def bench_sqlite(n_households: int, n_visits: int) -> tuple[float, dict[str, tuple[float, float]]]:
    folder = tempfile.mkdtemp(prefix="fieldapp-bench-")
    engine = sa.create_engine(f"sqlite:///{folder}/bench.db")
    try:
        Base.metadata.create_all(engine)
        started = time.perf_counter()
        load_sqlite(engine, n_households, n_visits)
        load = time.perf_counter() - started
        return load, time_queries(engine, n_households, lambda: None)
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def bench_postgres(n_households: int, n_visits: int) -> tuple[float, dict[str, tuple[float, float]]]:
    schema = f"bench_reports_{os.getpid()}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    engine = sa.create_engine(f"{PG_URL}{separator}options=-csearch_path%3D{schema}")
    try:
        Base.metadata.create_all(engine)
        started = time.perf_counter()
        load_postgres(engine, n_households, n_visits)
        with admin.connect() as conn:  # VACUUM: the visibility map that index-only scans need
            for table in ("households", "visits"):
                conn.execute(sa.text(f'VACUUM ANALYZE "{schema}".{table}'))
        load = time.perf_counter() - started

        def vacuum() -> None:  # what autovacuum does soon after a big write: index-only scans need it
            with admin.connect() as conn:
                conn.execute(sa.text(f'VACUUM ANALYZE "{schema}".household_progress'))
                conn.execute(sa.text(f'VACUUM ANALYZE "{schema}".worker_progress'))

        return load, time_queries(engine, n_households, vacuum)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    # Killed (timeout, Ctrl-C): unwind through the finally blocks that remove the data.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    backends = {"sqlite": bench_sqlite, "postgres": bench_postgres}
    chosen = list(backends) if args.backend == "both" else [args.backend]
    print(f"{args.households:,} households, {args.visits:,} visits, {VILLAGES} villages, {WORKERS} workers; "
          f"best and median of {RUNS} runs\n", flush=True)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print("| backend  | step                                    | load (s) | best (s) | median (s) | < 1 s |")
    print("|----------|-----------------------------------------|---------:|---------:|-----------:|:-----:|", flush=True)
    for name in chosen:
        print(f"loading {args.households:,} households and {args.visits:,} visits into {name} ...", file=sys.stderr)
        load, results = backends[name](args.households, args.visits)
        for query, (best, median) in results.items():
            target = "n/a" if "once" in query else ("yes" if median < 1 else "NO")
            print(f"| {name:<8} | {query:<39} | {load:8.1f} | {best:8.3f} | {median:10.3f} | "
                  f"{target:^5} |", flush=True)
        print(f"load average after {name}: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
