"""A file of the scanned repository and the places in it that findings point at."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from auditor.yamlsource import Node

Route = tuple[str | int, ...]


_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> tuple[str, ...]:
    """Lines as YAML parsers, TOML parsers and GitHub count them: only CR, LF and CRLF end a
    line (``str.splitlines`` would also break at form feeds, U+2028 and others, shifting
    every line number after them)."""
    lines = _LINE_BREAK_RE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A text file, with ``path`` relative to the scanned root using ``/``."""

    path: str
    text: str
    lines: tuple[str, ...] = field(repr=False)

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        return cls(path, text, split_lines(text))

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
