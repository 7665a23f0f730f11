"""What rules yield (``Problem``) and what the engine reports (``Finding``)."""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING

from auditor.output.records import record
from auditor.reading.source import Anchor

if TYPE_CHECKING:  # the operations are built by the rules that fix; imported there
    from auditor.reading.edits import EditOp


@record
class Edit:
    """Replace ``path``'s text between two 1-based positions (end exclusive)."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    replacement: str


@record
class Fix:
    """A change that removes a finding; `safe` ones may be applied without review."""

    title: str
    safe: bool
    edits: tuple[Edit, ...] = ()
    refused: str | None = None  # why the edits could not be made on this file's shape
    # what the edits mean, for ``pubaudit fix`` to check the result's data against
    ops: tuple[EditOp, ...] = field(default=(), compare=False, repr=False)
    # (secret, index) pairs that fall out of use when the fix is applied: the checklist
    retires: tuple[tuple[str, str], ...] = ()
    expects: tuple[str, ...] = ()


@record
class FixHint:
    """A fix as a rule states it, in routes and nodes, never in line numbers: the operations
    of :mod:`auditor.reading.edits` (replace a scalar, set a version comment, insert or
    remove a key). ``safe`` fixes may be applied without review (``pubaudit fix``); the
    others only with ``--unsafe``, because they change what the workflow does."""

    title: str
    safe: bool
    ops: tuple[EditOp, ...]
    retires: tuple[tuple[str, str], ...] = ()  # (secret name, index) no longer used after it
    # rules whose findings the fix may bring and the checklist answers (a migrated upload
    # needs its publisher registered): not counted as new findings when it is verified
    expects: tuple[str, ...] = ()


@record
class Problem:
    """A rule's raw result. The engine adds id, severity, span and fingerprint."""

    anchor: Anchor
    message: str
    related: tuple[tuple[str, Anchor], ...] = ()
    fix: FixHint | None = None
    severity: str | None = None  # overrides the catalogue default where RULES.md escalates
    undecided: bool = False  # hinges on something pubaudit cannot see: lower confidence, no high


@record
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


@record
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
