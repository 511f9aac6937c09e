"""PostgreSQL's planner statistics, kept current by the server itself when autovacuum does not.

A county's central fills its tables in bursts (ten towns' first rounds: 137,000 households
and visits in a minute). A table never analysed is planned as if it were small: the report
rollups' steps chose the wrong index and took three times as long (0.65 against 0.2 ms a
household), and with autovacuum switched off, as on some servers, that lasts forever.
The report follower (``fieldapp/reports/follower.py``) calls :func:`analyze_stale` before its
steps; where autovacuum runs, it has usually analysed the tables first (its threshold is lower).
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from fieldapp.db.engine import AnySession

log = logging.getLogger(__name__)

# A table is stale once more rows changed since its last ANALYZE than this many plus this
# share of its rows (autovacuum's defaults are 50 and 10%).
STALE_ROWS = 1000
STALE_SHARE = 0.2
ADVISORY_KEY = 0x66_69_65_6C_64_61  # "fielda": this database's "statistics being refreshed"


def stale_tables(session: AnySession) -> list[str]:
    """The tables of the current schema whose statistics are stale (none on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    rows = session.execute(sa.text(
        "SELECT relname, n_live_tup, n_mod_since_analyze FROM pg_stat_user_tables "
        "WHERE schemaname = current_schema() ORDER BY relname"))
    return [row.relname for row in rows if row.n_mod_since_analyze > STALE_ROWS + STALE_SHARE * row.n_live_tup]


def analyze_stale(session: AnySession) -> list[str]:
    """ANALYZE each stale table in one transaction; the tables analysed.

    Every server process runs a follower: the first to take the database's advisory
    lock for it analyses, the others skip (two ANALYZEs of a table wait for each other
    and do the same work twice)."""
    session.rollback()
    if session.get_bind().dialect.name != "postgresql" or not session.scalar(
            sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_KEY}):
        session.rollback()
        return []
    names = stale_tables(session)
    quote = session.get_bind().dialect.identifier_preparer.quote
    for name in names:
        session.execute(sa.text(f"ANALYZE {quote(name)}"))
    session.commit()
    if names:
        log.info("analysed %s", ", ".join(names))
    return names
