"""Small app modules in Chromium: backoff, search and ordering, ID masking."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def test_backoff_is_exponential_with_full_jitter_from_5_s_to_10_min(module_page: Any) -> None:
    result = module_page.evaluate("""async () => {
      const m = await import('/static/js/backoff.js');
      const top = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12].map((n) => m.backoffDelay(n, () => 1));
      const bottom = [1, 5, 12].map((n) => m.backoffDelay(n, () => 0));
      const spread = Array.from({length: 200}, () => m.backoffDelay(3));
      return {top, bottom, min: Math.min(...spread), max: Math.max(...spread)};
    }""")
    assert result["top"] == [5000, 10000, 20000, 40000, 80000, 160000, 320000, 600000, 600000, 600000]
    assert result["bottom"] == [0, 0, 0]
    assert 0 <= result["min"] < 5000 < 15000 < result["max"] <= 20000


HOUSEHOLDS = [
    {"id": "1", "head_name": "王建国", "head_pinyin": "wang jian guo", "head_initials": "wjg", "code": "H000101",
     "head_id": "420281197005010021", "village": "沼山村", "group": "3组", "monitor_type": "none", "category": "general"},
    {"id": "2", "head_name": "王建军", "head_pinyin": "wang jian jun", "head_initials": "wjj", "code": "H000102",
     "head_id": "42028119700501003X", "village": "沼山村", "group": "3组", "monitor_type": "none", "category": "lifted"},
    {"id": "3", "head_name": "刘伟", "head_pinyin": "liu wei", "head_initials": "lw", "code": "H000103",
     "head_id": "420281197005010048", "village": "沼山村", "group": "3组", "monitor_type": "marginal", "category": "general"},
    {"id": "4", "head_name": "陈秀英", "head_pinyin": "chen xiu ying", "head_initials": "cxy", "code": "H000104",
     "head_id": "420281197005010056", "village": "沼山村", "group": "12组", "monitor_type": "none", "category": "general"},
    {"id": "5", "head_name": "柯友明", "head_pinyin": "ke you ming", "head_initials": "kym", "code": "H000105",
     "head_id": "420281197005010064", "village": "磨山村", "group": "1组", "monitor_type": "none", "category": "general"},
]


@pytest.mark.parametrize(("query", "expected"), [
    ("wjg", ["1"]), ("wj", ["1", "2"]), ("wangjianguo", ["1"]), ("wang jian", ["1", "2"]),
    ("王建", ["1", "2"]), ("003x", ["2"]), ("003X", ["2"]), ("0048", ["3"]), ("h000104", ["4"]),
    ("104", ["4"]), ("liuw", ["3"]), ("", ["1", "2", "3", "4", "5"]), ("zzz", []),
])
def test_search_finds_by_name_pinyin_initials_code_and_last_four_id_digits(
    module_page: Any, query: str, expected: list[str],
) -> None:
    found = module_page.evaluate("""async ([households, query]) => {
      const m = await import('/static/js/search.js');
      return households.filter((h) => m.matches(h, query)).map((h) => h.id);
    }""", [HOUSEHOLDS, query])
    assert sorted(found) == expected


def test_order_is_village_group_then_monitored_and_lifted_first(module_page: Any) -> None:
    order = module_page.evaluate("""async (households) => {
      const m = await import('/static/js/search.js');
      return [...households].reverse().sort(m.compareHouseholds).map((h) => h.id);
    }""", HOUSEHOLDS)
    assert order == ["5", "3", "2", "1", "4"]


def test_masking_matches_the_server(module_page: Any) -> None:
    from sync.idnumber import mask_id, mask_phone

    values = ["420281197005010021", "42028119700501003X", "12345", "", "13800000001", "0714-1234567"]
    js = module_page.evaluate("""async (values) => {
      const m = await import('/static/js/idnumber.js');
      return values.map((v) => [m.maskId(v), m.maskPhone(v)]);
    }""", values)
    assert js == [[mask_id(v), mask_phone(v)] for v in values]


def test_outbox_keeps_an_edit_made_while_its_record_was_being_acknowledged(module_page: Any) -> None:
    result = module_page.evaluate("""async () => {
      const db = await import('/static/js/db.js');
      const outbox = await import('/static/js/outbox.js');
      const sync = await import('/static/js/sync.js');
      await db.write(['outbox', 'visits', 'drafts'], (tx) => ['outbox', 'visits', 'drafts'].forEach((s) => tx.objectStore(s).clear()));
      const meta = {campaignId: '2023-jzpc', formVersion: '2023.1'};
      const draft = {uuid: outbox.newUuid(), owner: 'w', household_key: 'h1', household_id: 'h1', started_at: outbox.isoNow()};
      const first = await outbox.saveVisit(draft, {income_wage: 1}, meta);
      // The worker edits it again while the batch holding the first version is in flight.
      await outbox.saveVisit({...draft, from_outbox: true}, {income_wage: 2}, meta);
      await sync.applyResults([first], {results: [{uuid: first.uuid, status: 'accepted', household_id: 'h1'}]}, 'w');
      const left = await db.getAll('outbox');
      const acknowledged = await db.getAll('visits');
      // Editing a record that is no longer in the outbox stores a new visit.
      const late = await outbox.saveVisit({...draft, uuid: acknowledged[0].uuid, from_outbox: true}, {income_wage: 3}, meta);
      return {left: left.map((r) => [r.uuid === first.uuid, r.data.income_wage]),
              acknowledged: acknowledged.map((v) => [v.uuid === first.uuid, v.data.income_wage, v.sync_status]),
              lateIsNew: late.uuid !== first.uuid};
    }""")
    assert result["left"] == [[False, 2]]
    assert result["acknowledged"] == [[True, 1, "accepted"]]
    assert result["lateIsNew"] is True


def test_the_visit_form_loads_without_booting_the_app(module_page: Any) -> None:
    """A screen gets the app's helpers from ``show()``'s context: importing it never loads
    the entry module, which would boot a second app on import."""
    loaded = module_page.evaluate("""async () => {
      const m = await import('/static/js/ui/visit-form.js');
      const scripts = performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname);
      return {show: typeof m.show, booted: 'fieldapp' in window, scripts};
    }""")
    assert loaded["show"] == "function"
    assert "/static/js/ui/visit-form.js" in loaded["scripts"]
    assert "/static/js/app.js" not in loaded["scripts"]
    assert loaded["booted"] is False


def test_photo_bytes_live_apart_from_the_records_and_go_when_nothing_describes_them(module_page: Any) -> None:
    """A photo's bytes are stored once, in the photos store: a draft saved again, the
    outbox record and the list never read or write them; bytes that no record
    describes any more are swept, the others stay."""
    result = module_page.evaluate("""async () => {
      const db = await import('/static/js/db.js');
      const outbox = await import('/static/js/outbox.js');
      const photos = await import('/static/js/photos.js');
      const stores = ['outbox', 'visits', 'drafts', 'photos'];
      await db.write(stores, (tx) => stores.forEach((s) => tx.objectStore(s).clear()));
      const photo = (n) => ({id: outbox.newUuid(), bytes: new Uint8Array(1000).fill(n).buffer, size: 1000,
        type: 'image/jpeg', status: 'queued'});
      const [kept, removed] = [photo(1), photo(2)];
      const draft = {uuid: outbox.newUuid(), owner: 'w', household_key: 'h1', household_id: 'h1',
        started_at: outbox.isoNow(), photos: [kept, removed]};
      await outbox.saveDraft(draft);
      const stored = await db.get('drafts', draft.uuid);
      const inMemory = draft.photos.map((p) => 'bytes' in p);
      draft.photos = [kept]; // the worker removes one photo, saves the visit
      await outbox.saveDraft(draft);
      const record = await outbox.saveVisit(draft, {income_wage: 1}, {campaignId: 'c', formVersion: '2023.1'});
      const before = await db.count('photos');
      const swept = await photos.sweepPhotos();
      const url = await photos.objectUrl((await db.get('outbox', record.uuid)).photos[0]);
      const picture = new Uint8Array(await (await fetch(url)).arrayBuffer());
      return {draftHasBytes: stored.photos.map((p) => 'bytes' in p), inMemory,
              outboxHasBytes: (await db.getAll('outbox'))[0].photos.map((p) => 'bytes' in p),
              before, swept, left: await (await db.db()).getAllKeys('photos'), kept: kept.id, picture: [picture.length, picture[0]]};
    }""")
    assert result["draftHasBytes"] == [False, False]
    assert result["inMemory"] == [False, False]  # once stored, the form's photos let go of them
    assert result["outboxHasBytes"] == [False]
    assert (result["before"], result["swept"], result["left"]) == (2, 1, [result["kept"]])
    assert result["picture"] == [1000, 1]  # the thumbnail comes from the photos store


def test_the_upgrade_to_version_3_moves_photo_bytes_out_of_the_records(module_page: Any) -> None:
    """A phone on IndexedDB version 2 kept the bytes inside the records: the upgrade
    moves them to the photos store and the records keep the rest."""
    result = module_page.evaluate("""async () => {
      const db = await import('/static/js/db.js');
      db.close();
      const done = (request) => new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(request.result); request.onerror = () => reject(request.error);
      });
      await done(indexedDB.deleteDatabase(db.DB_NAME));
      const open = indexedDB.open(db.DB_NAME, 2);
      open.onupgradeneeded = () => {
        const d = open.result;
        d.createObjectStore('households', {keyPath: 'id'});
        d.createObjectStore('drafts', {keyPath: 'uuid'}).createIndex('household', ['owner', 'household_key']);
        d.createObjectStore('outbox', {keyPath: 'uuid'}).createIndex('owner', 'owner');
        d.createObjectStore('meta');
        d.createObjectStore('visits', {keyPath: 'uuid'}).createIndex('owner', 'owner');
      };
      const v2 = await done(open);
      const bytes = (n) => new Uint8Array(300 * 1024).fill(n).buffer;
      const tx = v2.transaction(['drafts', 'outbox', 'visits'], 'readwrite');
      tx.objectStore('drafts').put({uuid: 'd1', owner: 'w', household_key: 'h1', photos: [{id: 'p1', bytes: bytes(1)}]});
      tx.objectStore('outbox').put({uuid: 'o1', owner: 'w', photos: [{id: 'p2', bytes: bytes(2)}, {id: 'p3', bytes: bytes(3)}]});
      tx.objectStore('visits').put({uuid: 'v1', owner: 'w', photos: [{id: 'p4', bytes: null, status: 'done'},
        {id: 'p5', bytes: bytes(5), status: 'queued'}]});
      tx.objectStore('visits').put({uuid: 'v2', owner: 'w', photos: []});
      await new Promise((resolve) => { tx.oncomplete = resolve; });
      v2.close();
      const records = [await db.get('drafts', 'd1'), await db.get('outbox', 'o1'), await db.get('visits', 'v1')];
      const first = async (id) => new Uint8Array(await db.get('photos', id))[0];
      return {version: (await db.db()).version,
              photos: records.map((r) => r.photos.map((p) => [p.id, 'bytes' in p, p.status ?? null])),
              stored: (await (await db.db()).getAllKeys('photos')).sort(), firstBytes: await Promise.all(['p1', 'p2', 'p3', 'p5'].map(first))};
    }""")
    assert result["version"] == 3
    assert result["photos"] == [[["p1", False, None]], [["p2", False, None], ["p3", False, None]],
                                [["p4", False, "done"], ["p5", False, "queued"]]]
    assert result["stored"] == ["p1", "p2", "p3", "p5"]
    assert result["firstBytes"] == [1, 2, 3, 5]
