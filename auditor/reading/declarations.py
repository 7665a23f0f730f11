"""The trusted publishers the user declares they registered on PyPI and TestPyPI.

PyPI keeps publisher settings server-side and offers no API to read them, so users declare
them (SPEC §3) in ``[[tool.pubaudit.publishers]]`` or ``pubaudit.toml``. This module holds
the declaration record, with the position of every value (tomllib gives none, so tables are
located in the text), and PEP 503 project names. It is part of reading the configuration;
comparing declarations with what the repository needs is ``auditor.publishers.matching``.
"""

from __future__ import annotations

import re

from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.source import Anchor, split_lines

PROVIDERS = ("github", "gitlab", "google", "activestate")
INDEXES = ("pypi", "testpypi")
INDEX_HOSTS = {"pypi": "pypi.org", "testpypi": "test.pypi.org"}
INDEX_NAMES = {"pypi": "PyPI", "testpypi": "TestPyPI"}

_NORMALIZE_RE = lazy_re(r"[-_.]+")


def normalize_project(name: str) -> str:
    """PEP 503 normalisation: PyPI compares project names in this form."""
    return _NORMALIZE_RE.sub("-", name).lower()


@record
class Declaration:
    """One ``[[tool.pubaudit.publishers]]`` table, with the position of each of its values.

    Values are kept as declared (whitespace included) so ``publisher-malformed`` can point
    at them; ``value()`` gives the string PyPI would store after its form's stripping.
    """

    number: int  # 0-based, in declaration order
    anchor: Anchor  # the table header (or the ``publishers`` key for inline tables)
    raw: tuple[tuple[str, object], ...]
    spans: tuple[tuple[str, Anchor], ...]

    def get(self, key: str) -> object:
        for name, value in self.raw:
            if name == key:
                return value
        return None

    def text(self, key: str) -> str | None:
        value = self.get(key)
        return value if isinstance(value, str) else None

    def at(self, key: str) -> Anchor:
        """The position of ``key``'s value, else of the table."""
        for name, anchor in self.spans:
            if name == key:
                return anchor
        return self.anchor

    def has(self, key: str) -> bool:
        return any(name == key for name, _ in self.raw)

    @property
    def index(self) -> str:
        return (self.text("index") or "pypi").strip().lower()

    @property
    def provider(self) -> str:
        return (self.text("provider") or "github").strip().lower()

    @property
    def pending(self) -> bool:
        return self.get("pending") is True

    @property
    def owner(self) -> str | None:
        return _stripped(self.text("owner"))

    @property
    def repository(self) -> str | None:
        return _stripped(self.text("repository"))

    @property
    def workflow(self) -> str | None:
        return _stripped(self.text("workflow"))

    @property
    def environment(self) -> str:
        """``""`` means any environment (PyPI's stored value for an empty field)."""
        return _stripped(self.text("environment")) or ""

    def project(self, default: str | None) -> str | None:
        return _stripped(self.text("project")) or default

    def describe(self) -> str:
        """A short human name: ``pypi publisher #2 (github pypa/sampleproject release.yml)``."""
        parts = [self.provider]
        if self.provider in ("github", "gitlab"):
            if self.owner or self.repository:
                parts.append(f"{self.owner or '?'}/{self.repository or '?'}")
            if self.workflow:
                parts.append(self.workflow)
            if self.environment:
                parts.append(f"environment {self.environment}")
        kind = "pending publisher" if self.pending else "publisher"
        return f"{self.index} {kind} #{self.number + 1} ({' '.join(parts)})"


def _stripped(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip()


# ----------------------------------------------------------------- declarations from TOML

_KEY_RE = lazy_re(r"""^\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=\s*""")


def _value_end(line: str, start: int) -> int:
    """End column of the TOML value starting at ``start`` (a string, or up to a comment)."""
    if start < len(line) and line[start] in "\"'":
        quote = line[start]
        if line.startswith(quote * 3, start):
            close = line.find(quote * 3, start + 3)
            return close + 3 if close >= 0 else len(line)
        i = start + 1
        while i < len(line):
            if line[i] == "\\" and quote == '"':
                i += 2
                continue
            if line[i] == quote:
                return i + 1
            i += 1
        return len(line)
    comment = line.find("#", start)
    end = comment if comment >= 0 else len(line)
    return len(line[:end].rstrip())


def locate_declarations(path: str, text: str, prefix: str,
                        count: int) -> list[tuple[Anchor, dict[str, Anchor]]]:
    """Positions of each ``[[<prefix>.publishers]]`` table and of its values.

    tomllib gives no positions, so the tables are found in the text. When the tables cannot
    be found one by one (inline tables, dotted keys), every value points at the
    ``publishers`` key: less precise, never wrong.
    """
    header_re = re.compile(r"^\s*\[\[\s*" + re.escape(f"{prefix}.publishers" if prefix else
                                                       "publishers") + r"\s*\]\]")
    lines = split_lines(text)
    found: list[tuple[Anchor, dict[str, Anchor]]] = []
    current: dict[str, Anchor] | None = None
    for number, line in enumerate(lines):
        if header_re.match(line):
            start = len(line) - len(line.lstrip())
            table = len(found)
            anchor = Anchor(path, ("publishers", table), span=(number, start, number,
                                                               len(line.rstrip())))
            current = {}
            found.append((anchor, current))
            continue
        if line.lstrip().startswith("["):
            current = None
            continue
        if current is None:
            continue
        match = _KEY_RE.match(line)
        if match:
            key = match.group(1) or match.group(2) or match.group(3)
            start = match.end()
            end = max(_value_end(line, start), start)
            current[key] = Anchor(path, ("publishers", len(found) - 1, key),
                                  span=(number, start, number, end))
    if len(found) == count:
        return found
    fallback = Anchor(path, ("publishers",), span=(0, 0, 0, 0))
    for number, line in enumerate(lines):
        match = _KEY_RE.match(line)
        if match and (match.group(1) or match.group(2) or match.group(3)) == "publishers":
            start = len(line) - len(line.lstrip())
            fallback = Anchor(path, ("publishers",), span=(number, start, number,
                                                           len(line.rstrip())))
            break
    return [(Anchor(path, ("publishers", i), span=fallback.span), {}) for i in range(count)]
