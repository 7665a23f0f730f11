"""The data a file should hold after a fix: the original's, with the operations applied.

Computed on plain data (dicts, lists, scalars as ruamel.yaml's safe loader gives them), so the
fixer can compare it with what the edited text really parses to: an edit that changed one
byte too many, or landed in the wrong mapping, shows as a difference.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from auditor.reading.edits import EditOp, InsertKey, RemoveKey, RenameKey, ReplaceScalar, SetComment
from auditor.reading.source import Route


class Unverifiable(Exception):
    """The operation's route does not lead anywhere in the data: nothing can be checked."""


def _key_in(mapping: dict[object, object], key: str | int) -> object:
    """The key of ``mapping`` that the route's ``key`` names (the tree's keys are text;
    the data's may be a bool or number where YAML resolved them)."""
    if key in mapping:
        return key
    for candidate in mapping:
        if str(candidate) == str(key) or (isinstance(candidate, bool) and
                                          str(candidate).lower() == str(key).lower()):
            return candidate
    raise Unverifiable(f"`{key}` is not in the data")


def _at(data: object, route: Route) -> object:
    for step in route:
        if isinstance(data, dict):
            data = data[_key_in(data, step)]
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            raise Unverifiable(f"the route {list(route)} does not lead to a value")
    return data


def _mapping(data: object, route: Route) -> dict[object, object]:
    found = _at(data, route)
    if not isinstance(found, dict):
        raise Unverifiable(f"{list(route)} is not a mapping")
    return found


def _parent(data: object, route: Route) -> tuple[object, object]:
    """The container holding the value at ``route`` and its key or index there."""
    if not route:
        raise Unverifiable("the operation names the whole document")
    holder = _at(data, route[:-1])
    last = route[-1]
    if isinstance(holder, dict):
        return holder, _key_in(holder, last)
    if isinstance(holder, list) and isinstance(last, int):
        return holder, last
    raise Unverifiable(f"the route {list(route)} does not lead to a value")


def expected(original: object, ops: tuple[EditOp, ...],
             parse: Callable[[str], object]) -> object:
    """``original`` with ``ops`` applied; ``parse`` reads an inserted value's YAML text."""
    data = copy.deepcopy(original)
    for op in ops:
        if isinstance(op, SetComment):
            continue
        if isinstance(op, ReplaceScalar):
            holder, key = _parent(data, op.anchor.route)
            holder[key] = op.value  # type: ignore[index]
        elif isinstance(op, RenameKey):
            holder, key = _parent(data, op.anchor.route)
            assert isinstance(holder, dict)
            holder[op.key] = holder.pop(key)
        elif isinstance(op, InsertKey):
            target = _mapping(data, op.mapping.route)
            value = parse(op.value)
            if op.child is not None:
                child = target.setdefault(op.child, {})
                if not isinstance(child, dict):
                    raise Unverifiable(f"`{op.child}` is not a mapping")
                child[op.key] = value
            else:
                target[op.key] = value
        else:
            _remove(data, op)
    return data


def _remove(data: object, op: RemoveKey) -> None:
    target = _mapping(data, op.mapping.route)
    del target[_key_in(target, op.key)]
    if target or op.owner is None or op.owner_key is None:
        return
    owner = _mapping(data, op.owner.route)
    key = _key_in(owner, op.owner_key)
    if op.empty == "{}":
        owner[key] = {}
    else:
        del owner[key]
