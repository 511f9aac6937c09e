"""How long does importing 100,000 generated roster rows take? (target: under 30 s)

Generates a roster of N households (the demo town's generator run for as
many towns as needed, each with its own seed and ID region), writes
it as CSV (and XLSX with --xlsx), imports it into a fresh database and prints
a table: file size, rows, and the seconds (wall clock, and CPU time of this
process, which is what other load on a shared machine does not inflate) for
reading+checking+writing, and for a second import of the same file (which
must change nothing).

    python bench/roster_import.py [--rows 100000] [--postgres] [--xlsx]

The database is a temporary SQLite file, or a fresh schema on the local
PostgreSQL (FIELDAPP_TEST_POSTGRES_URL) with --postgres; both are removed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fieldapp import create_app  # noqa: E402
from fieldapp.demo.generator import generate_town  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.models import Household, HouseholdRevision  # noqa: E402
from fieldapp.roster import import_roster, write_roster  # noqa: E402
from sync.idnumber import make_id  # noqa: E402

PG_URL = os.environ.get("FIELDAPP_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


# A county's worth of towns: the demo town's generator run once per town, each
# with its own seed, town name and ID region, so codes and IDs stay distinct.
TOWNS = (("保安镇", "420281"), ("金山店镇", "420222"), ("还地桥镇", "420202"), ("殷祖镇", "420203"),
         ("刘仁八镇", "420204"), ("陈贵镇", "420205"), ("灵乡镇", "420221"), ("金牛镇", "420232"))


def roster_rows(count: int) -> list[dict[str, object]]:
    """``count`` roster rows over as many generated towns as needed."""
    rows: list[dict[str, object]] = []
    for copy, (town, region) in enumerate(TOWNS):
        for h in generate_town(2023 + copy):
            row = h.roster_row()
            row["town"] = town
            row["head_id"] = make_id(region, h.born, int(h.head_id[14:17]))
            rows.append(row)
            if len(rows) == count:
                return rows
    raise ValueError(f"at most {len(TOWNS) * 13_740} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="import into PostgreSQL instead of SQLite")
    parser.add_argument("--xlsx", action="store_true", help="also time the same rows as an XLSX file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        rows = roster_rows(args.rows)
        files = [write_roster(work / "roster.csv", rows)]
        if args.xlsx:
            files.append(write_roster(work / "roster.xlsx", rows))
        generated = time.perf_counter() - started
        print(f"generated {len(rows):,} rows in {generated:.1f} s", file=sys.stderr)
        table = [("file", "backend", "rows", "MB", "first import s", "(cpu s)", "re-import s", "(cpu s)",
                  "created", "unchanged")]
        for path in files:
            table.append(_run(path, work, args.postgres))
        widths = [max(len(str(r[i])) for r in table) for i in range(len(table[0]))]
        for row in table:
            print("  ".join(str(v).rjust(w) for v, w in zip(row, widths, strict=True)))


def _run(path: Path, work: Path, postgres: bool) -> tuple[object, ...]:
    schema = f"bench_roster_{os.getpid()}"
    if postgres:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"'))
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{work / f'bench-{path.suffix[1:]}.db'}"
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(work / "instance")})
    try:
        with app.app_context():
            db.create_all()
            started, cpu = time.perf_counter(), time.process_time()
            first = import_roster(path)
            first_s, first_cpu = time.perf_counter() - started, time.process_time() - cpu
            started, cpu = time.perf_counter(), time.process_time()
            second = import_roster(path)
            second_s, second_cpu = time.perf_counter() - started, time.process_time() - cpu
            count = db.session.scalar(sa.select(sa.func.count()).select_from(Household))
            revisions = db.session.scalar(sa.select(sa.func.count()).select_from(HouseholdRevision))
            assert first.imported and not first.errors, first.errors[:3]
            assert count == revisions == first.total_rows == first.created, (count, revisions)
            assert second.unchanged == first.total_rows and second.created == second.updated == 0
            db.session.remove()
            db.engine.dispose()
    finally:
        if postgres:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    size_mb = path.stat().st_size / 1e6
    return (path.suffix[1:], "postgresql" if postgres else "sqlite", f"{first.total_rows:,}", f"{size_mb:.1f}",
            f"{first_s:.1f}", f"{first_cpu:.1f}", f"{second_s:.1f}", f"{second_cpu:.1f}",
            f"{first.created:,}", f"{second.unchanged:,}")


if __name__ == "__main__":
    main()
