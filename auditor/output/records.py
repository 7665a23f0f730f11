"""``@record``: a frozen, slotted dataclass that is cheap to create at import.

pubaudit's records are frozen dataclasses, and pubaudit runs on every commit. Python's
``@dataclass(frozen=True, slots=True)`` compiles six to eight methods per class with
``exec`` (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``, the slot pickling pair): 0.7 ms a class, ~55 ms of a one-file scan's
start-up over the ~80 records it imports. ``record`` asks ``dataclasses`` for the fields and
the slots only, compiles ``__init__`` alone (it sets the fields with ``object.__setattr__``,
as a frozen dataclass's does) and gives every record the same shared methods for the rest:
equality and hashing over the fields that ``compare`` (and ``hash``), a dataclass-style
``repr``, assignment and deletion refused with ``FrozenInstanceError``, pickling of the
slots. ``dataclasses.fields``, ``replace`` and ``asdict`` work as on any dataclass; methods a
class defines itself are kept. About 0.17 ms a class.
"""

from __future__ import annotations

import dataclasses
from dataclasses import MISSING, FrozenInstanceError
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


def _eq(self: Any, other: Any) -> Any:  # bool, or NotImplemented for another class
    if other.__class__ is not self.__class__:
        return NotImplemented
    return all(getattr(self, name) == getattr(other, name) for name in self.__record_compare__)


def _hash(self: Any) -> int:
    return hash(tuple(getattr(self, name) for name in self.__record_hash__))


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_repr__)
    return f"{type(self).__qualname__}({shown})"


def _setattr(self: Any, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: Any, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _getstate(self: Any) -> tuple[object, ...]:
    return tuple(getattr(self, field.name) for field in dataclasses.fields(self))


def _setstate(self: Any, state: tuple[object, ...]) -> None:
    for field, value in zip(dataclasses.fields(self), state, strict=True):
        object.__setattr__(self, field.name, value)


_SHARED = {"__eq__": _eq, "__hash__": _hash, "__repr__": _repr, "__setattr__": _setattr,
           "__delattr__": _delattr, "__getstate__": _getstate, "__setstate__": _setstate}


def _init_source(fields: tuple[dataclasses.Field[Any], ...]) -> tuple[str, dict[str, object]]:
    """The source of ``__init__`` and the names it refers to (defaults, factories)."""
    params: list[str] = []
    body: list[str] = []
    names: dict[str, object] = {"_set": object.__setattr__, "_MISSING": MISSING}
    for field in fields:
        if not field.init:
            continue
        if field.default is not MISSING:
            names[f"_d_{field.name}"] = field.default
            params.append(f"{field.name}=_d_{field.name}")
        elif field.default_factory is not MISSING:
            names[f"_f_{field.name}"] = field.default_factory
            params.append(f"{field.name}=_MISSING")
            body.append(f"    if {field.name} is _MISSING:\n"
                        f"        {field.name} = _f_{field.name}()")
        else:
            params.append(field.name)
        body.append(f"    _set(self, {field.name!r}, {field.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass")
    return source, names


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen, slotted dataclass (see the module's docstring)."""
    made: Any = dataclasses.dataclass(cls, slots=True, init=False, repr=False, eq=False)
    fields = dataclasses.fields(made)
    source, names = _init_source(fields)
    exec(source, names)  # the source is built above from the field names only
    if "__init__" not in cls.__dict__:
        made.__init__ = names["__init__"]
    made.__record_compare__ = tuple(f.name for f in fields if f.compare)
    made.__record_hash__ = tuple(f.name for f in fields
                                 if (f.hash if f.hash is not None else f.compare))
    made.__record_repr__ = tuple(f.name for f in fields if f.repr)
    for name, method in _SHARED.items():
        defined = name in cls.__dict__ and cls.__dict__[name] is not None
        if not defined or name in ("__setattr__", "__delattr__"):
            setattr(made, name, method)
    return made  # type: ignore[no-any-return]
