"""GitHub code scanning's ``primaryLocationLineHash``, computed the way ``upload-sarif`` does.

Code scanning recognises an alert across commits by this value only. When a SARIF file
carries none, ``github/codeql-action/upload-sarif`` computes it from the checked-out file;
when it carries a different one, the action warns and keeps ours. Computing the identical
value here makes uploads through the REST API de-duplicate too, and keeps the action quiet.

The algorithm (github/codeql-action ``src/fingerprints.ts``, checked against the test vectors
of its ``fingerprints.test.ts``): a polynomial rolling hash, base 37 modulo 2**64, over a
window of the next 100 characters starting at each line, where characters are UTF-16 code
units, spaces and tabs are skipped, ``\\r\\n`` and ``\\r`` count as ``\\n``, and the input is
followed by the sentinel 65535 and 100 zeros. A line's value is ``"<hex>:<n>"``, ``n``
numbering identical hashes in file order. Because it depends only on the line and the text
that follows it, adding unrelated lines above a finding keeps its value.
"""

from __future__ import annotations

import sys
from array import array
from itertools import chain, repeat

_WINDOW = 100
_BASE = 37
_MASK = (1 << 64) - 1
_BASE_POWER = pow(_BASE, _WINDOW, 1 << 64)  # the weight of the unit leaving the window
_EOF = 0xFFFF
_TAB, _LF, _CR, _SPACE = 0x09, 0x0A, 0x0D, 0x20


def _code_units(text: str) -> array[int]:
    units = array("H")
    units.frombytes(text.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":
        units.byteswap()
    return units


def line_hashes(text: str) -> list[str]:
    """The hash of every line of ``text``: element ``i`` belongs to line ``i + 1``.

    Lines end at ``\\n``, ``\\r\\n`` or ``\\r`` (as GitHub counts them), so a text ending in a
    newline has one more, empty, line.
    """
    window = [0] * _WINDOW
    line_at = [0] * _WINDOW  # the 1-based line that starts at this window slot, 0 = none
    counts: dict[str, int] = {}
    hashes: list[str] = []
    value = 0
    slot = 0
    lines = 0
    at_line_start = True
    after_cr = False
    # The 100 trailing zeros go through the same steps: once the sentinel is read no new
    # line can start, so each zero only flushes the line whose window it completes.
    for unit in chain(_code_units(text), (_EOF,), repeat(0, _WINDOW)):
        if unit in (_SPACE, _TAB) or (after_cr and unit == _LF):
            after_cr = False
            continue
        after_cr = unit == _CR
        if after_cr:
            unit = _LF
        if line_at[slot]:
            key = format(value, "x")
            counts[key] = counts.get(key, 0) + 1
            hashes.append(f"{key}:{counts[key]}")
            line_at[slot] = 0
        if at_line_start:
            at_line_start = False
            lines += 1
            line_at[slot] = lines
        if unit == _LF:
            at_line_start = True
        value = (value * _BASE + unit - _BASE_POWER * window[slot]) & _MASK
        window[slot] = unit
        slot = slot + 1 if slot + 1 < _WINDOW else 0
    return hashes
