"""Dedup quality and speed: ``fieldapp dedup check`` on the development set and on 1M rows.

Usage::

    python bench/dedup.py                      # this tree and main, dev set (100k) and 1M rows
    python bench/dedup.py --sizes dev          # the dev set only (also: shifted, 1m)
    python bench/dedup.py --baseline none      # this tree only
    python bench/dedup.py --data DIR           # where roster_dev_100k.csv.gz, truth_dev_100k.csv.gz
                                               # and score.py are (default: shared/data/dedup-dev
                                               # beside the repository or one level up)

The development set (a roster with its duplicates, made outside this project) is
read from outside the repository and never copied into it. The 1M-row roster is
built in a temporary directory from the dev set: ten copies, each moved to a town
of its own (the villages, the ID numbers' region and the phones shifted so that
no two copies share a household, the errors of each record kept as they are),
with the truth shifted alike, so the 1M run is scored too. The shifted set is
the dev set with another duplicate rate: 60% of its duplicated households (a
fixed sample) keep only their first record.

Each run is ``python -m fieldapp dedup check ROSTER --out PAIRS`` in a child
process, timed from start to exit (reading the file, matching, writing the
pairs); the peak memory is that process's maximum RSS. CPU seconds are shown next
to wall seconds because the machine is shared and wall time depends on the
neighbours. The baseline is the same command on another revision (``git
archive`` of it into a temporary directory). Pairs are scored by the data set's
own ``score.py`` (pairs closed transitively).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_CANDIDATES = (ROOT.parent / "shared" / "data" / "dedup-dev", ROOT.parent.parent / "shared" / "data" / "dedup-dev")
COPIES = 10
MARKS = "甲乙丙丁戊己庚辛壬癸"  # one per copy: distinct sounds, so copies never read alike
CHECK_CHARS = "10X98765432"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
TOWN_ENDS = ("镇", "乡", "街道")


def find_data(given: str | None) -> Path | None:
    for path in ([Path(given)] if given else DATA_CANDIDATES):
        if (path / "roster_dev_100k.csv.gz").is_file():
            return path
    return None


# --- the 1M roster: copies of the dev set in towns of their own -----------------------

def _digit(ch: str) -> int | None:
    if "0" <= ch <= "9":
        return ord(ch) - 48
    if "０" <= ch <= "９":
        return ord(ch) - 0xFF10
    return None


def _with_digit(ch: str, value: int) -> str:
    return chr((0xFF10 if "０" <= ch <= "９" else 48) + value)


SHIFTED = (2, 3, 4)  # digits moved in a copy: three, so no copy is a typo of another


def shift_id(raw: str, copy: int) -> str:
    """Digits 3 to 5 (of the region code) moved by ``copy``, and the check character by
    what that does to the MOD 11-2 sum: a valid number stays valid, a typo stays the same
    typo of its copy's number, a garbled one stays garbled."""
    places = [i for i, ch in enumerate(raw) if _digit(ch) is not None or ch in "xXｘＸ"]
    if copy == 0 or len(places) < 6:
        return raw
    chars = list(raw)
    change = 0
    for position in SHIFTED:
        old = _digit(chars[places[position]])
        if old is None:
            return raw
        new = (old + copy) % 10
        chars[places[position]] = _with_digit(chars[places[position]], new)
        change += (new - old) * ID_WEIGHTS[position]
    if len(places) == 18:
        last = unicodedata.normalize("NFKC", chars[places[17]]).upper()
        if last in CHECK_CHARS:
            check = CHECK_CHARS[(CHECK_CHARS.index(last) + change) % 11]
            chars[places[17]] = "x" if check == "X" and chars[places[17]] in "xｘ" else check
    return "".join(chars)


