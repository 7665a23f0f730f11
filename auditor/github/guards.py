"""Which events and refs can get past an ``if:`` expression.

A small three-valued evaluator over the shapes that gate publishing: ``github.event_name``
comparisons, tag tests on ``github.ref`` (``startsWith(github.ref, 'refs/tags/')``,
``github.ref_type == 'tag'``, ``contains(github.ref, 'refs/tags')``), ``||``, ``&&``, ``!``
and parentheses, evaluated in a ``Situation``: the event, the kind of ref, whether the run is
in a fork, the event of the run that set off a ``workflow_run``, and the ``inputs`` a caller
passed. Comparisons of ``inputs.*``, ``github.repository``/``repository_owner``,
``github.event.workflow_run.*`` and literal ``needs.<job>.outputs.*`` follow GitHub's loose
equality. An atom it does not understand is *undecided* (``None``): ``decide`` says so, so a
rule can report at lower confidence; it never hides a finding it cannot rule out and never
invents one either.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from auditor.output.lazyre import lazy_re
from auditor.output.records import record

REF_KINDS = ("branch", "tag", "pull")

# Every one names ``github.``: an atom without it is matched against none of them.
_TAG_ATOMS = (
    lazy_re(r"^startswith\(\s*github\.(?:event\.)?ref\s*,\s*'refs/tags/?[^']*'\s*\)$"),
    lazy_re(r"^contains\(\s*github\.(?:event\.)?ref\s*,\s*'(?:refs/)?tags/?[^']*'\s*\)$"),
    lazy_re(r"^github\.ref_type\s*==\s*'tag'$"),
    lazy_re(r"^'tag'\s*==\s*github\.ref_type$"),
    lazy_re(r"^github\.(?:event\.)?ref\s*==\s*'refs/tags/[^']*'$"),
    lazy_re(r"^github\.event\.release(?:\.[\w.]+)?$"),
    lazy_re(r"^github\.event\.release\.\w+\s*[!=]=\s*.+$"),
)
_BRANCH_ATOMS = (
    lazy_re(r"^github\.(?:event\.)?ref\s*==\s*'refs/heads/[^']*'$"),
    lazy_re(r"^startswith\(\s*github\.(?:event\.)?ref\s*,\s*'refs/heads/?[^']*'\s*\)$"),
    lazy_re(r"^github\.ref_name\s*==\s*'(?:main|master|develop|dev)'$"),
    lazy_re(r"^github\.ref_type\s*==\s*'branch'$"),
)
_RELEASE_ACTION = lazy_re(r"^github\.event\.action\s*==\s*'(published|released|prereleased)'$")
_EVENT_EQ = lazy_re(r"^github\.event_name\s*(==|!=)\s*'([\w-]+)'$")
_EVENT_EQ_REV = lazy_re(r"^'([\w-]+)'\s*(==|!=)\s*github\.event_name$")
_EVENT_IN = lazy_re(r"^contains\(\s*fromjson\('\[(.*?)\]'\)\s*,\s*github\.event_name\s*\)$")


def _strip_expr(expr: str) -> str:
    text = expr.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2].strip()
    text = text.replace('"', "'")
    return " ".join(text.split())


# The characters that matter to the structure of an expression; everything between them is
# skipped by the regex engine, so a split is one linear scan even on a megabyte guard.
_TOKEN_RE = lazy_re(r"'|\(|\)|\|\||&&")


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


# A literal the evaluator can read: what ``with:``, ``default:`` and ``outputs:`` hold.
Value = str | float | bool | None
PULL_EVENTS = frozenset({"pull_request", "pull_request_target", "pull_request_review",
                         "pull_request_review_comment", "issue_comment"})


@record
class Situation:
    """One way a job can run: what the guards see in ``github.*``, ``inputs.*``, ``needs.*``."""

    event: str
    ref: str  # "branch" | "tag" | "pull"
    fork: bool = False  # the run is in a fork: ``github.repository == 'owner/repo'`` is false
    run_event: str | None = None  # ``github.event.workflow_run.event``; None: not known
    inputs: tuple[tuple[str, Value], ...] = ()  # literal inputs, lower-case names
    open_inputs: tuple[str, ...] = ()  # inputs whose value is not a literal
    any_input: bool = False  # every input is the user's choice (workflow_dispatch)
    outputs: tuple[tuple[str, Value], ...] = ()  # literal ``needs`` outputs, "job.name"
    computed: tuple[tuple[str, str], ...] = ()  # "job.name" -> its ``${{ }}`` or RELEASE_TOOL


# A ``computed`` output that passes on the decision of a release tool (release-please, semantic
# release): "a release was cut in this run", which gates publishing as a tag does.
RELEASE_TOOL = "release-tool"


class _Undecided:
    """A value the evaluator cannot read."""


_UNKNOWN = _Undecided()
_UPSTREAM = _Undecided()  # ``github.repository``: the upstream name in upstream, not in forks
_CHOSEN = _Undecided()  # set by whoever starts the run: every comparison can come out true
_RELEASED = _Undecided()  # a release tool's "released": true only where a release can be cut
_Operand = Value | _Undecided
_OPERAND = r"'(?:[^']|'')*'|[\w.\-]+"
_COMPARISON = lazy_re(rf"^({_OPERAND})\s*(==|!=)\s*({_OPERAND})$")
_OPERAND_RE = lazy_re(rf"^(?:{_OPERAND})$")
_NUMBER = lazy_re(r"^-?\d+(?:\.\d+)?$")
_MAX_ATOM = 400


def _literal(text: str) -> _Operand:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    if text in ("true", "false"):
        return text == "true"
    if text == "null":
        return None
    if _NUMBER.match(text):
        return float(text)
    return _UNKNOWN


def _operand(text: str, where: Situation) -> _Operand:
    """The value of a literal or a context path the evaluator models, else ``_UNKNOWN``."""
    value = _literal(text)
    if value is not _UNKNOWN or text.startswith("'"):
        return value
    if text.startswith("inputs."):
        name = text[len("inputs."):]
        if where.any_input or name in where.open_inputs:
            return _UNKNOWN
        return dict(where.inputs).get(name)  # not passed, no default: null
    if text.startswith("github.event.inputs."):
        return _UNKNOWN if where.event == "workflow_dispatch" else None
    if text.startswith("needs.") and ".outputs." in text:
        key = text[len("needs."):].replace(".outputs.", ".", 1)
        computed = dict(where.computed).get(key)
        if computed == RELEASE_TOOL:
            return _RELEASED
        if computed is not None:  # an expression without needs.*: no recursion
            verdict = decide(computed, replace(where, computed=()))
            return _UNKNOWN if verdict is None else str(verdict).lower()
        return dict(where.outputs).get(key, _UNKNOWN)
    if text in ("github.repository", "github.repository_owner"):
        return _UPSTREAM
    if text == "github.event_name":
        return where.event
    if text == "github.event.workflow_run.event":
        if where.event != "workflow_run" or where.run_event is None:
            return _UNKNOWN
        return where.run_event
    if text in ("github.event.workflow_run.conclusion", "github.event.workflow_run.head_branch"):
        # the conclusion of a run and the branch of a fork's pull request are the other
        # side's to choose: a test on them can always pass
        return _CHOSEN if where.event == "workflow_run" else None
    return _UNKNOWN


def _truthy(value: Value) -> bool:
    return value not in (None, False, "", 0)


def _number(value: Value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return float("nan")
    return value


def _equal(left: Value, right: Value) -> bool:
    """GitHub's ``==``: strings compare case-insensitively, other mixes as numbers."""
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if left is None and right is None:
        return True
    return _number(left) == _number(right)


