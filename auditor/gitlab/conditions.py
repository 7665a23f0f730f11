"""Can a GitLab job run in a pipeline that is not for a tag?

PyPI does not look at the ref a GitLab token was minted on, so the only gate on which refs
can publish is the job's own ``rules:`` (or legacy ``only:``/``except:``) plus protected
environments and tags. This module answers one question about those conditions, in the world
where ``$CI_COMMIT_TAG`` is undefined (branch, merge-request and scheduled pipelines):

- an ``if:`` expression evaluates to ``TRUE``, ``FALSE`` or ``UNKNOWN`` there (three-valued
  logic over GitLab's small expression language: ``$VAR``, ``==``, ``!=``, ``=~``, ``!~``,
  ``&&``, ``||``, parentheses, ``null``, strings and ``/regex/``);
- a rules list runs a job in that world unless every clause that can match is ``when: never``
  (the first matching clause decides, and no match means the job is not added).

Anything not understood is ``UNKNOWN``, which never makes a job look tag-only: a wrong
"tag-only" would hide a finding, a wrong "not tag-only" only shows one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from auditor.output.lazyre import lazy_re
from auditor.output.records import record

TRUE, FALSE, UNKNOWN = "true", "false", "unknown"

# Variables whose value is known when the pipeline is not for a tag: undefined.
_UNDEFINED_WITHOUT_TAG = frozenset({"CI_COMMIT_TAG", "CI_COMMIT_TAG_MESSAGE"})

_TOKEN_RE = lazy_re(r"""
    \s*(?:
      (?P<var>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<re>/(?:[^/\\]|\\.)*/[a-z]*)
    | (?P<op>==|!=|=~|!~|&&|\|\||\(|\))
    | (?P<null>null\b)
    )""", re.X)


@record
class _Operand:
    """One side of a `rules: if:` comparison."""

    kind: str  # "null" | "string" | "regex" | "unknown"
    text: str = ""


class _Unparsable(Exception):
    """The expression uses syntax this evaluator does not know."""


def _tokens(expression: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise _Unparsable(text[pos:])
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _operand(kind: str, text: str) -> _Operand:
    if kind == "var":
        name = text.strip("${}")
        return _Operand("null") if name in _UNDEFINED_WITHOUT_TAG else _Operand("unknown")
    if kind == "str":
        return _Operand("string", text[1:-1])
    if kind == "re":
        return _Operand("regex", text)
    if kind == "null":
        return _Operand("null")
    raise _Unparsable(text)


def _truthy(value: _Operand) -> str:
    if value.kind == "null":
        return FALSE
    if value.kind == "string":
        return TRUE if value.text else FALSE
    return UNKNOWN


def _compare(left: _Operand, op: str, right: _Operand) -> str:
    if op in ("=~", "!~"):
        if left.kind == "null" and right.kind == "regex":
            return FALSE if op == "=~" else UNKNOWN
        return UNKNOWN
    if left.kind == "unknown" or right.kind == "unknown":
        return UNKNOWN
    if left.kind == "null" and right.kind == "null":
        equal = TRUE
    elif "null" in (left.kind, right.kind):
        other = right if left.kind == "null" else left
        if other.kind == "string" and other.text == "":
            return UNKNOWN  # an undefined variable against "": GitLab's answer is not pinned
        equal = FALSE
    elif left.kind == right.kind == "string":
        equal = TRUE if left.text == right.text else FALSE
    else:
        return UNKNOWN
    if op == "==":
        return equal
    return {TRUE: FALSE, FALSE: TRUE}[equal]


_MAX_DEPTH = 50  # parentheses nested deeper make the expression UNKNOWN, not a RecursionError


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _Unparsable("unexpected end")
        self.pos += 1
        return token

    def parse(self) -> str:
        value = self.or_expr()
        if self.peek() is not None:
            raise _Unparsable(self.peek()[1])  # type: ignore[index]
        return value

    def or_expr(self) -> str:
        value = self.and_expr()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_expr()
            value = TRUE if TRUE in (value, right) else (
                FALSE if value == right == FALSE else UNKNOWN)
        return value

    def and_expr(self) -> str:
        value = self.primary()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.primary()
            value = FALSE if FALSE in (value, right) else (
                TRUE if value == right == TRUE else UNKNOWN)
        return value

    def primary(self) -> str:
        kind, text = self.take()
        if (kind, text) == ("op", "("):
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise _Unparsable("nested too deeply")
            value = self.or_expr()
            if self.take() != ("op", ")"):
                raise _Unparsable(")")
            self.depth -= 1
            return value
        left = _operand(kind, text)
        following = self.peek()
        if following is not None and following[0] == "op" and following[1] in (
                "==", "!=", "=~", "!~"):
            self.take()
            right_kind, right_text = self.take()
            return _compare(left, following[1], _operand(right_kind, right_text))
        return _truthy(left)


def without_tag(expression: str) -> str:
    """``TRUE``/``FALSE``/``UNKNOWN``: the value of an ``if:`` when no tag is being built."""
    try:
        return _Parser(_tokens(expression)).parse()
    except _Unparsable:
        return UNKNOWN


@record
class Clause:
    """One entry of a ``rules:`` list, as far as the tag question needs it."""

    if_: str | None
    when: str | None
    conditional: bool = False  # has ``changes:``/``exists:``: may not match even when `if` does


def rules_tag_only(clauses: Sequence[Clause]) -> bool:
    """True when no clause can add the job to a pipeline that is not for a tag."""
    for clause in clauses:
        value = TRUE if clause.if_ is None else without_tag(clause.if_)
        if value == TRUE and clause.conditional:
            value = UNKNOWN
        if value == FALSE:
            continue
        if (clause.when or "").strip() == "never":
            if value == TRUE:
                return True  # every non-tag pipeline stops here, excluded
            continue
        return False
    return True


def refs_tag_only(only: Sequence[str] | None, except_: Sequence[str]) -> bool:
    """Legacy ``only``/``except`` refs: the job runs for tags only.

    Without ``only`` GitLab uses ``[branches, tags]``; ``except: [branches]`` then leaves
    tags. A pattern such as ``/^v/`` matches branch names too, so it never counts as tags.
    """
    refs = list(only) if only is not None else ["branches", "tags"]
    remaining = [r for r in refs if r not in except_]
    return all(r == "tags" for r in remaining)


def variables_exclude_untagged(expressions: Sequence[str], *, all_false: bool) -> bool:
    """``only: variables`` (all must be FALSE without a tag) or ``except: variables`` (one
    TRUE without a tag suffices) keeps the job out of untagged pipelines."""
    if not expressions:
        return False
    values = [without_tag(e) for e in expressions]
    if all_false:
        return all(v == FALSE for v in values)
    return any(v == TRUE for v in values)