def shift_phone(raw: str, copy: int) -> str:
    """The 8th to 6th digits from the end (a mobile's 4th to 6th, with or without +86)
    moved by ``copy`` (a slip in the phone stays a slip)."""
    places = [i for i, ch in enumerate(raw) if _digit(ch) is not None]
    if copy == 0 or len(places) < 8:
        return raw
    chars = list(raw)
    for place in places[-8:-5]:
        digit = _digit(chars[place])
        assert digit is not None
        chars[place] = _with_digit(chars[place], (digit + copy) % 10)
    return "".join(chars)


def shift_village(raw: str, copy: int) -> str:
    """The copy's mark put in front of the village's own name, after a town written in
    front of it (保安镇沼山村 → 保安镇甲沼山村), so the copy's spellings vary as the
    original's do."""
    if copy == 0 or not raw.strip():
        return raw
    cut = 0
    for end in TOWN_ENDS:
        at = raw.rfind(end)
        if 0 < at and len(raw) - at - len(end) >= 2:
            cut = max(cut, at + len(end))
    return raw[:cut] + MARKS[copy] + raw[cut:]


def write_copies(data: Path, roster_out: Path, truth_out: Path, copies: int = COPIES) -> int:
    def roster_row(row: list[str], col: dict[str, int], copy: int) -> None:
        row[col["id"]] = f"{row[col['id']]}-{copy}"
        row[col["乡镇"]] = f"{MARKS[copy]}安镇" if copy else row[col["乡镇"]]
        row[col["村"]] = shift_village(row[col["村"]], copy)
        row[col["户主身份证号"]] = shift_id(row[col["户主身份证号"]], copy)
        row[col["联系电话"]] = shift_phone(row[col["联系电话"]], copy)

    def truth_row(row: list[str], col: dict[str, int], copy: int) -> None:
        for name in ("record_id", "cluster_id", "family_id"):
            row[col[name]] = f"{row[col[name]]}-{copy}"
        row[col["true_village"]] = f"{MARKS[copy]}{row[col['true_village']]}"

    written = _copy_rows(data / "roster_dev_100k.csv.gz", roster_out, copies, roster_row)
    _copy_rows(data / "truth_dev_100k.csv.gz", truth_out, copies, truth_row)
    return written


