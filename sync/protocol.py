"""Validation of the sync protocol's request shapes (docs/sync-protocol.md), pure.

Shapes: :func:`parse_push` turns the decoded JSON of ``POST /sync/push`` into
a :class:`PushRequest` of :class:`PushRecord` objects, or raises
:class:`~sync.errors.SyncError`. The split between the two kinds of refusal:

- the envelope (the batch and each record's keys and their JSON types) is a
  schema: a wrong type or an unknown key anywhere in it refuses the whole
  batch with ``422 invalid_request`` and ``details`` keyed by path
  (``records[3].base_rev``), because a client that sends it is broken and
  cannot be answered record by record;
- what a record *says* (its ``data`` answers, campaign, form version,
  household) is judged per record by ingest, which answers ``rejected``
  with ``errors`` so that the phone can show them and resubmit.

Pull parameters (:func:`parse_cursor`, :func:`parse_limit`) and the
assembly of a pull page from its streams (:func:`cut_page`) live here too.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sync.errors import SyncError

MAX_RECORDS = 500
MAX_BYTES = 5 * 1024 * 1024
DEFAULT_PULL_LIMIT = 500
MAX_PULL_LIMIT = 2000

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:\-]{0,63}$")
_CURSOR = re.compile(r"^[0-9]{1,18}$")

BATCH_KEYS = frozenset({"batch_id", "device_id", "app_version", "records"})
RECORD_KEYS = frozenset({
    "uuid", "campaign_id", "form_version", "household_id", "base_rev", "supersedes",
    "started_at", "visited_at", "data", "location", "village", "photos",
})
MAX_PHOTOS = 20  # the envelope's bound; the server's setting (PHOTOS_PER_VISIT) is lower
REQUIRED_RECORD_KEYS = ("uuid", "campaign_id", "form_version", "data")
LOCATION_KEYS = frozenset({"lat", "lon", "accuracy_m", "altitude_m", "at"})


@dataclass(frozen=True)
class PushRecord:
    """One visit as the phone sent it (envelope checked, ``data`` not yet)."""

    uuid: str
    campaign_id: str
    form_version: str
    household_id: str | None
    base_rev: int | None
    supersedes: str | None
    started_at: dt.datetime | None
    visited_at: dt.datetime | None
    data: Mapping[str, Any]
    location: Mapping[str, Any] | None
    village: str | None
    photos: int | None = None  # how many photos the phone uploads for the visit (after it)


@dataclass(frozen=True)
class PushRequest:
    batch_id: str
    device_id: str
    app_version: str | None
    records: tuple[PushRecord, ...]


class _Errors:
    """Collects envelope errors by path; raises them together."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.found.setdefault(path, []).append(message)

    def count(self) -> int:
        return sum(len(messages) for messages in self.found.values())

    def raise_if_any(self) -> None:
        if self.found:
            raise SyncError("invalid_push", {"fields": self.found})


def too_large(records: int | None = None, size: int | None = None,
              max_records: int | None = MAX_RECORDS, max_bytes: int = MAX_BYTES) -> SyncError:
    """The 413 error, naming the limits (``max_records`` None: a body that is not a push)."""
    details: dict[str, Any] = {"max_bytes": max_bytes}
    if max_records is not None:
        details["max_records"] = max_records
    if records is not None:
        details["records"] = records
    if size is not None:
        details["bytes"] = size
    if max_records is None:
        return SyncError("body_too_large", details, max_bytes=max_bytes)
    mib = max_bytes / (1024 * 1024)
    return SyncError("push_too_large", details, max_records=max_records, mib=f"{mib:g}")


def parse_push(payload: Any, max_records: int = MAX_RECORDS) -> PushRequest:
    """Check the push envelope and return its records.

    :param payload: the decoded JSON body
    :param max_records: the record limit (``413 too_large`` beyond)
    :raises SyncError: ``413 too_large`` or ``422 invalid_request``
    """
    errors = _Errors()
    if not isinstance(payload, dict):
        errors.add("$", "expected an object")
        errors.raise_if_any()
    for key in sorted(set(payload) - BATCH_KEYS, key=str):
        errors.add(str(key), "unknown field")
    batch_id = _token_id(payload.get("batch_id"), "batch_id", errors, required=True)
    device_id = _token_id(payload.get("device_id"), "device_id", errors, required=True)
    app_version = _string(payload.get("app_version"), "app_version", errors, max_len=40)
    raw_records = payload.get("records")
    if not isinstance(raw_records, list):
        errors.add("records", "expected an array")
        errors.raise_if_any()
    assert isinstance(raw_records, list)
    if len(raw_records) > max_records:
        raise too_large(records=len(raw_records), max_records=max_records)
    records = []
    for index, raw in enumerate(raw_records):
        record = _record(raw, f"records[{index}]", errors)
        if record is not None:
            records.append(record)
    errors.raise_if_any()
    assert batch_id is not None and device_id is not None
    return PushRequest(batch_id=batch_id, device_id=device_id, app_version=app_version,
                       records=tuple(records))


