"""The villages of one roster, each way of writing a village mapped to one name.

A roster typed by many hands writes one village several ways: 沼山村, 沼山,
沼山村委会, 保安镇沼山村, and a homophone (沼杉村). The gazetteer is built
from the roster's own village column (nothing outside it is assumed) and maps
each spelling to the canonical one:

1. cleaned: full-width forms, spaces, traditional characters
   (:func:`sync.normalize.normalize_text`); 村委会/村民委员会 read as 村,
   居委会/居民委员会 as 社区;
2. a town written in front (保安镇沼山村) is dropped when what follows is a
   village the roster also writes without it;
3. spellings that read the same once the 村/社区 ending is set aside (沼山,
   沼山村, 沼杉村) are one village, named by its most frequent spelling.

Two real villages of one town that read alike would be joined by step 3: the
scorer then has one piece of evidence less for telling their households
apart, never a reason to merge them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping

from sync.dedup.prepare import char_readings
from sync.normalize import normalize_text

_COMMITTEE = (("村民委员会", "村"), ("村委会", "村"), ("社区居民委员会", "社区"), ("社区居委会", "社区"),
              ("居民委员会", "社区"), ("居委会", "社区"))
_TOWN_END = re.compile(r"镇|乡|街道")
_ENDINGS = ("社区", "村")


def clean_village(text: str) -> str:
    """The village as typed, cleaned, with a committee ending read as the village's."""
    name = normalize_text(text)
    for ending, replacement in _COMMITTEE:
        if name.endswith(ending) and len(name) > len(ending):
            return name[: -len(ending)] + replacement
    return name


def _town_splits(name: str) -> list[str]:
    """What may follow a town written in front: the rest after each 镇, 乡 or 街道
    (大乡镇鹤港村 gives 镇鹤港村 and 鹤港村), at least two characters of it."""
    return [name[m.end():] for m in _TOWN_END.finditer(name) if m.start() > 0 and len(name) - m.end() >= 2]


def _sound(name: str) -> str:
    """How a village name reads without its 村/社区 ending (the homophone key)."""
    for ending in _ENDINGS:
        if name.endswith(ending) and len(name) > len(ending):
            name = name[: -len(ending)]
            break
    return " ".join(char_readings(c)[0] for c in name)


class Gazetteer:
    """Canonical village names of one roster (see the module note).

    :param spellings: each village as written, with the number of rows that write it so
    """

    def __init__(self, spellings: Mapping[str, int]) -> None:
        counts: Counter[str] = Counter()
        for text, rows in spellings.items():
            counts[clean_village(text)] += rows
        counts.pop("", None)
        plain_sounds = {_sound(name) for name in counts if not _town_splits(name)}
        located: Counter[str] = Counter()
        self._located: dict[str, str] = {}
        for name, count in counts.items():
            place = next((rest for rest in _town_splits(name) if _sound(rest) in plain_sounds), name)
            self._located[name] = place
            located[place] += count
        best: dict[str, tuple[int, str]] = {}
        for name, count in located.items():
            key = _sound(name)
            if key not in best or (-count, name) < (-best[key][0], best[key][1]):
                best[key] = (count, name)
        self._canonical = {name: best[_sound(place)][1] for name, place in self._located.items()}

    def canonical(self, text: str) -> str:
        """The canonical name of a village as written ("" for a blank one)."""
        name = clean_village(text)
        found = self._canonical.get(name)
        if found is not None:
            return found
        return name  # not in the roster the gazetteer was built from: as cleaned

    def __len__(self) -> int:
        return len(set(self._canonical.values()))
