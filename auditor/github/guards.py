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
from dataclasses import dataclass
from functools import lru_cache

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


# The characters that matter to the structure of an expression; everything between them is
# skipped by the regex engine, so a split is one linear scan even on a megabyte guard.
_TOKEN_RE = re.compile(r"'|\(|\)|\|\||&&")


def _split_top(text: str, op: str) -> list[str]:
    """``text`` split at ``op`` outside quotes and parentheses."""
    parts: list[str] = []
    depth = 0
    quote = False
    start = 0
    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if token == "'":
            quote = not quote
        elif quote:
            continue
        elif token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif token == op and depth == 0:
            parts.append(text[start:match.start()].strip())
            start = match.end()
    parts.append(text[start:].strip())
    return parts


def _unwrap(text: str) -> str:
    """``text`` without the parentheses that enclose all of it (every layer at once).

    The partner of each ``(`` is found in one pass; a layer is dropped while the first
    ``(`` closes at the last character, or never closes (unbalanced text is unwrapped too).
    """
    if not (text.startswith("(") and text.endswith(")")):
        return text
    partner: dict[int, int] = {}
    opened: list[int] = []
    for match in re.finditer(r"[()]", text):
        if match.group() == "(":
            opened.append(match.start())
        elif opened:
            partner[opened.pop()] = match.start()
    lo, hi = 0, len(text) - 1
    while lo <= hi and text[lo] == "(" and text[hi] == ")":
        close = partner.get(lo)
        if close is not None and close < hi:
            break
        lo, hi = lo + 1, hi - 1
        while lo <= hi and text[lo].isspace():
            lo += 1
        while hi >= lo and text[hi].isspace():
            hi -= 1
    return text[lo:hi + 1]


@lru_cache(maxsize=4096)
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


@dataclass(frozen=True, slots=True)
class _AnyOf:
    """``a || b || ...``"""

    parts: tuple[_Expr, ...]


@dataclass(frozen=True, slots=True)
class _AllOf:
    """``a && b && ...``"""

    parts: tuple[_Expr, ...]


@dataclass(frozen=True, slots=True)
class _Not:
    """``!a``"""

    inner: _Expr


@dataclass(frozen=True, slots=True)
class _Atom:
    """A comparison or call the evaluator recognises by pattern, or an unknown one."""

    text: str


# ``None`` is a part the evaluator cannot read (empty, or nested beyond _MAX_DEPTH).
_Expr = _AnyOf | _AllOf | _Not | _Atom | None
_MAX_DEPTH = 30


def _parse(text: str, depth: int = 0) -> _Expr:
    text = _unwrap(text)
    if depth > _MAX_DEPTH or not text:
        return None
    disjuncts = _split_top(text, "||")
    if len(disjuncts) > 1:
        return _AnyOf(tuple(_parse(d, depth + 1) for d in disjuncts))
    conjuncts = _split_top(text, "&&")
    if len(conjuncts) > 1:
        return _AllOf(tuple(_parse(c, depth + 1) for c in conjuncts))
    if text.startswith("!") and not text.startswith("!="):
        return _Not(_parse(text[1:], depth + 1))
    return _Atom(text)


@lru_cache(maxsize=256)
def _compile(text: str) -> _Expr:
    """Parse once: ``possible`` asks about the same guard for every (event, ref) pair."""
    return _parse(text)


def _evaluate(expr: _Expr, event: str, ref: str) -> bool | None:
    if expr is None:
        return None
    if isinstance(expr, _Atom):
        return _atom(expr.text, event, ref)
    if isinstance(expr, _Not):
        inner = _evaluate(expr.inner, event, ref)
        return None if inner is None else not inner
    values = [_evaluate(part, event, ref) for part in expr.parts]
    if isinstance(expr, _AnyOf):
        if any(v is True for v in values):
            return True
        return False if all(v is False for v in values) else None
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def possible(expr: str | None, event: str, ref: str) -> bool:
    """Can ``expr`` be true for ``event`` on a ``ref`` kind (branch, tag or pull)?"""
    if expr is None or not expr.strip():
        return True
    return _evaluate(_compile(_strip_expr(expr)), event, ref) is not False


def ignores_failed_needs(expr: str | None) -> bool:
    """``always()`` and friends make a job run even when a job it needs was skipped."""
    if not expr:
        return False
    lowered = expr.lower()
    return "always()" in lowered or "failure()" in lowered or "cancelled()" in lowered