def _compare(left: _Operand, op: str, right: _Operand, where: Situation) -> bool | None:
    if _UPSTREAM in (left, right):
        other = right if left is _UPSTREAM else left
        if not isinstance(other, str):
            return None  # against another context (a pull request's head repository...)
        equal = not where.fork  # the literal a maintainer wrote names the upstream
        return equal if op == "==" else not equal
    if _CHOSEN in (left, right):
        return True
    if _RELEASED in (left, right):
        return None if op == "!=" else _releasing(where)
    if isinstance(left, _Undecided) or isinstance(right, _Undecided):
        return None
    equal = _equal(left, right)
    return equal if op == "==" else not equal


def _releasing(where: Situation) -> bool:
    """A release tool's "released" counts as a release gate, as a tag test does: true on tags,
    manual runs and releases. The push that merges its release pull request is the tool's
    own release, not "every push publishes", so branch pushes are ruled out."""
    return where.ref == "tag" or where.event in ("workflow_dispatch", "release")


_FROM_JSON = lazy_re(rf"^fromjson\(\s*({_OPERAND})\s*\)$")


def _value_atom(text: str, where: Situation) -> bool | None:
    if len(text) > _MAX_ATOM:
        return None
    match = _FROM_JSON.match(text)
    if match:
        value = _operand(match.group(1), where)
        if value is _RELEASED:
            return _releasing(where)
        if isinstance(value, str) and value.strip() in ("true", "false"):
            return value.strip() == "true"
        return None
    match = _COMPARISON.match(text)
    if match:
        return _compare(_operand(match.group(1), where), match.group(2),
                        _operand(match.group(3), where), where)
    if _OPERAND_RE.match(text):
        value = _operand(text, where)
        if value is _UPSTREAM or value is _CHOSEN:
            return True
        if value is _RELEASED:
            return _releasing(where)
        return None if isinstance(value, _Undecided) else _truthy(value)
    return None


