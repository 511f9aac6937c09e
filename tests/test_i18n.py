"""The English catalogue: complete, compiled, placeholders intact, and used by the pages.

Simplified Chinese is the source language; ``?lang=en`` switches to English for the
session (fieldapp/i18n.py). A string added to the code without an English translation
fails ``test_every_extracted_string_is_translated``: run ``scripts/i18n.sh`` and fill in
the new msgstr.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "fieldapp" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo"

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")
PERCENT = re.compile(r"%(?:\((\w+)\))?[#0 +-]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa%])")
BRACE = re.compile(r"\{(\w*)[^{}]*\}")


def _po() -> Catalog:
    with PO.open("rb") as fh:
        return read_po(fh, locale="en")


def _messages(catalog: Catalog) -> list:
    return [m for m in catalog if m.id]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """A fresh extraction from the sources, with the same options as scripts/i18n.sh."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-o", str(pot), "--no-location", "--sort-output", "."],
        cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as fh:
        return read_po(fh)


# -- the catalogue -------------------------------------------------------------

def test_catalogue_has_no_untranslated_or_fuzzy_entries() -> None:
    messages = _messages(_po())
    assert len(messages) > 300
    untranslated = [m.id for m in messages if not m.string or (isinstance(m.string, tuple) and not all(m.string))]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert untranslated == []
    assert fuzzy == []


def test_translations_contain_no_chinese_text() -> None:
    """An msgstr may quote a Chinese value the user must type (e.g. “是”), never be Chinese prose."""
    for message in _messages(_po()):
        chinese = CJK.findall(re.sub(r'"[^"]*"', "", message.string))
        assert chinese == [], (message.id, message.string)


def test_every_extracted_string_is_translated(extracted: Catalog) -> None:
    translated = {m.id: m.string for m in _messages(_po())}
    fresh = [m.id for m in _messages(extracted)]
    assert len(fresh) > 300
    missing = [msgid for msgid in fresh if not translated.get(msgid)]
    assert missing == [], f"untranslated (run scripts/i18n.sh and translate): {missing}"


def test_compiled_catalogue_matches_the_po() -> None:
    with MO.open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == {m.id: m.string for m in _messages(_po())}, "run scripts/i18n.sh compile"


def _placeholders(text: str) -> list[str]:
    return sorted([f"%({name}){conv}" for name, conv in PERCENT.findall(text)]
                  + ["{" + name + "}" for name in BRACE.findall(text)])


def test_placeholders_match() -> None:
    checked = 0
    for message in _messages(_po()):
        assert _placeholders(message.string) == _placeholders(message.id), message.id
        checked += bool(_placeholders(message.id))
    assert checked > 40


def test_placeholder_check_catches_a_mismatch() -> None:
    assert _placeholders("共%(count)s户") != _placeholders("%(n)s households")
    assert _placeholders("第 %(rev)d 版") != _placeholders("Revision %(rev)s")
    assert _placeholders("已由{name}处理") != _placeholders("handled by {user}")


def test_runtime_labels_cover_the_label_dicts() -> None:
    """Labels translated through a variable are in the catalogue (see runtime_labels.py)."""
    from fieldapp.review import display, merges
    from sync.idnumber import validate_id
    from sync.normalize import phone_error

    translated = {m.id for m in _messages(_po())}
    labels = [*display.SYNC_LABELS.values(), *display.REVIEW_LABELS.values(),
              *display.ACTION_LABELS.values(), *merges.STATUS_LABELS.values()]
    errors = [validate_id(raw).error for raw in ("", "42028119800101001X", "420281198013010018",
                                                 "4202811980A1010011")]
    errors.append(phone_error("12345"))
    assert all(errors)
    assert [s for s in labels + errors if s not in translated] == []


# -- the pages -------------------------------------------------------------------

def _html(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_login_page_in_english_and_chinese(client: FlaskClient) -> None:
    chinese = _html(client, "/login")
    assert '<html lang="zh-CN">' in chinese
    assert "登录排查通" in chinese and "用户名" in chinese
    english = _html(client, "/login?lang=en")
    assert '<html lang="en">' in english
    assert "Sign in to Paichatong" in english and "Username" in english and "Password" in english
    # every piece of the page is translated: the only Chinese left is the switch back
    assert CJK.findall(english) == ["中文"]
    # the choice sticks for the session, and ?lang=zh switches back
    assert '<html lang="en">' in _html(client, "/login")
    assert "登录排查通" in _html(client, "/login?lang=zh")


SUPERVISOR_PAGES = {
    "/review/": (["Visits awaiting review", "Unresolved conflicts", "Possible duplicate households to resolve",
                  "Sign out"], ["待审核走访", "未解决冲突", "退出"]),
    "/reports/": (["Screening progress", "To screen", "Screened", "Progress by village"],
                  ["排查进度", "总体进度", "各村完成情况"]),
    "/review/batches": (["Upload batches", "Accepted", "Possible duplicate"], ["上传批次", "已接收"]),
}
ADMIN_PAGES = {
    "/admin/": (["Administration", "Current screening campaign", "Monitoring line"],
                ["系统管理", "当前排查活动", "监测范围"]),
}


def _check(client: FlaskClient, pages: dict[str, tuple[list[str], list[str]]], lang: str) -> None:
    for url, (english, chinese) in pages.items():
        html = _html(client, url)
        if lang == "en":
            assert '<html lang="en">' in html, url
            assert [s for s in english if s not in html] == [], url
            assert [s for s in chinese if s in html] == [], url
        else:
            assert '<html lang="zh-CN">' in html, url
            assert [s for s in chinese if s not in html] == [], url
            assert [s for s in english if s in html] == [], url


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_supervisor_and_admin_pages(client: FlaskClient, auth, town, lang: str) -> None:
    if lang == "en":
        _html(client, "/login?lang=en")
    auth.login("supervisor_a")
    _check(client, SUPERVISOR_PAGES, lang)
    auth.logout()
    auth.login("admin")
    _check(client, ADMIN_PAGES, lang)
