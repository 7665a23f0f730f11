"""GitLab's merge semantics over YAML nodes, and its local-include globs.

GitLab deep-merges hashes when a file overrides what it includes and when a job ``extends``
another: keys merge one by one, anything else (arrays included) is replaced. A
``MergedMap`` is such a merged hash that keeps, for every key, the key and value *nodes*
it came from, so a value assembled from several files still has its own position.
Mappings are only lifted into ``MergedMap`` where two of them actually meet.
"""

from __future__ import annotations

import re
from typing import TypeAlias

from auditor.reading.yamlsource import Mapping, Node, Scalar, Sequence


class MergedMap:
    """A mapping merged from one or more YAML mappings; each entry keeps its nodes."""

    __slots__ = ("entries", "node")

    def __init__(self, node: Mapping | None = None) -> None:
        self.node = node
        self.entries: dict[str, tuple[Scalar, Value]] = {}
        if node is not None:
            for key, value in node.pairs:
                self.entries[key.value] = (key, value)


Value: TypeAlias = MergedMap | Node


def is_map(value: Value | None) -> bool:
    return isinstance(value, MergedMap) or (isinstance(value, Mapping) and value.tag is None)


def as_map(value: Value) -> MergedMap:
    return value if isinstance(value, MergedMap) else MergedMap(
        value if isinstance(value, Mapping) else None)


def deep_merge(base: Value | None, over: Value) -> Value:
    """GitLab's merge: hashes merge key by key, anything else is replaced by ``over``."""
    if base is None or not (is_map(base) and is_map(over)):
        return over
    left, right = as_map(base), as_map(over)
    merged = MergedMap()
    merged.node = right.node or left.node
    merged.entries = dict(left.entries)
    for name, (key, value) in right.entries.items():
        current = merged.entries.get(name)
        merged.entries[name] = (key, deep_merge(current[1], value) if current else value)
    return merged


def get(value: Value | None, key: str) -> Value | None:
    if isinstance(value, MergedMap):
        entry = value.entries.get(key)
        return entry[1] if entry else None
    if isinstance(value, Mapping):
        return value.get(key)
    return None


def key_of(value: Value | None, key: str) -> Scalar | None:
    if isinstance(value, MergedMap):
        entry = value.entries.get(key)
        return entry[0] if entry else None
    if isinstance(value, Mapping):
        return value.key(key)
    return None


def is_null(value: Value | None) -> bool:
    return value is None or (isinstance(value, Scalar) and value.is_null)


def name_list(value: Value | None) -> list[str]:
    """A name or a list of names (``extends``, ``only``...)."""
    if isinstance(value, Scalar):
        return [] if value.is_null else [value.value.strip()]
    if isinstance(value, Sequence):
        return [item.value.strip() for item in value.items if isinstance(item, Scalar)]
    return []



def glob_matches(pattern: str, path: str) -> bool:
    """GitLab's local-include globs: ``*`` and ``?`` stay inside a directory, ``**`` crosses
    directories, ``{a,b}`` alternates."""
    regex = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
            continue
        if pattern.startswith("**", i):
            regex += ".*"
            i += 2
            continue
        if c == "*":
            regex += "[^/]*"
        elif c == "?":
            regex += "[^/]"
        elif c == "{":
            end = pattern.find("}", i)
            if end < 0:
                regex += re.escape(c)
            else:
                options = pattern[i + 1:end].split(",")
                regex += "(?:" + "|".join(re.escape(o) for o in options) + ")"
                i = end + 1
                continue
        else:
            regex += re.escape(c)
        i += 1
    return re.fullmatch(regex, path) is not None
