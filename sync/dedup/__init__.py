"""Household duplicate matching: one engine for ingest, ``dedup run`` and ``dedup check``.

Modules, one job each:

- :mod:`~sync.dedup.record`: :class:`HouseholdRecord`, the plain view of a household;
- :mod:`~sync.dedup.prepare`: a record's normalised features (ID state, name sounds, place);
- :mod:`~sync.dedup.idtypos`: the valid ID numbers one typo away from a number;
- :mod:`~sync.dedup.score`: one pair's score and its Chinese evidence;
- :mod:`~sync.dedup.match`: one new record against its blocking partners (ingest);
- :mod:`~sync.dedup.bulk`: every pair worth a look in a whole roster (``dedup run``/``check``);
- :mod:`~sync.dedup.roster`: a roster spreadsheet as records (``dedup check``).

Nothing here merges anything: a candidate waits for a supervisor.
"""

from sync.dedup.bulk import BulkStats, PairMatch, Progress, find_duplicates
from sync.dedup.match import BlockingKeys, Candidate, blocking_keys, match_one
from sync.dedup.record import HouseholdRecord

__all__ = ["BlockingKeys", "BulkStats", "Candidate", "HouseholdRecord", "PairMatch", "Progress",
           "blocking_keys", "find_duplicates", "match_one"]
