"""Roster upload page: saves the upload to a private temporary folder and runs the roster import.

The import itself (reading, checking, writing, auditing; all-or-nothing
unless bad rows are skipped) is ``fieldapp.roster.import_roster``; this page
only hands it the file and shows the outcome, one line per bad row (at most
``FIELDAPP_ROSTER_MAX_ERRORS`` of them, all counted). An upload of
``FIELDAPP_ROSTER_BACKGROUND_BYTES`` or more is imported outside the request
(:mod:`fieldapp.admin.roster_jobs`): the page then follows its progress.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from fieldapp.admin import roster_jobs
from fieldapp.admin.forms import RosterUploadForm
from fieldapp.roster import ImportResult, RosterFileError, import_roster

Page = str | tuple[str, int] | Response


def _save(upload: FileStorage) -> Path:
    """The upload in a private folder of its own under the instance folder; the copy keeps
    the upload's name (the audit log records it as the source)."""
    name = secure_filename(upload.filename or "") or "roster.csv"
    folder = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=folder)) / name
    upload.save(path)
    return path


def run_import(path: Path, skip_bad_rows: bool) -> ImportResult:
    """Import the saved upload at ``path`` within the request, and delete it."""
    try:
        return import_roster(path, skip_bad_rows=skip_bad_rows, user=current_user._get_current_object(),
                             max_errors=int(current_app.config["ROSTER_MAX_ERRORS"]))
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def roster() -> Page:
    form = RosterUploadForm()
    result: ImportResult | None = None
    status = 200
    if form.validate_on_submit():
        path = _save(form.file.data)
        skip = bool(form.skip_bad_rows.data)
        if path.stat().st_size >= int(current_app.config["ROSTER_BACKGROUND_BYTES"]):
            job_id = roster_jobs.start(path, skip, current_user._get_current_object())
            return redirect(url_for("admin.roster_job", job_id=job_id), 303)
        try:
            result = run_import(path, skip)
        except RosterFileError as exc:
            flash(_("花名册未导入：%(why)s", why=str(exc)), "error")
            status = 422
        else:
            flash(result.summary(), "success" if result.imported else "error")
            status = 200 if result.imported else 422
    elif request.method == "POST":
        status = 422
    return render_template("admin/roster.html", form=form, result=result.view() if result else None), status


def roster_job(job_id: str) -> Page:
    """A background import: its progress while it runs (the page reloads itself), then its outcome."""
    job = roster_jobs.read(job_id)
    if job is None:
        abort(404)
    return render_template("admin/roster_job.html", job=job, result=job["result"])
