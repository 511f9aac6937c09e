"""Roster upload page: saves the upload to a private temporary folder and runs the roster import.

The import itself (reading, checking, writing, auditing; all-or-nothing
unless bad rows are skipped) is ``fieldapp.roster.import_roster``; this page
only hands it the file and shows the outcome, one line per bad row (at most
``FIELDAPP_ROSTER_MAX_ERRORS`` of them, all counted). An upload of
``FIELDAPP_ROSTER_BACKGROUND_BYTES`` or more is imported outside the request
(:mod:`fieldapp.admin.roster_jobs`): the page then follows its progress. The
page also offers the roster template and the column rules.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from fieldapp.admin import roster_jobs
from fieldapp.admin.forms import RosterUploadForm
from fieldapp.downloads import attachment
from fieldapp.roster import ImportResult, RosterFileError, import_roster
from fieldapp.roster import template as roster_template

Page = str | tuple[str, int] | Response
_UNSAFE = re.compile(r"[^\w.\-（）()]")


def upload_name(filename: str | None) -> str:
    """The upload's own name made safe to save: its folder dropped, anything but letters (Chinese
    included), digits and ``._-()`` replaced. ``secure_filename`` would turn 花名册.xlsx into
    ``xlsx``, losing the suffix the reader goes by."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", base).lstrip(".")[-100:]
    return name if os.path.splitext(name)[0] and os.path.splitext(name)[1] else "roster.csv"


def _save(upload: FileStorage) -> Path:
    """The upload in a private folder of its own under the instance folder; the copy keeps
    the upload's name (the audit log records it as the source)."""
    folder = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=folder)) / upload_name(upload.filename)
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
    return render_template("admin/roster.html", form=form, result=result.view() if result else None,
                           columns=roster_template.column_rules()), status


def roster_job(job_id: str) -> Page:
    """A background import: its progress while it runs (the page reloads itself), then its outcome."""
    job = roster_jobs.read(job_id)
    if job is None:
        abort(404)
    return render_template("admin/roster_job.html", job=job, result=job["result"])


def template(file_format: str) -> Response:
    """The roster template (headers, one example row; the XLSX also has the rules)."""
    if file_format == "xlsx":
        content, mimetype = roster_template.template_xlsx(), roster_template.XLSX_MIMETYPE
    elif file_format == "csv":
        content, mimetype = roster_template.template_csv(), roster_template.CSV_MIMETYPE
    else:
        abort(404)
    return attachment(content, mimetype, f"{roster_template.FILENAME}.{file_format}")
