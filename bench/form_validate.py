"""Benchmark: the visit-form validator, per record, against an earlier version of itself.

    python bench/form_validate.py [--records 2000] [--repeat 7] [--check 20000] [--reference 4fdb7b2]

Builds ``--records`` realistic visits of form 2023.1 the way bench/sync_push.py (bench/town_data.py)
does (a roster household's answers, incomes, risks, a signature PNG for
in-person visits) and times ``FormDefinition.validate`` on them, in
microseconds per record, for this checkout and for the validator at git
revision ``--reference`` (sync/form.py, expr.py, idnumber.py, normalize.py
and the form YAML read with ``git show`` into a temporary package; the
default is the last revision before the validator was compiled into
per-field plans). The same is timed on as many mutated visits (below). The
records are timed in chunks of 50, alternating between the two validators,
and each chunk's best of ``--repeat`` counts, as the machine may be shared.

Then checks that both answer identically on ``--check`` generated records,
most of them invalid: realistic visits with one to four answers replaced
(wrong types, numbers out of range or with three decimals, NaN and
infinities, negative numbers, bools for numbers, bad ID numbers and phones,
bad choices and dates, control characters, empty, blank and huge strings,
broken and oversized images), removed, or joined by unknown fields, and
answers that pass their own check but break a rule between fields, under
several campaign contexts. "Identical" means the same ``repr`` of values,
errors and flags (so key order, ``1`` against ``1.0`` and message text all
count), or the same exception type and message. Prints one table and the
count; exits 1 on a difference. Not part of the test run.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import importlib
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.town_data import roster, signature_png, visit_data  # noqa: E402
from sync import form as current  # noqa: E402

REFERENCE = "4fdb7b2"  # before the per-field plans and generated expression code
MODULES = ("expr", "idnumber", "normalize", "form")
CONTEXTS = [
    {"monitoring_line": 7600.0, "start": dt.date(2023, 10, 1), "end": dt.date(2023, 12, 31),
     "today": dt.date(2023, 11, 1)},
    {"monitoring_line": 7600.0, "start": dt.date(2023, 10, 1), "end": dt.date(2023, 10, 20),
     "today": dt.date(2023, 10, 15)},
    {"monitoring_line": 12000, "start": None, "end": None, "today": dt.date(2024, 3, 1)},
    {"monitoring_line": 0.0, "start": dt.date(2023, 10, 1), "end": None, "today": dt.date(1990, 1, 1)},
]


# -- the reference ------------------------------------------------------------


def load_reference(revision: str, directory: Path) -> ModuleType:
    """``sync.form`` as it was at ``revision``, imported as ``reference_sync.form``."""
    package = directory / "reference_sync"
    (package / "forms").mkdir(parents=True)
    (package / "__init__.py").write_text("")

    def show(path: str) -> str:
        return subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout

    for name in MODULES:
        source = show(f"sync/{name}.py")
        for other in MODULES:
            source = source.replace(f"from sync.{other} import", f"from reference_sync.{other} import")
        (package / f"{name}.py").write_text(source)
    for path in show_tree(revision, "sync/forms"):
        (package / "forms" / Path(path).name).write_text(show(path))
    sys.path.insert(0, str(directory))
    return importlib.import_module("reference_sync.form")


def show_tree(revision: str, folder: str) -> list[str]:
    listing = subprocess.run(["git", "ls-tree", "--name-only", f"{revision}:{folder}"], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout
    return [f"{folder}/{name}" for name in listing.split()]


# -- records ------------------------------------------------------------------


def realistic(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    signature = signature_png(rng)
    return [visit_data(h, rng, signature) for h in roster(count, rng)]


def png(size: int, rng: random.Random) -> str:
    body = b"\x89PNG\r\n\x1a\n" + rng.randbytes(size)
    return "data:image/png;base64," + base64.b64encode(body).decode()


def wrong_values(rng: random.Random) -> list[Any]:
    """Answers that are wrong for most fields, and a few that are right for some."""
    return [
        None, "", "   ", "\t\n", [], {}, [""], True, False, 0, -1, -0.0, 1, 3, 21, 2.5, 1.005, 12.345,
        99.999, 10**7, 10**7 + 1, 50001, 2**53 + 1, -(2**60), 10**400, 1e307, float("nan"),
        float("inf"), float("-inf"), "4", "abc", "a" * 25, "王" * 600, "x" * 1500, "王\x00建国",
        "王建国\n", "王建国\r", "说明\t\x7f", "王 建 国", "劉德華", "阿卜杜•热合曼", "Wang1", "王",
        "420281197005010021", "420281197005010022", "42028119700501002", "4202811970050100xx",
        "420281202512010023", "420281197002300021", "4.20281E+17", "420281197005010000.0",
        "４２０２８１１９７００５０１００２１", "420281 19700501 0021", 420281197005010021,
        "13800138000", "+86 138 0013 8000", "0714-1234567", "07141234567", "12345", "１３８００１３８０００",
        "3组", "三组", "第十二村民小组", "新村组", "3队", "\x013组", "组" * 30, "2023-10-12",
        "2023-02-30", "2023-10-12\n", "2023-13-01", "20231012", "２０２３-10-12", "2099-01-01",
        "1990-05-05", "2023-11-02", "2023-11-03", "general", "lifted", "poor", "none", "unstable",
        "marginal", "hardship", "C", "D", "no_risk", "suggest_monitor", "continue_monitor",
        "suggest_eliminate", "in_person", "phone", "wechat", "self", "child", ["quantity"],
        ["quantity", "quality", "quantity"], ["bogus"], [1], ["illness", "schooling", "disability",
        "disaster", "accident", "other"], ["housing", "water", "illness", "schooling"],
        "data:image/png;base64,", "data:image/png;base64,!!!!", "data:image/png;base64,QUJD",
        "data:image/png;base64,QUJ", "data:image/jpeg;base64,QUJD", png(64, rng), png(210 * 1024, rng),
        png(64, rng)[:-4] + " " + png(64, rng)[-3:], png(64, rng) + "\n",
    ]


def mutated(records: list[dict[str, Any]], field_ids: list[str], count: int,
            seed: int) -> Iterator[dict[str, Any]]:
    """Realistic records with one to four answers replaced, removed or added."""
    rng = random.Random(seed)
    wrong = wrong_values(rng)
    for n in range(count):
        data = dict(records[n % len(records)])
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            kind = rng.random()
            name = rng.choice(field_ids)
            if kind < 0.7:
                data[name] = rng.choice(wrong)
            elif kind < 0.8:
                data.pop(name, None)
            elif kind < 0.85:
                data[rng.choice(("unknown", "net_income", "below_10k", "", "HEAD_NAME", 1))] = rng.choice(wrong)
            else:
                data.update(relation_case(rng))
        yield data


def relation_case(rng: random.Random) -> dict[str, Any]:
    """Answers that pass their own type check but break a rule between fields."""
    return rng.choice([
        {"monitor_type": "unstable", "category": "general"},
        {"monitor_type": "marginal", "category": "general", "risk_eliminated": None},
        {"monitor_type": "hardship", "risk_eliminated": False, "conclusion": "suggest_eliminate"},
        {"monitor_type": "none", "conclusion": "continue_monitor"},
        {"monitor_type": "none", "risk_eliminated": True},
        {"labor_count": 9, "size": 3}, {"work_out_province": 3, "work_in_city": 2, "size": 4},
        {"housing_unsafe": True}, {"housing_unsafe": True, "housing_grade": "C", "risk_types": ["housing"]},
        {"housing_unsafe": False, "housing_grade": "D"}, {"school_dropout": True, "dropout_count": 2},
        {"school_dropout": False, "dropout_count": 1}, {"water_unsafe": True, "water_issues": []},
        {"water_unsafe": True, "water_issues": ["access"], "risk_types": ["water"], "risk_note": "井水"},
        {"food_clothing_ok": False}, {"medical_uninsured": True, "risk_types": ["illness"]},
        {"serious_illness": True, "out_of_pocket": None}, {"risk_types": ["other"], "risk_note": None},
        {"visit_method": "in_person", "signature": None}, {"size": None, "income_wage": 10**6},
        {"income_wage": 0, "income_business": 0, "income_transfer": 0, "income_property": 0},
        {"business_cost": 9_000_000, "size": 1}, {"insurance_payout": 5000.5, "out_of_pocket": 20000},
    ])


# -- comparing and timing -------------------------------------------------------


def outcome(form: Any, data: dict[str, Any], context: Any) -> tuple[str, bool]:
    """The validation as text, and whether the record passed."""
    try:
        result = form.validate(data, context)
    except Exception as exc:  # noqa: BLE001 - an exception is an answer to compare too
        return f"raised {type(exc).__name__}: {exc}", False
    return repr((result.values, result.errors, result.flags)), not result.errors


def quietly(validate: Callable[..., Any], data: dict[str, Any], context: Any) -> Any:
    try:
        return validate(data, context)
    except Exception:  # noqa: BLE001 - a few generated records make both validators raise
        return None


def compare(reference: ModuleType, records: list[dict[str, Any]], count: int,
            seed: int) -> tuple[int, int, int, list[str]]:
    """(records checked, of which invalid or raising, differences, first differences)."""
    new_form, old_form = current.load_form("2023.1"), reference.load_form("2023.1")
    contexts = [(current.FormContext(**c), reference.FormContext(**c)) for c in CONTEXTS]
    field_ids = [f.id for f in new_form.fields]
    checked = invalid = 0
    differences: list[str] = []
    for n, data in enumerate(mutated(records, field_ids, count, seed)):
        new_context, old_context = contexts[n % len(contexts)]
        (new, _), (old, passed) = outcome(new_form, data, new_context), outcome(old_form, data, old_context)
        checked += 1
        invalid += not passed
        if new != old:
            differences.append(f"{data!r}\n  now:    {new[:300]}\n  before: {old[:300]}")
    return checked, invalid, len(differences), differences[:3]


def best_times(validators: dict[str, Callable[[dict[str, Any]], Any]], records: list[dict[str, Any]],
               repeat: int, chunk: int = 50) -> dict[str, float]:
    """Microseconds per record: the records are timed in chunks, each chunk
    ``repeat`` times per validator, alternating between validators, and the
    best time of each chunk counts. On a shared machine a slower spell then
    spoils a few samples, not one validator's whole run."""
    chunks = [records[i:i + chunk] for i in range(0, len(records), chunk)]
    best = {name: [float("inf")] * len(chunks) for name in validators}
    for _ in range(repeat):
        for index, part in enumerate(chunks):
            for name, validate in validators.items():
                started = time.perf_counter()
                for data in part:
                    validate(data)
                best[name][index] = min(best[name][index], time.perf_counter() - started)
    return {name: sum(times) / len(records) * 1e6 for name, times in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--check", type=int, default=20000, help="generated records to compare (0: none)")
    parser.add_argument("--reference", default=REFERENCE, help="git revision to compare with")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    records = realistic(args.records, args.seed)
    mixed = list(mutated(records, [f.id for f in current.load_form("2023.1").fields], args.records,
                         args.seed))
    with tempfile.TemporaryDirectory() as directory:
        reference = load_reference(args.reference, Path(directory))
        forms = {"this checkout": (current.load_form("2023.1"), current.FormContext(**CONTEXTS[0])),
                 f"reference {args.reference}": (reference.load_form("2023.1"),
                                                 reference.FormContext(**CONTEXTS[0]))}
        signed = [r["signature"] for r in records if "signature" in r]
        print(f"{len(records):,} realistic visits ({len(signed):,} with a {len(signed[0]):,}-character "
              f"signature); best of {args.repeat}")
        print()
        validators = {name: partial(quietly, form.validate, context=context)
                      for name, (form, context) in forms.items()}
        realistic_times = best_times(validators, records, args.repeat)
        mutated_times = best_times(validators, mixed, args.repeat)
        print("| validator | realistic visits µs/record | mutated visits µs/record |")
        print("|---|---|---|")
        for name in forms:
            print(f"| {name} | {realistic_times[name]:.1f} | {mutated_times[name]:.1f} |")
        now, before = forms
        print(f"| speed-up | {realistic_times[before] / realistic_times[now]:.2f}x "
              f"| {mutated_times[before] / mutated_times[now]:.2f}x |")
        if args.check:
            checked, invalid, different, examples = compare(reference, records, args.check, args.seed + 1)
            print()
            print(f"identical on {checked - different:,} of {checked:,} generated records "
                  f"({invalid:,} of them invalid or raising)")
            for example in examples:
                print(example)
            if different:
                sys.exit(1)


if __name__ == "__main__":
    main()
