"""README's "Running a county" commands, run as written: a central on PostgreSQL and the demo
town on SQLite on this machine, one replication round, the node listed on central."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, require_postgres
from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

pytestmark = pytest.mark.slow


def county_block() -> str:
    section = README.split("## Running a county", 1)[1].split("\n## ", 1)[0]
    return section.split("```bash", 1)[1].split("```", 1)[0]


def test_the_county_block_uses_the_documented_commands() -> None:
    block = county_block()
    for command in ("fieldapp node create baoan --town 保安镇", "fieldapp replicate", "fieldapp node list",
                    "fieldapp report progress --campaign 2023-jzpc --format json",
                    "FIELDAPP_UPSTREAM_URL", "FIELDAPP_UPSTREAM_TOKEN", "postgresql+psycopg"):
        assert command in block


def test_the_county_commands_run_as_written(tmp_path: Path) -> None:
    require_postgres()
    database = f"fieldapp_county_{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "COUNTY": str(tmp_path / "county"), "COUNTY_DB": database,
           "CENTRAL_PORT": str(free_port())}
    for key in [k for k in env if k.startswith("FIELDAPP_")]:
        del env[key]
    process = subprocess.Popen(["bash", "-euo", "pipefail", "-c", county_block()], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        subprocess.run(["pkill", "-f", f"fieldapp serve --port {env['CENTRAL_PORT']}"], check=False)
        admin = sa.create_engine(re.sub(r"/[^/?]*(\?|$)", r"/postgres\1", PG_URL, count=1),
                                 isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
    assert process.returncode == 0, output[-3000:]
    assert "同步完成" in output, output[-2000:]
    assert re.search(r"上传：农户\d+", output), output[-2000:]
    node_line = next(line for line in output.splitlines() if line.startswith("baoan\t"))
    assert "保安镇" in node_line and "正常" in node_line
    # central's report: the county, its town, the town's villages
    county = json.loads((tmp_path / "county" / "county-progress.json").read_text(encoding="utf-8"))
    assert [town["town"] for town in county["towns"]] == ["保安镇"]
    assert county["summary"].startswith("截至目前，全县共完成排查")
    assert county["towns"][0]["summary"].startswith("截至目前，保安镇共完成排查")
    assert len(county["towns"][0]["villages"]) == 30 and county["totals"]["visited"] > 0
