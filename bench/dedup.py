"""Dedup quality and speed on seeded synthetic rosters: prints a table.

Usage::

    python bench/dedup.py                       # 10k, 100k, 1M on the report seed (2)
    python bench/dedup.py --sizes 10000 100000 --seed 1   # the tuning seed

Each size runs in its own child process so that the peak memory (maxrss) is
that run's alone. Time is the bulk run only (prepare, block, score), not the
generation of the data; CPU seconds are shown next to wall seconds because
the machine is shared and wall time depends on the neighbours. Peak RSS
includes the generated records held in memory, as a real run holds the
loaded households.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sync.dedup import BulkStats, find_duplicates  # noqa: E402
from tests.dedup.quality import evaluate  # noqa: E402
from tests.dedup.synth import generate  # noqa: E402

REPORT_SEED = 2
TUNING_SEED = 1


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(size: int, seed: int) -> dict[str, object]:
    started = time.perf_counter()
    data = generate(size, seed)
    generated = time.perf_counter() - started
    rss_before = _rss_mb()
    stats = BulkStats()
    wall, cpu = time.perf_counter(), time.process_time()
    pairs = find_duplicates(data.records, reference_year=2023, stats=stats)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    q = evaluate(data, pairs)
    return {
        "size": size, "seed": seed, "records": len(data.records), "true_pairs": q.true_pairs,
        "proposed": q.proposed, "precision": q.precision, "recall": q.recall, "f1": q.f1,
        "false_merges": q.false_merges_distinct_valid,
        "hard_negatives": sum(q.hard_negatives_proposed.values()),
        "hard_negative_pairs": len(data.hard_negatives),
        "missed": dict(q.missed_by_kind), "scored": stats.pairs_scored, "queries": stats.queries,
        "wall": wall, "cpu": cpu, "generate": generated, "rss_before": rss_before, "peak": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=REPORT_SEED)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.seed)))
        return

    print(f"seed {args.seed} ({'tuning' if args.seed == TUNING_SEED else 'report'} seed); "
          f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
    header = ("| records | true pairs | proposed | precision | recall | F1 | false merges (distinct valid IDs) "
              "| hard negatives proposed | pairs scored | time (wall s) | CPU s | peak RSS (MB) |")
    print(header)
    print("|" + "|".join("---" for _ in range(12)) + "|")
    results = []
    for size in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(size), "--seed", str(args.seed)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out)
        results.append(r)
        print(f"| {r['records']:,} | {r['true_pairs']:,} | {r['proposed']:,} | {r['precision']:.4f} "
              f"| {r['recall']:.4f} | {r['f1']:.4f} | {r['false_merges']} "
              f"| {r['hard_negatives']} of {r['hard_negative_pairs']:,} | {r['scored']:,} "
              f"| {r['wall']:.1f} | {r['cpu']:.1f} | {r['peak']:,.0f} |", flush=True)
    print()
    for r in results:
        print(f"{r['records']:,} records: missed pairs by error kind {r['missed']}; "
              f"generation {r['generate']:.1f} s (not timed); RSS before matching {r['rss_before']:,.0f} MB")


if __name__ == "__main__":
    main()