@lru_cache(maxsize=8192)
def _atom(text: str, where: Situation) -> bool | None:
    event, ref = where.event, where.ref
    lowered = text.lower()
    if lowered in ("true", "always()", "success()", "!cancelled()"):
        return True
    if lowered == "false":
        return False
    if "github." in lowered:
        for pattern in _TAG_ATOMS:
            if pattern.match(lowered):
                return ref == "tag"
        for pattern in _BRANCH_ATOMS:
            if pattern.match(lowered):
                return ref == "branch"
    if _RELEASE_ACTION.match(lowered):
        return event == "release"
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
    return _value_atom(lowered, where)


@record
class _AnyOf:
    """``a || b || ...``"""

    parts: tuple[_Expr, ...]


@record
class _AllOf:
    """``a && b && ...``"""

    parts: tuple[_Expr, ...]


@record
class _Not:
    """``!a``"""

    inner: _Expr


@record
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


def _evaluate(expr: _Expr, where: Situation) -> bool | None:
    if expr is None:
        return None
    if isinstance(expr, _Atom):
        return _atom(expr.text, where)
    if isinstance(expr, _Not):
        inner = _evaluate(expr.inner, where)
        return None if inner is None else not inner
    values = [_evaluate(part, where) for part in expr.parts]
    if isinstance(expr, _AnyOf):
        if any(v is True for v in values):
            return True
        return False if all(v is False for v in values) else None
    if any(v is False for v in values):
        return False
    return True if all(v is True for v in values) else None


def decide(expr: str | None, where: Situation) -> bool | None:
    """Can ``expr`` be true in ``where``: yes, no, or ``None`` when it hinges on an atom the
    evaluator cannot read (the caller lowers its confidence and says which guard)."""
    if expr is None or not expr.strip():
        return True
    return _evaluate(_compile(_strip_expr(expr)), where)


def possible(expr: str | None, event: str, ref: str) -> bool:
    """Can ``expr`` be true for ``event`` on a ``ref`` kind (branch, tag or pull)?"""
    return decide(expr, Situation(event, ref)) is not False


def bare(expr: str) -> str:
    """``expr`` without its ``${{ }}``, as a message quotes it."""
    text = " ".join(expr.split())
    return text[3:-2].strip() if text.startswith("${{") and text.endswith("}}") else text


def ignores_failed_needs(expr: str | None) -> bool:
    """``always()`` and friends make a job run even when a job it needs was skipped."""
    if not expr:
        return False
    lowered = expr.lower()
    return "always()" in lowered or "failure()" in lowered or "cancelled()" in lowered
