"""Benchmark: ``fieldapp dedup run`` with household members, on a town-sized database.

    python bench/dedup_members.py [--backend sqlite|postgres|both] [--households 13740]
                                  [--splits 0.01] [--rounds 3]

Builds a town (30 villages, ``--households`` roster households, each with 2–6
members as ``bench/sync_push.py --form 2024.1`` makes them: 本人 with the head's
ID, a spouse, children, parents…), then lets ``--splits`` of the households
split: one grown member (a child or the spouse) heads a household of their own
in the same village, under their own ID number, another name, group and phone
(what the members rule is for; the householders' comparison cannot see it).

Times, median of ``--rounds``:

- the members step alone: the query of the members whose ID number heads a live
  household (:func:`fieldapp.dedup_service.load_member_ids`) and the join in
  Python (:func:`sync.dedup.members.with_member_pairs`);
- the whole ``dedup run`` (:func:`fieldapp.dedup_service.run_bulk`: reading the
  households, matching, the members step, writing the candidates);

and checks that every split was proposed with the member evidence. Prints one
table. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.sync_push import PG_URL  # noqa: E402
from bench.town_data import add_town, household_rows, roster, with_members  # noqa: E402


@contextmanager
def database(backend: str, folder: Path) -> Iterator[str]:
    """A SQLite file in ``folder``, or a PostgreSQL schema of its own, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder}/bench.db"
        return
    schema = f"bench_dedup_members_{os.getpid()}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def build(database_url: str, instance: Path, households: int, splits: float, seed: int = 11) -> Any:
    """The town's schema and rows; returns the app and the split households' (parent, child) ids."""
    from fieldapp import create_app
    from fieldapp.extensions import db
    from fieldapp.households import write_members
    from fieldapp.models import Household

    rng = random.Random(seed)
    app = create_app({"DATABASE_URL": database_url, "INSTANCE_PATH": str(instance), "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        town, villages = add_town(db.session, "2024-jzpc", 2024, "2024.1")
        rows = roster(households, rng)
        with_members(rows, rng)
        ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in rows]
        split_pairs: list[tuple[str, str]] = []
        new_rows: list[tuple[str, dict[str, Any]]] = []
        for hid, r in zip(ids, rows, strict=True):
            grown = [m for m in r["members"] if m["relation"] in ("child", "spouse")]
            if grown and rng.random() < splits:
                m = rng.choice(grown)
                new_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                new_rows.append((new_id, {**r, "code": f"S{len(new_rows):06d}", "head_name": m["name"],
                                          "head_id": m["id_number"], "group": f"{rng.randrange(1, 12)}组",
                                          "phone": f"139{rng.randrange(10**7, 10**8)}", "size": 2,
                                          "labor_count": 1, "members": []}))
                split_pairs.append((hid, new_id))
        everything = list(zip(ids, rows, strict=True)) + new_rows
        db.session.execute(sa.insert(Household), household_rows(everything, town, villages))
        write_members(db.session, {hid: r["members"] for hid, r in zip(ids, rows, strict=True)},
                      dt.datetime.now(dt.UTC), source="roster")
        db.session.commit()
        members = sum(len(r["members"]) for r in rows)
        db.session.remove()
    return app, split_pairs, len(everything), members


def measure(app: Any, split_pairs: list[tuple[str, str]], rounds: int) -> dict[str, Any]:
    from fieldapp.dedup_service import load_member_ids, load_records, run_bulk
    from fieldapp.extensions import db
    from fieldapp.models import DuplicateCandidate
    from sync.dedup.members import with_member_pairs

    loads, joins, runs = [], [], []
    with app.app_context():
        session = db.session()
        records = load_records(session)
        for _ in range(rounds):
            started = time.perf_counter()
            rows = load_member_ids(session)
            loads.append(time.perf_counter() - started)
            started = time.perf_counter()
            added = with_member_pairs([], records, rows)
            joins.append(time.perf_counter() - started)
            session.rollback()
        for _ in range(rounds):
            db.session.execute(sa.delete(DuplicateCandidate))
            db.session.commit()
            result = run_bulk(db.session())
            runs.append(result.seconds)
        stored = {(c.household_a_id, c.household_b_id): c.evidence
                  for c in db.session.scalars(sa.select(DuplicateCandidate))}
        found = sum(1 for a, b in split_pairs
                    if any(e.startswith("新户主是已有户的家庭成员") for e in stored.get(tuple(sorted((a, b))), ())))
        db.session.remove()
        db.engine.dispose()
    return {"rows": len(rows), "member_pairs": len(added), "splits_found": found,
            "load_ms": statistics.median(loads) * 1000, "join_ms": statistics.median(joins) * 1000,
            "run_s": statistics.median(runs), "pairs": result.pairs, "members_stored": result.members}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--households", type=int, default=13_740)
    parser.add_argument("--splits", type=float, default=0.01)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    lines = []
    for backend in backends:
        with tempfile.TemporaryDirectory() as folder, database(backend, Path(folder)) as url:
            app, split_pairs, households, members = build(url, Path(folder), args.households, args.splits)
            m = measure(app, split_pairs, args.rounds)
        lines.append(f"| {backend} | {households:,} | {members:,} | {m['rows']:,} | {len(split_pairs)} "
                     f"| {m['splits_found']} | {m['load_ms']:.1f} | {m['join_ms']:.1f} | {m['run_s']:.2f} "
                     f"| {m['pairs']} ({m['members_stored']} through members) |")
    print("| backend | households | members | members (not 本人) heading a household | splits | proposed with the "
          "member evidence | members query (ms) | join in Python (ms) | whole `dedup run` (s) | pairs stored |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
