"""One record that breaks the validator is rejected alone, and the failure is logged."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest
import yaml

from sync import form as form_module
from sync.ingest import UNCHECKABLE, check_record
from sync.protocol import parse_push
from sync.store import CampaignInfo


def test_a_record_the_validator_cannot_check_is_rejected_and_logged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # A definition whose formula fails on an answer it accepts (round() of text):
    # a bug in a form file must cost one record, not its batch.
    definition = {
        "version": "9.broken", "title": "t", "messages": form_module.load_form().messages,
        "sections": [{"id": "s", "label": "s"}],
        "fields": [{"id": "note", "section": "s", "label": "备注", "type": "text"},
                   {"id": "broken", "section": "s", "label": "坏", "type": "computed", "formula": "round(note)"}],
    }
    (tmp_path / "9.broken.yaml").write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(form_module, "FORMS_DIR", tmp_path)
    campaign = CampaignInfo("c", "9.broken", 7600.0, dt.date(2023, 10, 1), dt.date(2023, 11, 30), True, False)
    uuid = "00000000-0000-4000-8000-000000000001"
    request = parse_push({"batch_id": "b", "device_id": "d", "records": [
        {"uuid": uuid, "campaign_id": "c", "form_version": "9.broken", "data": {"note": "abc"}}]})
    with caplog.at_level(logging.ERROR, logger="sync.ingest"):
        checked = check_record(request.records[0], {"c": campaign})
    assert checked.errors == {"data": [UNCHECKABLE]}
    assert any(uuid in r.getMessage() and r.exc_info for r in caplog.records)
    form_module.load_form.cache_clear()
