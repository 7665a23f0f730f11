"""Which events and refs can get past an ``if:`` expression.

A small three-valued evaluator over the shapes that gate publishing: ``github.event_name``
comparisons, tag tests on ``github.ref`` (``startsWith(github.ref, 'refs/tags/')``,
``github.ref_type == 'tag'``, ``contains(github.ref, 'refs/tags')``), ``||``, ``&&``, ``!``
and parentheses. An atom it does not understand may be true, so an unknown guard never hides
a finding it cannot rule out, and never invents one either: ``possible`` only answers
"can this event on this kind of ref run the job?".
"""

from __future__ import annotations

import re

REF_KINDS = ("branch", "tag", "pull")

_TAG_ATOMS = [
    re.compile(r"^startswith\(\s*github\.(?:event\.)?ref\s*,\s*'refs/tags/?[^']*'\s*\)$"),
    re.compile(r"^contains\(\s*github\.(?:event\.)?ref\s*,\s*'(?:refs/)?tags/?[^']*'\s*\)$"),
    re.compile(r"^github\.ref_type\s*==\s*'tag'$"),
    re.compile(r"^'tag'\s*==\s*github\.ref_type$"),
    re.compile(r"^github\.(?:event\.)?ref\s*==\s*'refs/tags/[^']*'$"),
    re.compile(r"^github\.event\.release(?:\.[\w.]+)?$"),
    re.compile(r"^github\.event\.release\.\w+\s*[!=]=\s*.+$"),
]
_BRANCH_ATOMS = [
    re.compile(r"^github\.(?:event\.)?ref\s*==\s*'refs/heads/[^']*'$"),
    re.compile(r"^startswith\(\s*github\.(?:event\.)?ref\s*,\s*'refs/heads/?[^']*'\s*\)$"),
    re.compile(r"^github\.ref_name\s*==\s*'(?:main|master|develop|dev)'$"),
    re.compile(r"^github\.ref_type\s*==\s*'branch'$"),
]
_RELEASE_ACTION = re.compile(r"^github\.event\.action\s*==\s*'(published|released|prereleased)'$")
# A decision the workflow computed itself (``needs.x.outputs.release-requested``): treated as
# a release gate, true on tags, manual runs and releases only.
_COMPUTED_RELEASE = re.compile(r"(needs|steps)\.[\w-]+\.outputs\.[\w-]*(release|publish|deploy|"
                               r"tag|upload)", re.I)
_EVENT_EQ = re.compile(r"^github\.event_name\s*(==|!=)\s*'([\w-]+)'$")
_EVENT_EQ_REV = re.compile(r"^'([\w-]+)'\s*(==|!=)\s*github\.event_name$")
_EVENT_IN = re.compile(r"^contains\(\s*fromjson\('\[(.*?)\]'\)\s*,\s*github\.event_name\s*\)$")


def _strip_expr(expr: str) -> str:
    text = expr.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    text = text.replace('"', "'")
    return " ".join(text.split())


def _split_top(text: str, op: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    quote = False
    start = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c == "'":
            quote = not quote
        elif not quote:
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif depth == 0 and text.startswith(op, i):
                parts.append(text[start:i].strip())
                i += len(op)
                start = i
                continue
        i += 1
    parts.append(text[start:].strip())
    return parts


def _unwrap(text: str) -> str:
    while text.startswith("(") and text.endswith(")"):
        depth = 0
        for i, c in enumerate(text):
            depth += c == "("
            depth -= c == ")"
            if depth == 0 and i < len(text) - 1:
                return text
        text = text[1:-1].strip()
    return text


def _atom(text: str, event: str, ref: str) -> bool | None:
    lowered = text.lower()
    if lowered in ("true", "always()", "success()", "!cancelled()"):
        return True
    if lowered == "false":
        return False
    for pattern in _TAG_ATOMS:
        if pattern.match(lowered):
            return ref == "tag"
    for pattern in _BRANCH_ATOMS:
        if pattern.match(lowered):
            return ref == "branch"
    if _RELEASE_ACTION.match(lowered):
        return event == "release"
    if _COMPUTED_RELEASE.search(lowered) and "==" not in lowered.replace("== 'true'", ""):
        return ref == "tag" or event in ("workflow_dispatch", "release")
    match = _EVENT_EQ.match(lowered)
    if match:
        equal = match.group(2) == event
        return equal if match.group(1) == "==" else not equal
    match = _EVENT_EQ_REV.match(lowered)
    if match:
        equal = match.group(1) == event
        return equal if match.group(2) == "==" else not equal
    match = _EVENT_IN.match(lowered)
    if match:
        names = [n.strip().strip('"') for n in match.group(1).split(",")]
        return event in names
    return None


def _eval(text: str, event: str, ref: str, depth: int = 0) -> bool | None:
    text = _unwrap(text)
    if depth > 30 or not text:
        return None
    disjuncts = _split_top(text, "||")
    if len(disjuncts) > 1:
        values = [_eval(d, event, ref, depth + 1) for d in disjuncts]
        if any(v is True for v in values):
            return True
        return False if all(v is False for v in values) else None
    conjuncts = _split_top(text, "&&")
    if len(conjuncts) > 1:
        values = [_eval(c, event, ref, depth + 1) for c in conjuncts]
        if any(v is False for v in values):
            return False
        return True if all(v is True for v in values) else None
    if text.startswith("!") and not text.startswith("!="):
        inner = _eval(text[1:], event, ref, depth + 1)
        return None if inner is None else not inner
    return _atom(text, event, ref)


def possible(expr: str | None, event: str, ref: str) -> bool:
    """Can ``expr`` be true for ``event`` on a ``ref`` kind (branch, tag or pull)?"""
    if expr is None or not expr.strip():
        return True
    return _eval(_strip_expr(expr), event, ref) is not False


def ignores_failed_needs(expr: str | None) -> bool:
    """``always()`` and friends make a job run even when a job it needs was skipped."""
    if not expr:
        return False
    lowered = expr.lower()
    return "always()" in lowered or "failure()" in lowered or "cancelled()" in lowered
