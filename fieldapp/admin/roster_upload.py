"""Roster upload page: saves the upload to a private temporary file and runs the roster import.

The import itself (reading, checking, writing, auditing; all-or-nothing
unless bad rows are skipped) is ``fieldapp.roster.import_roster``; this page
only hands it the file and shows the outcome, one line per bad row.
"""

from __future__ import annotations

import os
import tempfile

from flask import current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from fieldapp.admin.forms import RosterUploadForm
from fieldapp.roster import ImportResult, RosterFileError, import_roster

Page = str | tuple[str, int]


def run_import(upload: FileStorage, skip_bad_rows: bool) -> ImportResult:
    """Save ``upload`` under the instance folder, import it, and delete the copy.

    The copy keeps the upload's name (the audit log records it as the source).
    """
    name = secure_filename(upload.filename or "") or "roster.csv"
    folder = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as private:
        path = os.path.join(private, name)
        upload.save(path)
        return import_roster(path, skip_bad_rows=skip_bad_rows, user=current_user._get_current_object())


def roster() -> Page:
    form = RosterUploadForm()
    result: ImportResult | None = None
    status = 200
    if form.validate_on_submit():
        try:
            result = run_import(form.file.data, bool(form.skip_bad_rows.data))
        except RosterFileError as exc:
            flash(_("花名册未导入：%(why)s", why=str(exc)), "error")
            status = 422
        else:
            flash(result.summary(), "success" if result.imported else "error")
            status = 200 if result.imported else 422
    elif request.method == "POST":
        status = 422
    return render_template("admin/roster.html", form=form, result=result), status
