"""``@record``: a frozen, slotted dataclass that is cheap to create at import.

pubaudit's records are frozen dataclasses, and pubaudit runs on every commit. Python's
``@dataclass(frozen=True, slots=True)`` compiles six to eight methods per class with
``exec`` (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``,
``__delattr__``, the slot pickling pair) and builds each class twice: 0.7 ms a class, ~55 ms
of a one-file scan's start-up over the ~125 records. ``record`` reads the fields itself
(``dataclasses.Field`` objects, so ``dataclasses.fields``, ``replace`` and ``asdict`` work
as on any dataclass), builds the slotted class once, and gives every record the same shared
methods: equality and hashing over the fields that ``compare`` (and ``hash``), a
dataclass-style ``repr``, assignment and deletion refused with ``FrozenInstanceError``,
pickling of the slots. Only ``__init__`` is compiled, and only once the class has been
instantiated a few dozen times (until then a generic one binds the arguments): a one-file
scan makes ~300 records of ~45 classes and compiles none. Methods a class defines
itself are kept. A class this does not handle (a base class with fields, a ``ClassVar``)
goes through ``dataclasses.dataclass`` as before. ``@state`` is the same for the few records
a stage fills in as it goes (the loaded repository, the report): fields may be assigned, and
like a mutable dataclass it is compared by value and not hashable.
"""

from __future__ import annotations

import dataclasses
import inspect
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
    return tuple(getattr(self, name) for name in self.__record_fields__)


def _setstate(self: Any, state: tuple[object, ...]) -> None:
    for name, value in zip(self.__record_fields__, state, strict=True):
        object.__setattr__(self, name, value)


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


def _own_fields(cls: type) -> list[dataclasses.Field[Any]] | None:
    """The fields of ``cls`` in annotation order, as ``dataclasses`` would make them; ``None``
    when ``cls`` needs what only ``dataclasses`` does (inherited fields, class variables)."""
    for base in cls.__mro__[1:-1]:
        if "__dataclass_fields__" in base.__dict__:
            return None
    made: list[dataclasses.Field[Any]] = []
    defaulted = False
    namespace = cls.__dict__
    field = dataclasses.field
    for name, annotation in inspect.get_annotations(cls).items():
        text = annotation if isinstance(annotation, str) else repr(annotation)
        if "ClassVar" in text or "InitVar" in text:
            return None
        value = namespace.get(name, MISSING)
        made_field: dataclasses.Field[Any] = value if isinstance(value, dataclasses.Field) \
            else field(default=value)
        if made_field.init:
            has_default = made_field.default is not MISSING or \
                made_field.default_factory is not MISSING
            if defaulted and not has_default:
                raise TypeError(f"non-default argument {name!r} follows default argument")
            defaulted = defaulted or has_default
        made_field.name = name
        made_field.type = annotation
        made_field._field_type = dataclasses._FIELD  # type: ignore[attr-defined]
        made.append(made_field)
    return made


class _Params:
    """A record's ``__dataclass_params__``, made on first use: only ``dataclasses`` itself
    reads it (when a dataclass derives from a record), and a real one is taken from a
    throwaway dataclass because its constructor differs by Python version (~0.4 ms)."""

    def __init__(self, frozen: bool) -> None:
        self.frozen = frozen
        self.made: object = None

    def __get__(self, instance: object, owner: type | None = None) -> object:
        if self.made is None:
            self.made = dataclasses.dataclass(frozen=self.frozen)(
                type("_Params", (), {})).__dataclass_params__  # type: ignore[attr-defined]
        return self.made


_PARAMS = {frozen: _Params(frozen) for frozen in (True, False)}


