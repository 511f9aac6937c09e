"""Review pages at town scale (SQLite): prints a table of response times.

Usage::

    python bench/review_pages.py                    # 14,000 households, 1,400 batches of 10 visits
    python bench/review_pages.py --households 3000 --batches 300

Seeds one temporary SQLite database (one village holding every household, so
the supervisor's scope is the whole town and no filter makes the lists
small), then times each page through the Flask test client with CSRF on:
the median and the worst of ``--repeat`` runs. Writes (approve/return) are
timed on distinct visits each run. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fieldapp import create_app  # noqa: E402
from fieldapp.extensions import db  # noqa: E402
from fieldapp.models import (  # noqa: E402
    Conflict,
    DuplicateCandidate,
    Household,
    HouseholdRevision,
    SyncBatch,
    Visit,
    new_uuid,
)
from sync.form import FormContext, load_form  # noqa: E402
from sync.normalize import name_pinyin  # noqa: E402
from tests import factories  # noqa: E402

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
SURNAMES = "李张王刘陈柯尹邓陶石黄吴"
GIVEN = "建国伟秀英友明桂兰海军华平红梅志强"


def seed(households: int, batches: int, per_batch: int) -> dict[str, object]:
    town = factories.make_town()
    village = factories.make_village(town, "沼山村", "420281101203")
    campaign = factories.make_campaign()
    worker = factories.make_user("worker_a", "worker", [village], display_name="张网格")
    factories.make_user("supervisor_a", "supervisor", [village])
    rows, revisions = [], []
    for n in range(households):
        name = SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)] + GIVEN[(n * 3) % len(GIVEN)]
        pinyin, initials = name_pinyin(name)
        hid = new_uuid()
        values = {"head_name": name, "head_id": factories.make_id_number(n + 1), "phone": f"138{n:08d}",
                  "group": f"{n % 12 + 1}组", "hamlet": "王祖湾", "size": 4, "labor_count": 2,
                  "category": "general", "monitor_type": "none", "risk_eliminated": None}
        rows.append(Household(id=hid, code=f"H{n:06d}", town_id=town.id, village_id=village.id,
                              head_pinyin=pinyin, head_initials=initials, rev=1, change_seq=0, **values))
        revisions.append(HouseholdRevision(household_id=hid, rev=1, values=values, changed=list(values),
                                           reason="roster"))
    db.session.add_all(rows)
    db.session.flush()
    db.session.add_all(revisions)
    form = load_form()
    context = FormContext(monitoring_line=7600, start=campaign.start_date, end=campaign.end_date)
    checked = form.validate(factories.visit_data(rows[0]), context)
    visits, batch_rows, conflicts = [], [], []
    received = dt.datetime(2023, 10, 12, 2, 0, tzinfo=dt.UTC)
    for b in range(batches):
        batch_id = f"batch-{b:05d}"
        results = []
        for i in range(per_batch):
            h = rows[(b * per_batch + i) % households]
            uuid = new_uuid()
            data = dict(checked.values, head_name=h.head_name, head_id=h.head_id, phone=h.phone)
            status = "conflict" if i == 0 and b % 5 == 0 else "accepted"
            visits.append(Visit(uuid=uuid, campaign_id=campaign.id, household_id=h.id, village_id=village.id,
                                worker_id=worker.id, device_id="bench", batch_id=batch_id, form_version="2023.1",
                                base_rev=1, visited_on=dt.date(2023, 10, 12), received_at=received,
                                server_seq=b * per_batch + i + 1, data=data, sync_status=status,
                                change_seq=b * per_batch + i + 1, **checked.flags))
            if status == "conflict":
                conflicts.append(Conflict(household_id=h.id, visit_uuid=uuid, village_id=village.id,
                                          field="phone", base_value=h.phone, current_value=h.phone,
                                          incoming_value="13900000000", current_rev=1))
            results.append({"uuid": uuid, "status": status})
        batch_rows.append(SyncBatch(id=batch_id, user_id=worker.id, device_id="bench",
                                    received_at=received + dt.timedelta(minutes=b), record_count=per_batch,
                                    counts={"accepted": per_batch - (1 if b % 5 == 0 else 0),
                                            "conflict": 1 if b % 5 == 0 else 0}, results=results))
    db.session.add_all(batch_rows)
    db.session.add_all(visits)
    db.session.flush()
    db.session.add_all(conflicts)
    pairs = [sorted((rows[i].id, rows[i + 1].id)) for i in range(0, min(households - 1, 400), 2)]
    db.session.add_all(DuplicateCandidate(household_a_id=a, household_b_id=b, village_id=village.id,
                                          campaign_id=campaign.id, score=0.8, evidence=["姓名相似"])
                       for a, b in pairs)
    db.session.commit()
    return {"household": rows[0].id, "conflict": conflicts[0].id if conflicts else None,
            "visits": [v.uuid for v in visits], "per_batch": per_batch}


def timed(repeat: int, call: Callable[[int], object]) -> tuple[float, float]:
    times = []
    for i in range(repeat):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=14000)
    parser.add_argument("--batches", type=int, default=1400)
    parser.add_argument("--per-batch", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                          "INSTANCE_PATH": f"{tmp}/instance"})
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            ids = seed(args.households, args.batches, args.per_batch)
            seeded = time.perf_counter() - started
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"username": "supervisor_a", "password": factories.PASSWORD,
                                    "csrf_token": _CSRF.search(page).group(1)})
        token = _CSRF.search(client.get("/review/").get_data(as_text=True)).group(1)
        visits = list(ids["visits"])  # type: ignore[arg-type]

        def get(url: str) -> Callable[[int], object]:
            def call(_i: int) -> object:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response
            return call

        def bulk(action: str, size: int) -> Callable[[int], object]:
            def call(_i: int) -> object:
                chosen = [visits.pop() for _ in range(size)]
                data = {"csrf_token": token, "action": action, "comment": "基准测试", "uuids": chosen}
                response = client.post(f"/review/visits/{chosen[0]}" if size == 1 else "/review/batches/batch-00001",
                                       data=data)
                assert response.status_code == 302, (action, response.status_code)
                return response
            return call

        cases = [
            ("GET /review/ (counts)", get("/review/")),
            ("GET /review/batches (page 1)", get("/review/batches")),
            ("GET /review/batches?status=pending", get("/review/batches?status=pending")),
            ("GET /review/batches?status=conflict", get("/review/batches?status=conflict")),
            ("GET /review/batches/<id> (10 visits)", get("/review/batches/batch-00001")),
            ("GET /review/conflicts", get("/review/conflicts")),
            ("GET /review/conflicts/<id>", get(f"/review/conflicts/{ids['conflict']}")),
            ("GET /review/duplicates", get("/review/duplicates")),
            ("GET /review/households/<id>", get(f"/review/households/{ids['household']}")),
            ("POST approve 1 visit", bulk("approve", 1)),
            ("POST bulk approve 10 visits", bulk("approve", 10)),
            ("POST bulk return 50 visits", bulk("return", 50)),
        ]
        print(f"households={args.households} batches={args.batches} visits={args.batches * args.per_batch} "
              f"seed={seeded:.1f}s sqlite")
        print(f"| {'request':<40} | {'median ms':>9} | {'max ms':>7} |")
        print(f"|{'-' * 42}|{'-' * 11}|{'-' * 9}|")
        for label, call in cases:
            median, worst = timed(args.repeat, call)
            print(f"| {label:<40} | {median:>9.1f} | {worst:>7.1f} |")


if __name__ == "__main__":
    main()
