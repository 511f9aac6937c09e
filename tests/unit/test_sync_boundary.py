"""sync/ must not import Flask, its extensions, WTForms, SQLAlchemy or fieldapp (sync/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SYNC = ROOT / "sync"
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "wtforms", "sqlalchemy", "fieldapp")


def modules_under(package: Path) -> list[str]:
    """Every module of ``package``, subpackages included (a package as its ``__init__``)."""
    names = []
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(names)


def sync_modules() -> list[str]:
    return modules_under(SYNC)


def test_sync_modules_are_found() -> None:
    assert {"sync", "sync.ingest", "sync.merge", "sync.protocol", "sync.store", "sync.errors"} <= set(sync_modules())


def test_the_dedup_package_and_roster_reader_are_walked() -> None:
    assert {"sync.dedup", "sync.dedup.bulk", "sync.roster_file"} <= set(sync_modules())


def test_subpackages_are_walked(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub" / "deeper").mkdir(parents=True)
    for name in ("__init__.py", "a.py", "sub/__init__.py", "sub/b.py", "sub/deeper/__init__.py", "sub/deeper/c.py"):
        (package / name).write_text("", encoding="utf-8")
    assert modules_under(package) == ["pkg", "pkg.a", "pkg.sub", "pkg.sub.b", "pkg.sub.deeper", "pkg.sub.deeper.c"]


def test_no_sync_module_loads_flask_sqlalchemy_or_fieldapp() -> None:
    modules = sync_modules()
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"sync/ loaded: {result.stdout.strip()}"
