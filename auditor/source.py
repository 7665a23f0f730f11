"""A file of the scanned repository and the places in it that findings point at."""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.yamlsource import Node

Route = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A text file, with ``path`` relative to the scanned root using ``/``."""

    path: str
    text: str
    lines: tuple[str, ...] = field(repr=False)

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        return cls(path, text, tuple(text.splitlines()))

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a finding points: a node of a file, named by its route for fingerprints.

    Rules never compute line numbers; the engine turns the node into a span. ``node`` is
    ``None`` for a whole-file location; ``span`` overrides the node with an explicit
    0-based (line, column, end line, end column) for text found inside a scalar or in a
    non-YAML file.
    """

    path: str
    route: Route
    node: Node | None = None
    span: tuple[int, int, int, int] | None = None

    def child(self, *route: str | int, node: Node | None = None) -> Anchor:
        return Anchor(self.path, self.route + route, node)
