"""Docs as tests: every CLI command is in README.md, the README starts with the two commands,
and docs/ agrees with the code it describes (routes, error codes, the form)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from fieldapp import create_app
from sync.form import DEFAULT_VERSION, load_form

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, ctx: click.Context, prefix: str = "") -> list[str]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or name in {"db", "shell", "routes", "run"}:
            continue
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found += _commands(command, ctx, path + " ")
        else:
            found.append(path)
    return found


def test_readme_starts_with_the_two_commands() -> None:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    assert "scripts/demo.sh" in first_block and "scripts/test.sh" in first_block


@pytest.mark.parametrize("path", sorted(set(_commands(
    create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "TESTING": True}).cli,
    click.Context(click.Group()),
))))
def test_every_cli_command_is_documented(path: str) -> None:
    assert f"fieldapp {path}" in README, f"`fieldapp {path}` is missing from README.md"


@pytest.mark.parametrize("folder", sorted(
    f"{top}/{path.name}/" for top in ("fieldapp", "sync")
    for path in (Path(__file__).parent.parent / top).iterdir()
    if path.is_dir() and not path.name.startswith((".", "__"))))
def test_every_package_is_in_the_layout(folder: str) -> None:
    layout = README.split("\n## Layout", 1)[1]
    assert f"| `{folder}` |" in layout, f"`{folder}` has no line in README.md's layout section"


# -- docs/: the contract, checked against the code it describes ------------------

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
CITING = ("fieldapp", "sync", "tests", "static", "templates", "scripts", "bench", "docs", ".ci")
TEXT_SUFFIXES = {".py", ".md", ".js", ".html", ".sh", ".yaml", ".toml", ".txt", ".css", ".mako", ""}
_MD_CITATION = re.compile(r"(?<![\w.\-/])((?:\.\./|[\w.\-]+/)*[\w\-]+\.md)\b")


def _citing_files() -> list[Path]:
    files = [ROOT / "README.md", ROOT / "CHANGES.md", ROOT / "pyproject.toml"]
    for folder in CITING:
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in TEXT_SUFFIXES and "__pycache__" not in path.parts \
                    and "artifacts" not in path.parts:
                files.append(path)
    return sorted(files)


def _resolves(citation: str, source: Path) -> bool:
    """A cited ``.md`` file exists: next to the citing file, from the repository root,
    or (a bare name such as ``domain.md``) in docs/."""
    candidates = [source.parent / citation, ROOT / citation]
    if "/" not in citation:
        candidates.append(DOCS / citation)
    return any(c.resolve().is_file() and ROOT in c.resolve().parents for c in candidates)


def test_every_cited_markdown_file_is_in_the_repository() -> None:
    missing = []
    outside = []
    for path in _citing_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        if re.search(r"\.\./shared\b", text):  # the product brief is not in the repository
            outside.append(str(path.relative_to(ROOT)))
        for match in _MD_CITATION.finditer(text):
            if not _resolves(match.group(1), path):
                missing.append(f"{path.relative_to(ROOT)}: {match.group(1)}")
    assert not outside, f"citations outside the repository: {outside}"
    assert not missing, f"cited but missing: {missing}"


def test_the_docs_cited_from_code_are_found() -> None:
    """Guard for the scan above: the code's citations of docs/ are seen."""
    cited = set()
    for path in _citing_files():
        if path.suffix == ".py":
            cited |= set(re.findall(r"docs/([\w\-]+\.md)", path.read_text(encoding="utf-8")))
    assert {"visit-form.md", "sync-protocol.md", "domain.md"} <= cited
    assert not {"visit-form.md", "sync-protocol.md", "domain.md", "api.md"} - {p.name for p in DOCS.glob("*.md")}


def _section(text: str, heading: str) -> str:
    """The text of a ``## heading`` section, up to the next ``## `` heading."""
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start:] if end < 0 else text[start:end]


SYNC_PROTOCOL = (DOCS / "sync-protocol.md").read_text(encoding="utf-8")


def test_sync_protocol_lists_every_route_of_the_api() -> None:
    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    documented = set(re.findall(r"^\| `([A-Z]+)` \| `(/api/v1/[^`]*)` \|", SYNC_PROTOCOL, re.MULTILINE))
    assert len(routes) >= 6
    assert routes == documented


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _literal_argument(node: ast.Call, position: int, keyword: str) -> str | None:
    if len(node.args) > position:
        argument = node.args[position]
        return argument.value if isinstance(argument, ast.Constant) and isinstance(argument.value, str) else None
    for item in node.keywords:
        if item.arg == keyword and isinstance(item.value, ast.Constant) and isinstance(item.value.value, str):
            return item.value.value
    return None


def error_codes_in_code() -> set[str]:
    """Every error code the API can answer with: the codes of the one catalogue."""
    from sync.errors import KINDS

    return {kind.code for kind in KINDS.values()}


def _error_classes(trees: list[ast.Module]) -> set[str]:
    """``SyncError`` and the classes derived from it, found by name in the sources."""
    found = {"SyncError"}
    while True:
        more = {node.name for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                and any(getattr(base, "id", getattr(base, "attr", None)) in found for base in node.bases)}
        if more <= found:
            return found
        found |= more


