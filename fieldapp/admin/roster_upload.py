"""Roster upload page: saves the upload to a private temporary file and runs the roster import.

The import itself (reading, checking, writing, auditing; all-or-nothing
unless bad rows are skipped) is ``fieldapp.roster.import_roster``; this page
only hands it the file and shows the outcome, one line per bad row.
"""

from __future__ import annotations

import os
import re
import tempfile

from flask import Response, abort, current_app, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from fieldapp.admin.forms import RosterUploadForm
from fieldapp.downloads import attachment
from fieldapp.roster import ImportResult, RosterFileError, import_roster
from fieldapp.roster import template as roster_template

Page = str | tuple[str, int]
_UNSAFE = re.compile(r"[^\w.\-（）()]")


def upload_name(filename: str | None) -> str:
    """The upload's own name made safe to save: its folder dropped, anything but letters (Chinese
    included), digits and ``._-()`` replaced. ``secure_filename`` would turn 花名册.xlsx into
    ``xlsx``, losing the suffix the reader goes by."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", base).lstrip(".")[-100:]
    return name if os.path.splitext(name)[0] and os.path.splitext(name)[1] else "roster.csv"


def run_import(upload: FileStorage, skip_bad_rows: bool) -> ImportResult:
    """Save ``upload`` under the instance folder, import it, and delete the copy.

    The copy keeps the upload's name (the audit log records it as the source).
    """
    name = upload_name(upload.filename)
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
    return render_template("admin/roster.html", form=form, result=result, columns=roster_template.column_rules()), status


def template(file_format: str) -> Response:
    """The roster template (headers, one example row; the XLSX also has the rules)."""
    if file_format == "xlsx":
        content, mimetype = roster_template.template_xlsx(), roster_template.XLSX_MIMETYPE
    elif file_format == "csv":
        content, mimetype = roster_template.template_csv(), roster_template.CSV_MIMETYPE
    else:
        abort(404)
    return attachment(content, mimetype, f"{roster_template.FILENAME}.{file_format}")