def _compile_init(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> Any:
    source, names = _init_source(fields)
    exec(source, names)  # the source is built from the field names only
    init: Any = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


# Calls after which a record's ``__init__`` is compiled. Compiling one costs about what 50
# calls of the generic one do; a one-file scan makes ~300 records of ~45 classes, a
# repository's scan makes some classes (anchors, findings) by the thousand.
_COMPILE_AFTER = 32


def _deferred_init(cls: type, fields: tuple[dataclasses.Field[Any], ...]) -> Any:
    """An ``__init__`` that binds its arguments generically for the first calls, then
    compiles the real one and puts it in its place: a record a run makes a few times never
    costs a compilation, and one it makes by the thousand gets the fast one early."""
    params = tuple(f for f in fields if f.init)
    names = frozenset(f.name for f in params)
    calls = 0

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls >= _COMPILE_AFTER:
            real = _compile_init(cls, fields)
            cls.__init__ = real  # type: ignore[misc]
            real(self, *args, **kwargs)
            return
        if len(args) > len(params):
            raise TypeError(f"{cls.__qualname__}() takes {len(params)} arguments, "
                            f"{len(args)} given")
        for name in kwargs:
            if name not in names:
                raise TypeError(f"{cls.__qualname__}() got an unexpected argument {name!r}")
        for position, field in enumerate(params):
            if position < len(args):
                if field.name in kwargs:
                    raise TypeError(f"{cls.__qualname__}() got multiple values for "
                                    f"{field.name!r}")
                value = args[position]
            elif field.name in kwargs:
                value = kwargs[field.name]
            elif field.default is not MISSING:
                value = field.default
            elif field.default_factory is not MISSING:
                value = field.default_factory()
            else:
                raise TypeError(f"{cls.__qualname__}() missing argument {field.name!r}")
            object.__setattr__(self, field.name, value)

    return __init__


@dataclass_transform(frozen_default=True)
def record(cls: type[T]) -> type[T]:
    """Make ``cls`` a frozen, slotted dataclass (see the module's docstring)."""
    return _make(cls, frozen=True)


@dataclass_transform()
def state(cls: type[T]) -> type[T]:
    """Make ``cls`` a slotted dataclass whose fields may be assigned: what a stage fills in
    as it goes (the loaded repository, the report). The same cheap construction as
    :func:`record`; like a mutable dataclass it compares by value and is not hashable."""
    return _make(cls, frozen=False)


def _make(cls: type[T], frozen: bool) -> type[T]:
    own = _own_fields(cls)
    if own is None:
        made: Any = dataclasses.dataclass(cls, slots=True, init=False, repr=False, eq=False)
        fields = dataclasses.fields(made)
        for name, value in _extras(cls, fields, frozen).items():
            setattr(made, name, value)
    else:
        # the slotted class is built once, from a namespace holding everything: setting
        # attributes on a class after it is made costs a type-cache invalidation each
        fields = tuple(own)
        names = {f.name for f in fields}
        namespace = {key: value for key, value in cls.__dict__.items()
                     if key not in names and key not in ("__dict__", "__weakref__")}
        namespace["__slots__"] = tuple(f.name for f in fields)
        namespace["__dataclass_fields__"] = {f.name: f for f in fields}
        namespace["__dataclass_params__"] = _PARAMS[frozen]
        namespace["__match_args__"] = tuple(f.name for f in fields if f.init)
        namespace.update(_extras(cls, fields, frozen))
        metaclass: Any = type(cls)
        made = metaclass(cls.__name__, cls.__bases__, namespace)
    if "__init__" not in cls.__dict__:
        made.__init__ = _deferred_init(made, fields)
    return made  # type: ignore[no-any-return]


def _extras(cls: type, fields: tuple[dataclasses.Field[Any], ...], frozen: bool
            ) -> dict[str, object]:
    """The field-name tuples the shared methods read, and the shared methods ``cls`` does
    not define itself."""
    extras: dict[str, object] = {
        "__record_compare__": tuple(f.name for f in fields if f.compare),
        "__record_hash__": tuple(f.name for f in fields
                                 if (f.hash if f.hash is not None else f.compare)),
        "__record_repr__": tuple(f.name for f in fields if f.repr),
        "__record_fields__": tuple(f.name for f in fields),
    }
    own = cls.__dict__
    for name, method in _SHARED.items():
        if not frozen and name in ("__setattr__", "__delattr__", "__hash__"):
            continue
        defined = own.get(name) is not None
        if not defined or (frozen and name in ("__setattr__", "__delattr__")):
            extras[name] = method
    if not frozen and "__hash__" not in own:
        extras["__hash__"] = None  # mutable and compared by value, as a dataclass with eq
    return extras