def _record(raw: Any, path: str, errors: _Errors) -> PushRecord | None:
    if not isinstance(raw, dict):
        errors.add(path, "expected an object")
        return None
    before = errors.count()
    for key in sorted(set(raw) - RECORD_KEYS, key=str):
        errors.add(f"{path}.{key}", "unknown field")
    for key in REQUIRED_RECORD_KEYS:
        if key not in raw:
            errors.add(f"{path}.{key}", "required")
    uuid = _uuid(raw.get("uuid"), f"{path}.uuid", errors, required=True)
    campaign_id = _string(raw.get("campaign_id"), f"{path}.campaign_id", errors, max_len=40)
    form_version = _string(raw.get("form_version"), f"{path}.form_version", errors, max_len=20)
    household_id = _string(raw.get("household_id"), f"{path}.household_id", errors, max_len=36)
    supersedes = _uuid(raw.get("supersedes"), f"{path}.supersedes", errors)
    base_rev = raw.get("base_rev")
    if isinstance(base_rev, float) and base_rev.is_integer():  # 3.0 is an integer in JSON Schema
        base_rev = int(base_rev)
    if base_rev is not None and (isinstance(base_rev, bool) or not isinstance(base_rev, int)
                                 or not 0 <= base_rev < 2**31):
        errors.add(f"{path}.base_rev", "expected a non-negative integer or null")
    started_at = _timestamp(raw.get("started_at"), f"{path}.started_at", errors)
    visited_at = _timestamp(raw.get("visited_at"), f"{path}.visited_at", errors)
    data = raw.get("data")
    if "data" in raw and not isinstance(data, dict):
        errors.add(f"{path}.data", "expected an object")
    location = _location(raw.get("location"), f"{path}.location", errors)
    village = _string(raw.get("village"), f"{path}.village", errors, max_len=50)
    photos = raw.get("photos")
    if photos is not None and (isinstance(photos, bool) or not isinstance(photos, int)
                               or not 0 <= photos <= MAX_PHOTOS):
        errors.add(f"{path}.photos", f"expected an integer in [0, {MAX_PHOTOS}] or null")
    for key, value in (("campaign_id", campaign_id), ("form_version", form_version)):
        if key in raw and not value:
            errors.add(f"{path}.{key}", "required")
    if errors.count() > before or uuid is None or campaign_id is None or form_version is None \
            or not isinstance(data, dict):
        return None
    return PushRecord(
        uuid=uuid, campaign_id=campaign_id, form_version=form_version,
        household_id=household_id or None, base_rev=base_rev, supersedes=supersedes,
        started_at=started_at, visited_at=visited_at, data=data, location=location,
        village=village or None, photos=photos,
    )


