"""``fieldapp import-backup FILE``: a phone's 导出备份 file, imported like a push."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from fieldapp.extensions import db
from fieldapp.models import Visit, new_uuid
from tests.factories import SmallTown, visit_data

pytestmark = pytest.mark.both_backends


def _record(household: Any, **data: Any) -> dict[str, Any]:
    """A record as static/js/outbox.js writes it into the backup (push keys + local status)."""
    return {
        "uuid": new_uuid(), "campaign_id": "2023-jzpc", "form_version": "2023.1",
        "household_id": household.id, "base_rev": household.rev, "supersedes": None,
        "started_at": "2023-10-12T09:21:00+08:00", "visited_at": "2023-10-12T09:30:00+08:00",
        "data": visit_data(household, **data), "location": None, "village": None,
        "status": "queued", "errors": None, "saved_at": "2023-10-12T09:30:05+08:00",
    }


def _backup(town: SmallTown, tmp_path: Path) -> tuple[Path, list[dict[str, Any]], list[dict[str, Any]]]:
    records_a = [_record(h) for h in town.households_a]
    records_b = [_record(town.households_b[0]), _record(town.households_b[1], size=0)]
    document = {
        "format": "fieldapp-backup", "version": 1, "exported_at": "2023-10-13T08:00:00+08:00",
        "device_id": "4b8f0f0e-1f7a-4c55-9b7c-2d3f4a5b6c7d", "app_version": "abc",
        "batches": [
            {"worker": "worker_a", "device_id": "4b8f0f0e-1f7a-4c55-9b7c-2d3f4a5b6c7d",
             "batch_id": new_uuid(), "records": records_a},
            {"worker": "worker_b", "device_id": "4b8f0f0e-1f7a-4c55-9b7c-2d3f4a5b6c7d",
             "batch_id": new_uuid(), "records": records_b},
        ],
    }
    path = tmp_path / "fieldapp-backup.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return path, records_a, records_b


def _stored(uuids: list[str]) -> dict[str, Visit]:
    db.session.expire_all()
    return {v.uuid: v for v in db.session.scalars(sa.select(Visit).where(Visit.uuid.in_(uuids)))}


def test_import_backup_stores_each_visit_once_with_its_worker(town: SmallTown, runner: Any, tmp_path: Path) -> None:
    path, records_a, records_b = _backup(town, tmp_path)
    first = runner.invoke(args=["import-backup", str(path)])
    assert first.exit_code == 0, first.output
    valid = [r["uuid"] for r in records_a] + [records_b[0]["uuid"]]
    rejected = records_b[1]["uuid"]
    lines = {line.split("\t")[1]: line.split("\t") for line in first.output.splitlines() if "\t" in line}
    assert {lines[u][2] for u in valid} == {"accepted"}
    assert lines[rejected][2] == "rejected" and "家庭人口数" in lines[rejected][3]
    stored = _stored(valid + [rejected])
    assert set(stored) == set(valid)
    assert {stored[r["uuid"]].worker_id for r in records_a} == {town.worker_a.id}
    assert stored[records_b[0]["uuid"]].worker_id == town.worker_b.id
    assert {v.device_id for v in stored.values()} == {"4b8f0f0e-1f7a-4c55-9b7c-2d3f4a5b6c7d"}

    second = runner.invoke(args=["import-backup", str(path)])
    assert second.exit_code == 0, second.output
    again = {line.split("\t")[1]: line.split("\t")[2] for line in second.output.splitlines() if "\t" in line}
    assert {again[u] for u in valid} <= {"accepted", "already_received"}
    assert again[rejected] == "rejected"
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Visit).where(Visit.uuid.in_(valid + [rejected])))
    assert count == len(valid)


def test_import_backup_refuses_a_file_that_is_not_a_backup(app: Any, runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"records": []}', encoding="utf-8")
    result = runner.invoke(args=["import-backup", str(path)])
    assert result.exit_code != 0
    assert "不是排查通导出的备份文件" in result.output


def test_import_backup_reports_an_unknown_worker(town: SmallTown, runner: Any, tmp_path: Path) -> None:
    path, _, _ = _backup(town, tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    document["batches"][0]["worker"] = "nobody"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["import-backup", str(path)])
    assert result.exit_code != 0
    assert "用户不存在或已停用：nobody" in result.output
    # The other worker's batch was still imported.
    assert "accepted" in result.output
