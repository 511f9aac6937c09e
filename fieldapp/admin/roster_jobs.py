"""Roster imports run outside the request: a thread of the server process does the
import, and its state lives in a small JSON file under ``<instance>/uploads/jobs/``,
so that the page (served by whichever worker process) shows its progress.

The state is written at most twice a second, atomically (a temporary file renamed
over the old one), never through the database: the import holds the write lock
while it writes its households. A job whose process died stops being updated and
is shown as interrupted after :data:`STALE_SECONDS` (the import is one transaction,
so nothing of it was written).
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_babel import gettext as _

from fieldapp.extensions import db
from fieldapp.models import User
from fieldapp.roster import RosterFileError, import_roster

log = logging.getLogger(__name__)

STALE_SECONDS = 120
_WRITE_EVERY = 0.5
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{16}$")


def jobs_folder(instance_path: str) -> Path:
    return Path(instance_path) / "uploads" / "jobs"


def start(path: Path, skip_bad_rows: bool, user: User) -> str:
    """Import ``path`` (in a private folder of its own, removed at the end) in a thread;
    return the job's id."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    job_id = secrets.token_urlsafe(12)
    state = {"id": job_id, "status": "running", "stage": "read", "done": 0, "total": 0,
             "source": path.name, "user_id": user.id, "pid": os.getpid(), "result": None, "error": None}
    folder = jobs_folder(app.instance_path)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write(folder, state)
    max_errors = int(app.config["ROSTER_MAX_ERRORS"])
    worker = threading.Thread(target=_run, args=(app, folder, state, path, skip_bad_rows, max_errors),
                              name=f"roster-import-{job_id}", daemon=True)
    worker.start()
    return job_id


def read(job_id: str) -> dict[str, Any] | None:
    """The job's state; ``status`` is ``running``, ``done``, ``failed`` or ``interrupted``."""
    if not _JOB_ID.match(job_id):
        return None
    try:
        state: dict[str, Any] = json.loads((jobs_folder(current_app.instance_path) / f"{job_id}.json")
                                           .read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if state["status"] == "running" and time.time() - state["updated_at"] > STALE_SECONDS:
        state["status"] = "interrupted"
    return state


def _write(folder: Path, state: dict[str, Any]) -> None:
    state["updated_at"] = time.time()
    target = folder / f"{state['id']}.json"
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, target)


def _run(app: Flask, folder: Path, state: dict[str, Any], path: Path, skip_bad_rows: bool,
         max_errors: int) -> None:
    last = 0.0

    def progress(stage: str, done: int, total: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= _WRITE_EVERY or done >= total:
            last = now
            state.update(stage=stage, done=done, total=total)
            _write(folder, state)

    with app.app_context():
        try:
            user = db.session.get(User, state["user_id"])
            result = import_roster(path, skip_bad_rows=skip_bad_rows, progress=progress, user=user,
                                   max_errors=max_errors)
            state.update(status="done", result=result.view())
        except RosterFileError as exc:
            state.update(status="failed", error=str(exc))
        except Exception:  # noqa: BLE001 - the page must say it failed; the traceback goes to the log
            log.exception("roster import %s of %s failed", state["id"], path.name)
            state.update(status="failed", error=_("导入出错，没有写入任何数据；请联系管理员查看服务器日志"))
        finally:
            db.session.remove()
            shutil.rmtree(path.parent, ignore_errors=True)
            _write(folder, state)
