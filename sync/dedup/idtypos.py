"""The checksum-valid ID numbers one typo away from a number (GB 11643 MOD 11-2).

MOD 11-2 catches every single substitution and every adjacent swap of the
first 17 digits, so from an invalid number the valid numbers it may have been
typed from can be listed instead of searched: for each position the one digit
that makes the check character right, if any.
"""

from __future__ import annotations

from sync.idnumber import CHECK_CHARS, WEIGHTS

_INVERSE_MOD11 = {w: pow(w, -1, 11) for w in set(WEIGHTS)}


def _checks(value: str) -> bool:
    return CHECK_CHARS[sum((ord(c) - 48) * w for c, w in zip(value[:17], WEIGHTS, strict=True)) % 11] == value[17]


def typo_neighbours(id_value: str) -> set[str]:
    """The checksum-valid numbers one typo away from an 18-character number.

    One substitution in the first 17 digits (for each position, the one digit
    that makes the check character right, if there is one), a corrected check
    character, or one adjacent swap. For a valid number only the swap of the
    last two characters is listed: it is the one typo that can turn a valid
    number into another valid one (its other one-typo variants are all invalid).

    :param id_value: a normalised 18-character number (17 digits + digit/X)
    """
    found: set[str] = set()
    if len(id_value) != 18 or not (id_value[:16].isascii() and id_value[:16].isdigit()):
        return found
    if id_value[16] == "X" and id_value[17].isdigit():
        # The X of the check position typed one place early (swap) or in place of a digit.
        for digit in "0123456789":
            if _checks(id_value[:16] + digit + id_value[17]):
                found.add(id_value[:16] + digit + id_value[17])
        if _checks(id_value[:16] + id_value[17] + "X"):
            found.add(id_value[:16] + id_value[17] + "X")
        return found
    if not id_value[16].isdigit():
        return found
    digits = id_value[:17]
    check = id_value[17]
    values = [ord(c) - 48 for c in digits]
    total = sum(d * w for d, w in zip(values, WEIGHTS, strict=True)) % 11
    if check != "X" and digits[16] != check:
        last = ord(check) - 48
        tail_total = (total + (last - values[16]) * WEIGHTS[16]) % 11
        if CHECK_CHARS[tail_total] == digits[16]:
            found.add(digits[:16] + check + digits[16])
    target = CHECK_CHARS.find(check)
    if target == total or target < 0:
        return found
    found.add(digits + CHECK_CHARS[total])
    for i in range(17):
        d = (values[i] + (target - total) * _INVERSE_MOD11[WEIGHTS[i]]) % 11
        if d <= 9 and d != values[i]:
            found.add(digits[:i] + chr(48 + d) + digits[i + 1:] + check)
        if i < 16 and values[i] != values[i + 1]:
            swapped = (total + (values[i + 1] - values[i]) * (WEIGHTS[i] - WEIGHTS[i + 1])) % 11
            if swapped == target:
                found.add(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:] + check)
    return found
