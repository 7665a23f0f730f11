"""Parse the ``git log -p`` stream into commits and hunks, without holding more than a hunk.

The stream is what ``gitlog`` asked for: a commit marker line (NUL NUL hash NUL date), then
for each file ``diff --git``, headers, ``--- a/old`` and ``+++ b/new``, and hunks. A hunk's
header says how many old and new lines follow, so the parser counts them instead of
guessing where a hunk ends (a removed line ``-- x`` or an added ``++ y`` looks like a header
otherwise). Binary files have no hunks (``Binary files … differ``) and are skipped by
construction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from auditor.history.gitlog import COMMIT_MARKER, MAX_FILE_LINES
from auditor.output.records import record

_HUNK_RE = re.compile(r"^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@ ?(.*)$")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@record
class Commit:
    """A commit of the log: where a credential was first or last seen."""

    hash: str
    date: str  # author date, ISO 8601 with the author's offset
    timestamp: int  # the same date in seconds since the epoch, to order commits


@record
class Hunk:
    """Consecutive changed lines of one file in one commit, with their context."""

    commit: Commit
    path: str  # the file after the change (before it, for a deleted file)
    header: str  # the line git names after ``@@``: the job, section or target above
    lines: tuple[str, ...]  # each starts with "+", "-" or " "


def unquote_path(text: str) -> str:
    """A path as git prints it: C-quoted (``"a/caf\\303\\251"``) when it has unusual bytes
    (``core.quotePath``), else as is."""
    if not (text.startswith('"') and text.endswith('"') and len(text) >= 2):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            digits = body[i + 1:i + 4]
            if len(digits) == 3 and all(d in "01234567" for d in digits):
                out.append(int(digits, 8) & 0xFF)
                i += 4
                continue
            out.append(_ESCAPES.get(nxt, ord(nxt) & 0xFF))
            i += 2
            continue
        out += char.encode("utf-8", "surrogateescape")
        i += 1
    return out.decode("utf-8", "surrogateescape")


def _file_path(line: str, prefix: str) -> str | None:
    """The path of a ``--- a/x`` or ``+++ b/x`` line; ``None`` for ``/dev/null``."""
    name = unquote_path(line[4:].rstrip("\t"))
    if name == "/dev/null":
        return None
    return name[len(prefix):] if name.startswith(prefix) else name


@dataclass(slots=True)
class ParseStats:
    """What the parser read and what its bounds skipped."""

    commits: int = 0
    files_cut: int = 0  # file diffs longer than MAX_FILE_LINES in one commit, cut there


def parse(lines: Iterable[str], stats: ParseStats) -> Iterator[Hunk]:
    """The hunks of the stream, newest commit first. ``stats`` counts as it goes."""
    commit: Commit | None = None
    old_path: str | None = None
    path: str | None = None
    file_lines = 0
    iterator = iter(lines)
    for line in iterator:
        first = line[:1]  # one dispatch on the first character: this loop sees every line
        if first == "\x00" and line.startswith(COMMIT_MARKER):
            fields = line[len(COMMIT_MARKER):].split("\x00")
            stamp = fields[2] if len(fields) > 2 else ""
            commit = Commit(fields[0], fields[1] if len(fields) > 1 else "",
                            int(stamp) if stamp.isdigit() else 0)
            stats.commits += 1
            path = old_path = None
        elif first == "d" and line.startswith("diff --git "):
            path = old_path = None
            file_lines = 0
        elif first == "-" and line.startswith("--- "):
            old_path = _file_path(line, "a/")
        elif first == "+" and line.startswith("+++ "):
            path = _file_path(line, "b/") or old_path
        elif first == "@" and commit is not None and path is not None:
            match = _HUNK_RE.match(line)
            if match is None:
                continue
            old_left = int(match.group(1) or "1")
            new_left = int(match.group(2) or "1")
            body: list[str] = []
            for text in iterator:
                sign = text[:1]
                if sign == "+":
                    new_left -= 1
                elif sign == "-":
                    old_left -= 1
                elif sign == " " or not sign:
                    old_left -= 1
                    new_left -= 1
                    text = text or " "
                elif sign == "\\":  # "\ No newline at end of file"
                    continue
                else:  # not a hunk line: a damaged stream; stop this hunk
                    break
                file_lines += 1
                if file_lines <= MAX_FILE_LINES:
                    body.append(text)
                elif file_lines == MAX_FILE_LINES + 1:
                    stats.files_cut += 1
                if old_left <= 0 and new_left <= 0:
                    break
            if body:
                yield Hunk(commit, path, match.group(3), tuple(body))
