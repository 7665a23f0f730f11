"""``@record`` behaves as ``@dataclass(frozen=True, slots=True)`` wherever pubaudit relies
on it: fields, defaults and factories, equality and hashing over compared fields, repr,
frozen assignment, ``replace``/``fields``/``asdict``, pickling, and methods a class defines
itself."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from auditor.output.records import record, state


@record
class Point:
    """A test record."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    seen: list[int] = dataclasses.field(default_factory=list, compare=False, repr=False)

    @property
    def total(self) -> int:
        return self.x + self.y


@record
class Named:
    name: str

    def __repr__(self) -> str:
        return f"<{self.name}>"


def test_fields_defaults_and_factories() -> None:
    point = Point(1)
    assert (point.x, point.y, point.tags, point.seen) == (1, 0, (), [])
    assert Point(1).seen is not Point(1).seen, "a factory gives each instance its own"
    assert [f.name for f in dataclasses.fields(point)] == ["x", "y", "tags", "seen"]
    assert dataclasses.is_dataclass(point) and point.total == 1
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]


def test_equality_and_hash_over_compared_fields() -> None:
    assert Point(1, 2, seen=[1]) == Point(1, 2, seen=[2])
    assert Point(1, 2) != Point(2, 1)
    assert hash(Point(1, 2, ("a",))) == hash(Point(1, 2, ("a",)))
    assert len({Point(1), Point(1), Point(2)}) == 2
    other: object = Named("x")
    assert Point(1) != other and Point(1).__eq__(other) is NotImplemented


def test_repr_frozen_and_replace() -> None:
    assert repr(Point(1, 2)) == "Point(x=1, y=2, tags=())"
    assert repr(Named("n")) == "<n>", "a class's own method is kept"
    point = Point(1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.x = 5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del point.x
    moved = dataclasses.replace(point, y=7)
    assert (moved.x, moved.y) == (1, 7) and point.y == 0
    assert dataclasses.asdict(moved) == {"x": 1, "y": 7, "tags": (), "seen": []}
    assert not hasattr(point, "__dict__"), "slotted"


def test_pickle_round_trip() -> None:
    point = Point(3, 4, ("t",), [9])
    again = pickle.loads(pickle.dumps(point))
    assert again == point and again.seen == [9]


def test_fields_are_dataclass_fields_and_init_is_compiled_once_in_use() -> None:
    @record
    class Late:
        a: int
        b: str = "b"
        c: tuple[int, ...] = dataclasses.field(default=(), compare=False)
        d: list[int] = dataclasses.field(default_factory=list)

    def behaves() -> None:  # the same before and after the compiled __init__ takes over
        assert Late(1) == Late(1, "b", (5,)) and Late(1).c == () and Late(1).d == []
        assert Late(1).d is not Late(1).d
        assert repr(Late(a=2, d=[1])) == "Late(a=2, b='b', c=(), d=[1])"
        wrong: tuple[tuple[tuple[object, ...], dict[str, object]], ...] = (
            ((), {}), ((1, "b", (), [], 5), {}), ((1,), {"a": 2}), ((1,), {"e": 1}))
        for args, kwargs in wrong:
            with pytest.raises(TypeError):
                Late(*args, **kwargs)  # type: ignore[arg-type]

    generic = Late.__init__
    behaves()
    assert Late.__init__ is generic, "compiled for a handful of instances"
    for _ in range(64):
        Late(0)
    assert Late.__init__ is not generic
    assert Late.__init__.__qualname__.endswith("Late.__init__")
    behaves()
    assert [(f.name, f.default, f.compare) for f in dataclasses.fields(Late)][:3] == [
        ("a", dataclasses.MISSING, True), ("b", "b", True), ("c", (), False)]
    assert Late.__match_args__ == ("a", "b", "c", "d")
    assert dataclasses.fields(Late)[0].type == "int"
    assert Late.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_a_field_without_default_after_one_with_is_refused_at_once() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b'"):
        @record
        class Bad:
            a: int = 0
            b: int  # type: ignore[misc]


@state
class Filled:
    """A test state record."""

    name: str
    items: list[int] = dataclasses.field(default_factory=list)


def test_state_is_a_mutable_slotted_dataclass() -> None:
    one = Filled("a")
    one.name = "b"
    one.items.append(1)
    assert one == Filled("b", [1]) and repr(one) == "Filled(name='b', items=[1])"
    assert Filled("a").items is not Filled("a").items
    with pytest.raises(TypeError):
        hash(one)  # compared by value and mutable: not hashable, as a dataclass
    assert not hasattr(one, "__dict__")
    assert dataclasses.replace(one, name="c").items == [1]
    assert pickle.loads(pickle.dumps(one)) == one