def _copy_rows(source: Path, target: Path, copies: int, change: Callable[[list[str], dict[str, int], int], None],
               keep_row: Callable[[list[str], dict[str, int]], bool] = lambda row, col: True) -> int:
    with gzip.open(source, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    col = {name: i for i, name in enumerate(header)}
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for copy in range(copies):
            for row in rows:
                if keep_row(row, col):
                    out = list(row)
                    change(out, col, copy)
                    writer.writerow(out)
    return len(rows) * copies


def write_shifted(data: Path, roster_out: Path, truth_out: Path, keep: float = 0.4) -> None:
    """The dev set with fewer duplicates: a ``1 - keep`` share of the households written
    more than once (a seeded sample) keep only their first record."""
    with gzip.open(data / "truth_dev_100k.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        truth = list(csv.DictReader(handle))
    members: dict[str, list[str]] = {}
    for row in truth:
        members.setdefault(row["cluster_id"], []).append(row["record_id"])
    rng = random.Random(16)
    dropped = {record for cluster in sorted(members) if len(members[cluster]) > 1 and rng.random() >= keep
               for record in members[cluster][1:]}
    _copy_rows(data / "roster_dev_100k.csv.gz", roster_out, 1, lambda row, col, _copy: None,
               keep_row=lambda row, col: row[col["id"]] not in dropped)
    _copy_rows(data / "truth_dev_100k.csv.gz", truth_out, 1, lambda row, col, _copy: None,
               keep_row=lambda row, col: row[col["record_id"]] not in dropped)


def unzip(source: Path, target: Path) -> Path:
    with gzip.open(source, "rb") as src, target.open("wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return target


# --- running and scoring ---------------------------------------------------------------

def export_revision(rev: str, target: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    target.mkdir(parents=True)
    with tempfile.TemporaryFile() as handle:
        handle.write(archive)
        handle.seek(0)
        with tarfile.open(fileobj=handle) as tar:
            tar.extractall(target, filter="data")
    return target


def run_check(tree: Path, roster: Path, pairs: Path, work: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree), "FIELDAPP_SECRET_KEY": "bench",
           "FIELDAPP_DATABASE_URL": f"sqlite:///{work / 'bench.db'}", "FIELDAPP_INSTANCE_PATH": str(work)}
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "fieldapp", "dedup", "check", str(roster), "--out", str(pairs),
                              "--no-bom"], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    out, err = child.communicate()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"dedup check failed in {tree}:\n{out.decode()}\n{err.decode()[-2000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak": usage.ru_maxrss / 1024}


def score(data: Path, truth: Path, pairs: Path, work: Path) -> dict[str, object]:
    result = work / "score.json"
    subprocess.run([sys.executable, str(data / "score.py"), "--truth", str(truth), "--pairs", str(pairs),
                    "--json", str(result)], check=True, capture_output=True)
    loaded: dict[str, object] = json.loads(result.read_text(encoding="utf-8"))
    return loaded


def rows_of(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle) - 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", help="the dev set's directory")
    parser.add_argument("--baseline", default="main", help="revision to compare with ('none' to skip)")
    parser.add_argument("--sizes", nargs="+", default=["dev", "shifted", "1m"], choices=["dev", "shifted", "1m"])
    args = parser.parse_args()
    data = find_data(args.data)
    if data is None:
        raise SystemExit("dev set not found: pass --data DIR (roster_dev_100k.csv.gz, truth_dev_100k.csv.gz, score.py)")
    print(f"data {data}; {os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        work = Path(tmp)
        sets: dict[str, tuple[Path, Path]] = {}
        if "dev" in args.sizes:
            sets["dev"] = (unzip(data / "roster_dev_100k.csv.gz", work / "roster_dev.csv"),
                           unzip(data / "truth_dev_100k.csv.gz", work / "truth_dev.csv"))
        if "shifted" in args.sizes:
            sets["shifted"] = (work / "roster_shifted.csv", work / "truth_shifted.csv")
            write_shifted(data, *sets["shifted"])
        if "1m" in args.sizes:
            sets["1m"] = (work / "roster_1m.csv", work / "truth_1m.csv")
            write_copies(data, *sets["1m"])
        trees = {"this tree": ROOT}
        if args.baseline != "none":
            trees = {f"{args.baseline} (before)": export_revision(args.baseline, work / "baseline"), **trees}
        print("| engine | data | records | precision | recall | F1 | false merges | pairs | wall s | CPU s "
              "| peak MB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        tags: dict[str, dict[str, object]] = {}
        for name, (roster, truth) in sets.items():
            for engine, tree in trees.items():
                pairs = work / f"pairs-{name}.csv"
                measured = run_check(tree, roster, pairs, work)
                result = score(data, truth, pairs, work)
                if name == "dev":
                    tags[engine] = result["recall_by_tag"]  # type: ignore[assignment]
                print(f"| {engine} | {name} | {rows_of(roster):,} | {result['precision']:.4f} | {result['recall']:.4f} "
                      f"| {result['f1']:.4f} | {result['false_merges_distinct_id']} | {rows_of(pairs):,} "
                      f"| {measured['wall']:.1f} | {measured['cpu']:.1f} | {measured['peak']:,.0f} |", flush=True)
        if tags:
            print()
            print("Recall by error tag on the dev set:")
            print_tags(tags)


def print_tags(tags: dict[str, dict[str, object]]) -> None:
    """Recall by error tag, one column per run."""
    runs = list(tags)
    first = tags[runs[0]]
    print("| error tag | pairs | " + " | ".join(runs) + " |")
    print("|---|---|" + "---|" * len(runs))
    for tag, info in first.items():
        assert isinstance(info, dict)
        cells = []
        for run in runs:
            entry = tags[run].get(tag)
            cells.append(f"{entry['recall']:.2f}" if isinstance(entry, dict) else "")
        print(f"| {tag} | {info['pairs']:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
