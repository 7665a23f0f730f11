"""Map an offset inside a scalar's value back to the file, for spans inside ``run:`` scripts.

A literal block scalar (``|``) keeps its lines, so value line *i* is file line
``start + 1 + i`` shifted by the block's indentation; a plain or quoted one-line scalar is
verbatim after its opening quote. Anything else (folded blocks, escapes) is found by
searching the node's lines for the text, and failing that the caller keeps the whole node.
Every computed position is checked against the file text before it is trusted.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache

from auditor.output.lazyre import lazy_re
from auditor.reading.source import SourceFile
from auditor.reading.yamlsource import Scalar

Span = tuple[int, int, int, int]
_NEWLINE_RE = lazy_re("\n")


def _verify(source: SourceFile, line: int, col: int, text: str) -> bool:
    if not 0 <= line < len(source.lines):
        return False
    return source.lines[line][col:col + len(text)] == text


@lru_cache(maxsize=64)
def _line_starts(value: str) -> tuple[int, ...]:
    """Offsets where each line of ``value`` starts: computed once per script, so a script
    with thousands of commands is not re-counted from its start for each one."""
    return (0, *(match.end() for match in _NEWLINE_RE.finditer(value)))


def scalar_span(source: SourceFile, node: Scalar, start: int, end: int) -> Span | None:
    """The 0-based file span of ``node.value[start:end]`` (first line of it), or ``None``."""
    value = node.value
    piece = value[start:end].split("\n", 1)[0]
    if not piece:
        return None
    starts = _line_starts(value)
    line_idx = bisect_right(starts, start) - 1
    col_in_line = start - starts[line_idx]
    if node.style == "|":
        first = node.start.line + 1
        indent = None
        for ln in range(first, min(first + 1 + line_idx + 50, len(source.lines))):
            stripped = source.lines[ln].lstrip(" ")
            if stripped:
                indent = len(source.lines[ln]) - len(stripped)
                break
        if indent is not None:
            line = first + line_idx
            col = indent + col_in_line
            if _verify(source, line, col, piece):
                return (line, col, line, col + len(piece))
    elif line_idx == 0 and node.start.line == node.end.line:
        col = node.start.column + (0 if node.plain else 1) + col_in_line
        if _verify(source, node.start.line, col, piece):
            return (node.start.line, col, node.start.line, col + len(piece))
    last = min(node.end.line, len(source.lines) - 1)
    for line in range(node.start.line, last + 1):
        text = source.lines[line]
        col = text.find(piece, node.start.column if line == node.start.line else 0)
        if col >= 0:
            return (line, col, line, col + len(piece))
    return None
