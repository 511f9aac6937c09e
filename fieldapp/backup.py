"""Importing a phone's 导出备份 file.

A phone that can no longer reach the server exports every unsynced visit
(sync screen → 导出备份) as JSON, grouped by worker::

    {"format": "fieldapp-backup", "version": 1, "exported_at": "…", "device_id": "…",
     "batches": [{"worker": "worker01", "device_id": "…", "batch_id": "…",
                  "records": [{push record keys…, "status": "queued", "errors": null, "saved_at": "…"}]}]}

Each batch goes through :func:`fieldapp.sync_service.push_batch` as that
worker, exactly like a push from the phone: the same validation, merge and
dedup, and the same idempotency (a visit uuid is stored once; importing the
file again answers ``already_received`` or replays the batch's results).
"""

from __future__ import annotations

import json
from typing import IO, Any

import sqlalchemy as sa

from fieldapp import sync_service
from fieldapp.extensions import db
from fieldapp.models import User
from sync.errors import SyncError
from sync.protocol import RECORD_KEYS

FORMAT = "fieldapp-backup"


def read_backup(handle: IO[bytes]) -> list[dict[str, Any]]:
    """The batches of a backup file; raises ValueError (Chinese) for anything else."""
    try:
        document = json.loads(handle.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"不是有效的备份文件（JSON 无法解析）：{exc}") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError("不是排查通导出的备份文件（format 应为 fieldapp-backup）")
    if document.get("version") != 1:
        raise ValueError(f"不支持的备份文件版本：{document.get('version')!r}")
    batches = document.get("batches")
    if not isinstance(batches, list) or not all(isinstance(b, dict) for b in batches):
        raise ValueError("备份文件缺少 batches 列表")
    for number, batch in enumerate(batches, start=1):
        if not isinstance(batch.get("worker"), str) or not isinstance(batch.get("records"), list):
            raise ValueError(f"第{number}批缺少 worker 或 records")
    return batches


def push_payload(batch: dict[str, Any], default_device: str | None) -> dict[str, Any]:
    """The push body for one batch: only the protocol's keys of each record."""
    records = [{k: v for k, v in r.items() if k in RECORD_KEYS} for r in batch["records"] if isinstance(r, dict)]
    return {
        "batch_id": batch.get("batch_id"),
        "device_id": batch.get("device_id") or default_device,
        "app_version": "import-backup",
        "records": records,
    }


def import_batches(batches: list[dict[str, Any]], default_device: str | None = None) -> list[dict[str, Any]]:
    """Push every batch as its worker; one report row per record (or per failed batch)."""
    report: list[dict[str, Any]] = []
    for batch in batches:
        worker = batch["worker"]
        user = db.session.scalar(sa.select(User).where(User.username == worker))
        if user is None or not user.active:
            report.append({"worker": worker, "uuid": None, "status": "failed",
                           "detail": f"用户不存在或已停用：{worker}"})
            continue
        try:
            response = sync_service.push_batch(user, push_payload(batch, default_device))
        except SyncError as exc:
            report.append({"worker": worker, "uuid": None, "status": "failed",
                           "detail": f"{exc.code}: {exc.message} {exc.details or ''}".strip()})
            continue
        for result in response["results"]:
            report.append({"worker": worker, "uuid": result["uuid"], "status": result["status"],
                           "detail": _detail(result)})
    return report


def _detail(result: dict[str, Any]) -> str:
    if result["status"] == "rejected":
        return "；".join(f"{field}: {'，'.join(messages)}" for field, messages in result.get("errors", {}).items())
    if result["status"] == "conflict":
        return "冲突字段：" + "、".join(result.get("conflicts", []))
    if result["status"] == "duplicate_suspected":
        return "疑似重复：" + "、".join(result.get("duplicate_of", []))
    if result["status"] == "already_received":
        return f"此前已收到（{result.get('original_status', '')}）"
    return ""
