"""Household duplicate matching: one engine for ingest, ``dedup run`` and ``dedup check``.

Modules, one job each:

- :mod:`~sync.dedup.record`: :class:`HouseholdRecord`, the plain view of a household;
- :mod:`~sync.dedup.prepare`: a record's normalised features (ID state, name sounds and
  keys, hamlet with and without its ending);
- :mod:`~sync.dedup.gazetteer`: a roster's own villages, each way of writing one mapped to one;
- :mod:`~sync.dedup.idtypos`: the valid ID numbers one typo away from a number;
- :mod:`~sync.dedup.compare`: two records compared, one level per comparison, the vetoes and caps;
- :mod:`~sync.dedup.weights`: how likely each level is for one household, kin and other;
- :mod:`~sync.dedup.fit`: those weights fitted by EM on the pairs a bulk run scores;
- :mod:`~sync.dedup.score`: one pair's score and its Chinese evidence;
- :mod:`~sync.dedup.match`: one new record against its blocking partners (ingest);
- :mod:`~sync.dedup.members`: a householder who is a member of another household (ingest, ``dedup run``);
- :mod:`~sync.dedup.bulk`: every pair worth a look in a whole roster (``dedup run``/``check``);
- :mod:`~sync.dedup.links`: a run's pairs kept consistent as households;
- :mod:`~sync.dedup.roster`: a roster spreadsheet as records (``dedup check``);
- :mod:`~sync.dedup.gcpause`: the cyclic garbage collector paused during big runs.

The same comparisons, weights and rules score a pair wherever it comes from: a
bulk run fits the weights on the roster it checks (when it has enough pairs to
learn from); a single new household is scored with the weights it is given,
the defaults unless the caller has fitted ones. Nothing here merges anything:
a candidate waits for a supervisor.
"""

from sync.dedup.bulk import BulkStats, PairMatch, Progress, find_duplicates
from sync.dedup.match import BlockingKeys, Candidate, blocking_keys, match_one
from sync.dedup.record import HouseholdRecord

__all__ = ["BlockingKeys", "BulkStats", "Candidate", "HouseholdRecord", "PairMatch", "Progress",
           "blocking_keys", "find_duplicates", "match_one"]
