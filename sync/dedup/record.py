"""The plain view of a household that matching needs (from the database, a roster file or a push)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class HouseholdRecord:
    id: str
    village_id: int | None
    head_name: str
    head_id: str
    phone: str | None = None
    group: str | None = None
    hamlet: str | None = None
    size: int | None = None
    town_id: int | None = None


class RecordLike(Protocol):
    """What matching reads (:class:`HouseholdRecord` has it)."""

    @property
    def id(self) -> str: ...
    @property
    def village_id(self) -> int | None: ...
    @property
    def head_name(self) -> str: ...
    @property
    def head_id(self) -> str: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def group(self) -> str | None: ...
    @property
    def hamlet(self) -> str | None: ...
    @property
    def size(self) -> int | None: ...
    @property
    def town_id(self) -> int | None: ...
