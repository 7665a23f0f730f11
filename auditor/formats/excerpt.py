"""The source line a finding points at, as a format may print it: redacted, inert, clipped.

This is the one place where output reads the text of scanned files, so it is where secrets
are masked (``auditor.output.redact``) and control characters escaped
(``auditor.output.inert``). Secrets are found in the whole file once, not in the line, so a
key body spread over several lines or a token cut by the clip is masked all the same. A line
is clipped to ``CONTEXT`` characters either side of the span (and a span to ``MAX_SPAN``),
marked with ``…``: a one-line workflow of a thousand jobs would otherwise print the whole
line per finding, and the output would grow with the square of the input.
"""

from __future__ import annotations

from bisect import bisect_right

from auditor.output.inert import escape_char, is_unsafe
from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.output.redact import secret_spans
from auditor.reading.source import SourceFile

CONTEXT = 200
MAX_SPAN = 400
_LINE_START_RE = lazy_re(r"\r\n|\r|\n")


@record
class Excerpt:
    """A line as shown, and the 0-based columns of the span in the shown text."""

    text: str
    start: int
    end: int


def _per_line(source: SourceFile) -> dict[int, list[tuple[int, int, str]]]:
    """The secrets of a file as (start, end, mask) per 0-based line, in line columns."""
    spans = secret_spans(source.text)
    if not spans:
        return {}
    starts = [0] + [m.end() for m in _LINE_START_RE.finditer(source.text)]
    out: dict[int, list[tuple[int, int, str]]] = {}
    for start, end, mask in spans:
        line = bisect_right(starts, start) - 1
        line_end = starts[line] + len(source.lines[line]) if line < len(source.lines) \
            else len(source.text)
        # A token never spans lines; a mask that would is cut at the end of the line.
        out.setdefault(line, []).append((start - starts[line],
                                         min(end, line_end) - starts[line], mask))
    return out


def clip(line: str, secrets: list[tuple[int, int, str]], start: int, end: int) -> Excerpt:
    """``line`` around the 0-based span ``start:end``, secrets masked, unsafe characters
    escaped, tabs as spaces, cut ends marked with ``…``."""
    start = min(max(start, 0), len(line))
    end = min(max(end, start), len(line))
    low = max(0, start - CONTEXT)
    high = min(len(line), end + CONTEXT, start + MAX_SPAN + CONTEXT)
    for s, e, _ in secrets:
        if s < low < e:
            low = s
        if s < high < e:
            high = e
    parts = ["…"] if low > 0 else []
    size = len(parts[0]) if parts else 0
    shown_start = shown_end = -1
    pending = [(s, e, m) for s, e, m in secrets if e > low and s < high]
    position = low
    while position < high:
        if position >= start and shown_start < 0:
            shown_start = size
        if position >= end and shown_end < 0:
            shown_end = size
        if pending and pending[0][0] <= position:
            s, e, mask = pending.pop(0)
            if s < start < e and shown_start < 0:
                shown_start = size
            parts.append(mask)
            size += len(mask)
            if s < end < e and shown_end < 0:
                shown_end = size
            position = max(e, position + 1)
            continue
        char = line[position]
        piece = " " if char == "\t" else (escape_char(char) if is_unsafe(char) else char)
        parts.append(piece)
        size += len(piece)
        position += 1
    if shown_start < 0:
        shown_start = size
    if shown_end < 0:
        shown_end = size
    if high < len(line):
        parts.append("…")
    return Excerpt("".join(parts), shown_start, max(shown_end, shown_start))


class Excerpts:
    """Source lines of one report's files, with each file's secrets found once."""

    def __init__(self, sources: dict[str, SourceFile]) -> None:
        self._sources = sources
        self._secrets: dict[str, dict[int, list[tuple[int, int, str]]]] = {}

    def line(self, path: str, line: int, start: int, end: int) -> Excerpt | None:
        """The 1-based ``line`` of ``path`` around 0-based columns ``start:end``."""
        source = self._sources.get(path)
        if source is None or not 0 < line <= len(source.lines):
            return None
        if path not in self._secrets:
            self._secrets[path] = _per_line(source)
        secrets = self._secrets[path].get(line - 1, [])
        return clip(source.lines[line - 1], secrets, start, end)
