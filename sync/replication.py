"""The pure rules of town → central replication (docs/replication.md): the position in a
town's feed, and when to try again after a failure.

Shapes: a town's *feed* is every replicated row that took a change number, read in the
total order ``(change number, stream, key)`` (several rows may share a number: a roster
import renumbers many households with one). :class:`FeedCursor` is a position in that
order; its string form travels between town and central and is stored by central per
node (``nodes.up_cursor``), moved in the same transaction as the rows it covers.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

# The feed's streams, in the order rows sharing a change number are read (and applied:
# a household before its revisions and visits, a visit before its conflicts). Photos
# come last: a complete photo with its bytes, one bounded record each.
STREAMS = ("households", "revisions", "visits", "conflicts", "candidates", "merges",
           "decisions", "commands", "photos")
LAST_STREAM = len(STREAMS) - 1
_END = "\uffff"
_WHOLE = re.compile(r"^(0|[1-9][0-9]{0,18})$")
_INSIDE = re.compile(r"^(0|[1-9][0-9]{0,18})\.([0-9])\.(.{1,80})$", re.S)


class BadFeedCursor(ValueError):
    """A cursor string that is not one of ours."""


@dataclass(frozen=True, order=True)
class FeedCursor:
    """``(seq, stream, key)``: everything up to and including that row was sent.

    ``FeedCursor(n)`` (stream past the last, key past every key) means every row
    numbered up to ``n``; :data:`FEED_START` means nothing yet.
    """

    seq: int
    stream: int = LAST_STREAM
    key: str = _END

    def __str__(self) -> str:
        if self.seq < 0:
            return ""
        if self.stream == LAST_STREAM and self.key == _END:
            return str(self.seq)
        return f"{self.seq}.{self.stream}.{self.key}"

    @property
    def whole(self) -> bool:
        """Whether the position is at the end of its change number."""
        return self.stream == LAST_STREAM and self.key == _END


FEED_START = FeedCursor(-1)


def parse_feed_cursor(text: str | None) -> FeedCursor:
    """The position a cursor string names; empty means :data:`FEED_START`.

    :raises BadFeedCursor: for anything else
    """
    if not text:
        return FEED_START
    if _WHOLE.match(text):
        return FeedCursor(int(text))
    match = _INSIDE.match(text)
    if not match or int(match.group(2)) > LAST_STREAM:
        raise BadFeedCursor(text)
    return FeedCursor(int(match.group(1)), int(match.group(2)), match.group(3))


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: the n-th consecutive failure waits a random
    time in ``[0, min(cap, base * 2**n)]``, at least ``floor`` (no hammering a server
    that answered at once with an error).

    :param base: seconds for the first failure
    :param cap: the longest wait
    """

    base: float = 5.0
    cap: float = 600.0
    floor: float = 1.0

    def delay(self, failures: int, rng: random.Random | None = None) -> float:
        if failures <= 0:
            return 0.0
        ceiling = min(self.cap, self.base * 2 ** min(failures - 1, 30))
        pick = (rng or random).uniform(0, ceiling)
        return max(self.floor, pick)
