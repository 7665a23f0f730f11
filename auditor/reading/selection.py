"""Rule selection: what ``--select``/``--ignore`` and ``select``/``ignore`` in the
configuration may name, and what each name means. One function for both places, so a
selector means the same on the command line and in ``pyproject.toml``.

A selector is ``ALL``, a rule id (``unpinned-action``), a family from the catalogue
(``pinning``), or a glob over rule ids (``publisher-*``). A name that is none of these gets
a "did you mean" from the closest rule ids and families.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Protocol


class _Rule(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def family(self) -> str: ...


def suggestion(name: str, choices: Iterable[str]) -> str:
    """`` (did you mean a, b?)`` naming the closest choices, or ``""`` when none is close."""
    import difflib  # only for a name that matches no rule

    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def families(rules: Mapping[str, _Rule]) -> set[str]:
    return {rule.family for rule in rules.values() if rule.family}


def expand(selector: str, rules: Mapping[str, _Rule]) -> set[str] | None:
    """The rule ids a selector stands for; ``None`` when it names nothing (a glob that
    matches no rule is as much a typo as an unknown id)."""
    if selector == "ALL":
        return set(rules)
    if selector in rules:
        return {selector}
    if selector in families(rules):
        return {rule.id for rule in rules.values() if rule.family == selector}
    if any(char in selector for char in "*?["):
        matched = set(fnmatch.filter(rules, selector))
        return matched or None
    return None


def unknown_message(selector: str, rules: Mapping[str, _Rule]) -> str:
    """Why ``selector`` selects nothing, with the closest ids or families."""
    return (f"unknown rule {selector!r}"
            f"{suggestion(selector, [*rules, *sorted(families(rules))])}"
            "; `pubaudit rules` lists them")


def split(values: Iterable[str]) -> tuple[str, ...]:
    """Repeated options and comma-separated lists, flattened: ``["a,b", "c"]`` -> a, b, c."""
    return tuple(part.strip() for value in values for part in value.split(",")
                 if part.strip())


def enabled(rules: Mapping[str, _Rule], select: Iterable[str] | None,
            ignore: Iterable[str]) -> set[str]:
    """The ids left by ``select`` (``None``: every rule) minus ``ignore``; selectors that
    name nothing are skipped here (callers report them with :func:`unknown_message`)."""
    chosen = set(rules) if select is None else set().union(
        *(expand(s, rules) or set() for s in select))
    dropped = set().union(*(expand(s, rules) or set() for s in ignore))
    return chosen - dropped
