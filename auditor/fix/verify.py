"""The checks an edited file must pass before it is written, with ruamel.yaml.

ruamel.yaml is the project's library for YAML that keeps comments (the reason it is the
fixer's, and only the fixer's, dependency): its scanner sees every comment, and its loader
gives the data to compare. PyYAML builds the scan's tree; a second, independent parser here
also catches an edit that only our own reader would accept.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from auditor.fix.expect import Unverifiable, expected
from auditor.output.lazyre import lazy_re
from auditor.reading.edits import EditOp

_VERSION_COMMENT_RE = lazy_re(r"^#\s*(?:tag[:=]\s*|version[:=]\s*)?v?\d+(?:\.\d+)*\S*$", re.I)


def _yaml(kind: str) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ=kind, pure=True)
    return yaml


def parse(text: str) -> object:
    """The data of a YAML text (YAML 1.2, as ruamel.yaml reads it); raises on bad YAML."""
    return _yaml("safe").load(text)


def comments(text: str) -> list[str]:
    """Every comment of ``text``, one entry per comment line, in order, as ruamel.yaml's
    scanner attaches them to tokens."""
    from ruamel.yaml.tokens import CommentToken

    found: list[str] = []

    def collect(item: object) -> None:
        if isinstance(item, CommentToken):
            found.extend(line.strip() for line in item.value.splitlines()
                         if line.strip().startswith("#"))
        elif isinstance(item, (list, tuple)):
            for part in item:
                collect(part)

    for token in _yaml("rt").scan(text):
        attached = getattr(token, "_comment", None)
        if attached is not None:
            collect(attached)
    return found


def check(before: str, after: str, ops: tuple[EditOp, ...]) -> str | None:
    """Why ``after`` must not replace ``before`` (``None`` when it may): it does not parse,
    lost a comment (other than a version comment that a pin replaced), or its data is not
    the original's with exactly ``ops`` applied."""
    from ruamel.yaml.error import YAMLError

    try:
        new_data = parse(after)
    except YAMLError as exc:
        return f"the edited file would not parse ({str(exc).splitlines()[0]})"
    try:
        old_data = parse(before)
        old_comments, new_comments = comments(before), comments(after)
    except YAMLError as exc:  # PyYAML read it, ruamel.yaml does not: do not touch it
        return f"ruamel.yaml cannot read the file as it is ({str(exc).splitlines()[0]})"
    lost = Counter(old_comments) - Counter(new_comments)
    unexpected = [c for c in lost if not _VERSION_COMMENT_RE.match(c)]
    if unexpected:
        return f"the edit would drop the comment `{unexpected[0][:60]}`"
    try:
        wanted = expected(old_data, ops, parse)
    except (Unverifiable, YAMLError) as exc:
        return f"the result cannot be checked: {exc}"
    if wanted != new_data:
        return "the edited file's data is not the original plus exactly the fix"
    return None