def _string(value: Any, path: str, errors: _Errors, max_len: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(path, "expected a string or null")
        return None
    if len(value) > max_len:
        errors.add(path, f"longer than {max_len} characters")
        return None
    if _CONTROL_CHARS.search(value):  # PostgreSQL cannot store NUL; none belongs in an id or version
        errors.add(path, "contains control characters")
        return None
    return value


def _token_id(value: Any, path: str, errors: _Errors, required: bool = False) -> str | None:
    if value is None:
        if required:
            errors.add(path, "required")
        return None
    if not isinstance(value, str) or not _TOKEN_ID.match(value):
        errors.add(path, "expected 1-64 letters, digits, '-', '_', '.', ':'")
        return None
    return value


def _uuid(value: Any, path: str, errors: _Errors, required: bool = False) -> str | None:
    if value is None:
        if required:
            errors.add(path, "required")
        return None
    if not isinstance(value, str) or not _UUID.match(value):
        errors.add(path, "expected a UUID string")
        return None
    return value


def _timestamp(value: Any, path: str, errors: _Errors) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        errors.add(path, "expected an ISO 8601 time with offset")
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        errors.add(path, "expected an ISO 8601 time with offset")
        return None
    if parsed.tzinfo is None:
        errors.add(path, "the time has no UTC offset")
        return None
    return parsed


def _location(value: Any, path: str, errors: _Errors) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.add(path, "expected an object or null")
        return None
    for key in sorted(set(value) - LOCATION_KEYS, key=str):
        errors.add(f"{path}.{key}", "unknown field")
    limits = {"lat": (-90.0, 90.0), "lon": (-180.0, 180.0), "accuracy_m": (0.0, 1e7),
              "altitude_m": (-1e5, 1e5)}
    for key, (low, high) in limits.items():
        number = value.get(key)
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, int | float) or not low <= number <= high:
            errors.add(f"{path}.{key}", f"expected a number in [{low:g}, {high:g}]")
    if value.get("at") is not None:
        _timestamp(value.get("at"), f"{path}.at", errors)
    return dict(value)


# -- pull ---------------------------------------------------------------------


def bad_cursor() -> SyncError:
    return SyncError("bad_cursor")


HOUSEHOLDS, VISITS = 0, 1
_CURSOR_KEY = re.compile(r"^([0-9]{1,18})\.([01])\.([0-9A-Za-z_\-]{1,64})$")


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the pull order ``(change number, stream, id)``.

    Households (stream 0) and visits (stream 1) are read in that total
    order, so ties in change numbers (a roster imported with one number, or
    none) still page correctly. The string form is ``"<n>"`` (everything up
    to change n seen) or ``"<n>.<stream>.<id>"`` (a page ended inside n).
    """

    seq: int
    stream: int = VISITS
    key: str = "\uffff"

    def __str__(self) -> str:
        if self.stream == VISITS and self.key == "\uffff":
            return str(self.seq)
        return f"{self.seq}.{self.stream}.{self.key}"


START = Cursor(-1)


def parse_cursor(since: str | None, current: int) -> Cursor:
    """The position after which to pull; :data:`START` for everything.

    :param since: the cursor the client holds (``None`` or ``""`` for a full pull)
    :param current: the server's latest change number (a larger cursor is unknown)
    :raises SyncError: ``400 bad_cursor``
    """
    if since is None or since == "":
        return START
    if _CURSOR.match(since):
        cursor = Cursor(int(since))
    else:
        match = _CURSOR_KEY.match(since)
        if not match:
            raise bad_cursor()
        cursor = Cursor(int(match.group(1)), int(match.group(2)), match.group(3))
    if cursor.seq > current:
        raise bad_cursor()
    return cursor


def parse_limit(limit: str | int | None) -> int:
    """``limit`` within 1..2000 (default 500); ``422 invalid_request`` otherwise."""
    if limit is None or limit == "":
        return DEFAULT_PULL_LIMIT
    if isinstance(limit, str):
        if not limit.isdigit() or len(limit) > 6:
            raise _bad_limit()
        limit = int(limit)
    if not 1 <= limit <= MAX_PULL_LIMIT:
        raise _bad_limit()
    return limit


def _bad_limit() -> SyncError:
    return SyncError("invalid_limit", {"fields": {"limit": [f"expected an integer in [1, {MAX_PULL_LIMIT}]"]}},
                     max_limit=MAX_PULL_LIMIT)


T = TypeVar("T")


def cut_page(streams: Sequence[Sequence[tuple[Cursor, T]]], limit: int
             ) -> tuple[list[list[T]], Cursor | None, bool]:
    """Take the first ``limit`` items in cursor order across the streams.

    Each stream is sorted by its items' cursors, starts after the client's
    cursor and holds at most ``limit + 1`` rows; the first ``limit`` items of
    the merged order are then exactly the next page.

    :returns: the kept items per stream, the cursor of the last kept item
        (``None`` if nothing) and whether more items remain
    """
    merged = sorted(
        (position_key, index, position) for index, stream in enumerate(streams)
        for position, (position_key, _item) in enumerate(stream)
    )
    kept: list[list[T]] = [[] for _ in streams]
    for _key, index, position in merged[:limit]:
        kept[index].append(streams[index][position][1])
    last = merged[min(limit, len(merged)) - 1][0] if merged else None
    return kept, last, len(merged) > limit