def test_every_error_raised_is_in_the_catalogue() -> None:
    """``SyncError("kind", ...)``, its subclasses' (``Invalid("kind")``, ``NodeError("kind")``)
    and ``json_error("kind", ...)`` name kinds of the catalogue (a typo on a path no test
    takes would be a 500 instead of the error meant), as a literal, never a message."""
    from sync.errors import KINDS

    trees = [ast.parse(path.read_text(encoding="utf-8"))
             for folder in ("fieldapp", "sync") for path in (ROOT / folder).rglob("*.py")]
    classes = _error_classes(trees)
    assert {"ReviewError", "Invalid", "NotFound", "NodeError", "DedupError"} <= classes
    named: set[str] = set()
    not_literal: list[str] = []
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in classes | {"json_error"}:
                kind = _literal_argument(node, 0, "kind")
                if kind is not None:
                    named.add(kind)
                elif _call_name(node) not in ("SyncError", "json_error") and node.args and not (
                        ast.unparse(node.args[0]).endswith("kind")):  # a kind held in a variable
                    not_literal.append(ast.unparse(node))
    from sync.roster_file import IMPORT_NEEDS, MATCHING_NEEDS

    named |= {IMPORT_NEEDS.missing_kind, MATCHING_NEEDS.missing_kind}
    assert {"bad_cursor", "busy", "cursor_mismatch", "invalid_credentials", "merge_undone"} <= named
    assert sorted(named - set(KINDS)) == []
    assert not_literal == [], "a domain error takes a kind of sync/errors.py KINDS, not a message"


def test_sync_protocol_lists_every_error_code() -> None:
    codes = error_codes_in_code()
    # If a refactoring hides the codes from this scan, fail rather than pass on an empty set.
    assert {"malformed_json", "bad_cursor", "too_large", "invalid_request", "batch_id_conflict",
            "too_many_attempts", "invalid_credentials", "no_active_campaign", "busy", "not_found",
            "token_expired", "invalid_characters"} <= codes
    documented = set(re.findall(r"^\| \d{3} \| `([a-z_]+)` \|", _section(SYNC_PROTOCOL, "Errors"), re.MULTILINE))
    assert sorted(codes - documented) == [], "error codes missing from docs/sync-protocol.md"
    assert sorted(documented - codes) == [], "documented error codes the code no longer has"


def test_sync_protocol_lists_every_refusal_code_of_a_record() -> None:
    import sync.ingest

    codes = {value for name, value in vars(sync.ingest).items()
             if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z_]+", value)}
    assert {"out_of_scope", "unknown_campaign", "unknown_form_version"} <= codes
    documented = set(re.findall(r"^\| `[a-z_]+` \| `([a-z_]+)` \|", SYNC_PROTOCOL, re.MULTILINE))
    assert codes <= documented


VISIT_FORM = (DOCS / "visit-form.md").read_text(encoding="utf-8")


def test_visit_form_lists_every_field_with_its_label_and_type() -> None:
    form = load_form(DEFAULT_VERSION)
    rows = {m.group(1): (m.group(2), m.group(3), m.group(4)) for m in re.finditer(
        r"^\| `([a-z_0-9]+)` \| ([^|]+) \| ([a-z0-9]+) \| (yes|no) \|", VISIT_FORM, re.MULTILINE)}
    assert set(rows) == {f.id for f in form.fields}
    for f in form.fields:
        assert rows[f.id] == (f.label, f.type, "yes" if f.household else "no"), f.id


def test_visit_form_quotes_every_message_check_and_flag() -> None:
    form = load_form(DEFAULT_VERSION)
    for key, template in form.messages.items():
        assert f"| `{key}` | {template} |" in VISIT_FORM, key
    for check in form.checks:
        assert f"| `{check['when']}` |" in VISIT_FORM or check["when"] == "true", check["when"]
        assert f"| `{check['require']}` | `{check['field']}` | {check['message']} |" in VISIT_FORM
    for flag in form.flags:
        assert f"| `{flag['id']}` | {flag['label']} | `{flag['rule']}` |" in VISIT_FORM, flag["id"]
    for f in form.fields:
        if f.type == "computed":
            assert f"`{f.get('formula')}`" in VISIT_FORM, f.id
        for choice in f.choices:
            assert f"`{choice.code}` {choice.label}" in VISIT_FORM, (f.id, choice.code)


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_the_docs_reach_their_headings() -> None:
    anchors = {page.name: {_anchor(h) for h in re.findall(r"^#+ (.+)$", page.read_text(encoding="utf-8"),
                                                            re.MULTILINE)}
               for page in DOCS.glob("*.md")}
    broken = []
    for page in DOCS.glob("*.md"):
        for target, anchor in re.findall(r"\]\(([\w\-]*\.md)?#([^)]+)\)", page.read_text(encoding="utf-8")):
            if anchor not in anchors.get(target or page.name, set()):
                broken.append(f"{page.name}: {target}#{anchor}")
    assert not broken


def test_the_summary_example_of_domain_md_is_what_the_code_writes() -> None:
    from fieldapp.reports.queries import Progress, ProgressRow
    from fieldapp.reports.summary import town_summary

    totals = ProgressRow(None, "合计", households=13740, visited=13740, general=13046, lifted=659,
                         monitored=45, monitored_lifted=10, monitored_eliminated=12, suggest_monitor=4,
                         suggest_monitor_people=10, suggest_eliminate=3, suggest_eliminate_people=8,
                         below_monitoring_line=5, below_10k=2)
    text = (DOCS / "domain.md").read_text(encoding="utf-8")
    example = text.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert example == town_summary(Progress(rows=[], totals=totals))
