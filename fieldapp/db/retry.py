"""Transactions PostgreSQL aborted to break a deadlock or a serialisation conflict: the
standard answer is to run the whole transaction again (nothing of it was committed)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
T = TypeVar("T")

# deadlock_detected, serialization_failure
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is a transaction the database aborted and that may simply run again."""
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def run_again_if_aborted(work: Callable[[], T], *, rollback: Callable[[], None], attempts: int = 4,
                         what: str = "transaction") -> T:
    """``work()``, run again (after ``rollback()`` and a short random pause) while the
    database aborts it as a deadlock victim or a serialisation failure; the last failure
    is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if not is_retryable(error) or attempt == attempts:
                raise
            rollback()
            log.warning("%s aborted by the database (%s), attempt %d of %d: running it again",
                        what, getattr(error.orig, "sqlstate", "?"), attempt, attempts)
            time.sleep(random.uniform(0.05, 0.25) * attempt)
    raise AssertionError("unreachable")
