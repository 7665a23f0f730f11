"""Which of a file's fixes go in together, and the text they make.

Findings of different rules can carry the same edit (two rules both grant `id-token: write`
to one job) or edits that touch the same lines (a token removal that empties `with:` and a
rename inside it). Identical edits are made once; of two that overlap, the first (safe fixes
before unsafe ones, then in report order) goes in and the other waits for the next pass,
where it is planned again on the edited text.
"""

from __future__ import annotations

from auditor.checks.findings import Edit, Finding
from auditor.output.records import record
from auditor.reading.edits import TextEdit, apply, line_starts


@record
class Batch:
    """Fixes of one file that can be applied together, and the resulting text."""

    path: str
    findings: tuple[Finding, ...]
    text: str


def offsets(text: str, edit: Edit, starts: list[int] | None = None) -> TextEdit:
    """A report edit (1-based lines and columns) as character offsets of ``text``."""
    starts = starts if starts is not None else line_starts(text)

    def at(line: int, column: int) -> int:
        if line - 1 >= len(starts):
            return len(text)
        return min(starts[line - 1] + column - 1, len(text))

    return TextEdit(at(edit.line, edit.column), at(edit.end_line, edit.end_column),
                    edit.replacement)


def _clash(planned: list[TextEdit], new: list[TextEdit]) -> bool:
    for edit in new:
        if edit in planned:
            continue
        for other in planned:
            if edit.start < other.end and other.start < edit.end:
                return True
            if edit.start == edit.end == other.start == other.end:
                return True  # two different insertions at one place: order is a guess
            if edit.start == edit.end and other.start < edit.start < other.end:
                return True
    return False


def batch(path: str, text: str, findings: list[Finding]) -> Batch:
    """The fixes of ``findings`` (all in ``path``) that fit together; the others wait for
    the next pass, planned again on the edited text."""
    starts = line_starts(text)
    ordered = sorted(findings, key=lambda f: (not (f.fix and f.fix.safe), f.sort_key))
    planned: list[TextEdit] = []
    taken: list[Finding] = []
    for finding in ordered:
        assert finding.fix is not None
        edits = [offsets(text, e, starts) for e in finding.fix.edits]
        if _clash(planned, edits):
            continue
        planned.extend(e for e in edits if e not in planned)
        taken.append(finding)
    return Batch(path, tuple(taken), apply(text, planned))
