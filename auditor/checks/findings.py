"""What rules yield (``Problem``) and what the engine reports (``Finding``)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.reading.source import Anchor


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace ``path``'s text between two 1-based positions (end exclusive)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A change that removes a finding; `safe` ones may be applied without review."""

    title: str
    safe: bool
    edits: tuple[Edit, ...] = ()


@dataclass(frozen=True, slots=True)
class FixHint:
    """A fix as a rule states it: replace the text of ``anchor`` with ``replacement``."""

    title: str
    safe: bool
    anchor: Anchor
    replacement: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A rule's raw result. The engine adds id, severity, span and fingerprint."""

    anchor: Anchor
    message: str
    related: tuple[tuple[str, Anchor], ...] = ()
    fix: FixHint | None = None
    severity: str | None = None  # overrides the catalogue default where RULES.md escalates
    undecided: bool = False  # hinges on something pubaudit cannot see: lower confidence, no high


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based span in a file, as every output format reports it."""

    path: str
    line: int  # 1-based
    column: int  # 1-based, in code points
    end_line: int
    end_column: int

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "column": self.column,
                "end_line": self.end_line, "end_column": self.end_column}


@dataclass(frozen=True, slots=True)
class Finding:
    """A reported problem: a rule's Problem stamped with id, severity, span, fingerprint."""

    rule: str
    severity: str
    confidence: str
    message: str
    location: Location
    related: tuple[tuple[str, Location], ...]
    help_uri: str
    fingerprint: str
    suppressed: bool = False
    suppression: str | None = None  # "inSource" | "external"
    fix: Fix | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.path, self.location.line, self.location.column, self.rule)
