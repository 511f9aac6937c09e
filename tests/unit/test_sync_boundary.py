"""sync/ must not import Flask, its extensions, WTForms, SQLAlchemy or fieldapp (sync/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "wtforms", "sqlalchemy", "fieldapp")


def sync_modules() -> list[str]:
    """Every module of sync/ and its subpackages (a package by its name)."""
    found = []
    for path in (ROOT / "sync").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return sorted(set(found) - {"sync"})


def test_sync_modules_are_found() -> None:
    assert {"sync.ingest", "sync.merge", "sync.protocol", "sync.store", "sync.errors"} <= set(sync_modules())
    assert {"sync.dedup", "sync.dedup.bulk", "sync.roster_file"} <= set(sync_modules())


def test_no_sync_module_loads_flask_or_fieldapp() -> None:
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
