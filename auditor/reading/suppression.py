"""Inline suppression comments: ``# pubaudit: ignore[rule-a, rule-b]`` on a finding's line.

One parser for the engine, which suppresses what the comment names, and for the
``unknown-suppression`` rule, which reports names that suppress nothing (a misspelt id
would otherwise hide nothing and look as if it did). ``all`` names every rule.
"""

from __future__ import annotations

import re

from auditor.output.lazyre import lazy_re
from auditor.output.records import record

_IGNORE_RE = lazy_re(r"#\s*pubaudit:\s*ignore\[([^\]]*)\]", re.I)
EVERY_RULE = "all"


@record
class IgnoredName:
    """One name inside the brackets, with its 0-based column range on the line."""

    name: str
    column: int
    end_column: int


def ignored_names(line: str) -> tuple[IgnoredName, ...]:
    """The names an ignore comment on ``line`` gives, in order; ``()`` without one."""
    match = _IGNORE_RE.search(line)
    if match is None:
        return ()
    names = []
    offset = match.start(1)
    for part in match.group(1).split(","):
        name = part.strip()
        if name:
            start = offset + part.index(name)
            names.append(IgnoredName(name, start, start + len(name)))
        offset += len(part) + 1
    return tuple(names)


def suppresses(line: str, rule: str) -> bool:
    """Whether an ignore comment on ``line`` names ``rule`` (or ``all``)."""
    return any(n.name == rule or n.name.lower() == EVERY_RULE for n in ignored_names(line))
