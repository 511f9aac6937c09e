"""Roster upload page: saves the file to a temporary path and runs the roster importer.

The import itself (reading, checking, writing, auditing) is the roster
service's use case; this page only hands it the file and shows the outcome,
with one line per bad row.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.utils import secure_filename

from fieldapp.admin.forms import RosterUploadForm

Page = str | tuple[str, int]


def _run_import(roster_service: Any, upload: Any, skip_bad_rows: bool) -> Any:
    """Save ``upload`` under the instance folder and import it; the file is removed after."""
    suffix = os.path.splitext(secure_filename(upload.filename or ""))[1].lower() or ".csv"
    folder = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(folder, exist_ok=True)
    handle, path = tempfile.mkstemp(suffix=suffix, dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            upload.save(out)
        return roster_service.import_roster(path, skip_bad_rows=skip_bad_rows, actor=current_user)
    finally:
        os.unlink(path)


def roster() -> Page:
    from fieldapp.roster import service as roster_service

    form = RosterUploadForm()
    result = None
    failed = None
    status = 200
    if form.validate_on_submit():
        try:
            result = _run_import(roster_service, form.file.data, bool(form.skip_bad_rows.data))
        except roster_service.RosterImportError as exc:
            failed = exc
            status = 422
            flash(_("花名册未导入：%(why)s", why=str(exc)), "error")
        else:
            flash(_("花名册已导入"), "success")
    elif request.method == "POST":
        status = 422
    return render_template("admin/roster.html", form=form, result=result, failed=failed), status
