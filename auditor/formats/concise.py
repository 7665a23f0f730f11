"""``--format concise``: one line per finding, for editors' problem matchers and grep.

``path:line:col: severity rule-id message``, where the message is its first sentence and
the path opens from the current directory (as in ``--format text``). The last line is the
same summary as the text format's. Messages come redacted from the engine; paths and
messages are printed inert, and no line can start a workflow command (``auditor.output.inert``).
"""

from __future__ import annotations

from auditor.checks.findings import Finding
from auditor.engine.scan import Report
from auditor.formats.text import notice_lines, summary
from auditor.output.inert import inert, no_commands
from auditor.output.lazyre import lazy_re
from auditor.output.paths import display_path

# A sentence ends at ". " followed by a capital or a backtick, not inside `a.b` or "e.g. x".
_SENTENCE_END = lazy_re(r"(?<=[.!?])\s+(?=[A-Z`])")


def first_sentence(message: str) -> str:
    """The message up to its first sentence end, on one line."""
    flat = " ".join(message.split())
    return _SENTENCE_END.split(flat, maxsplit=1)[0]


def line(report: Report, finding: Finding) -> str:
    loc = finding.location
    return (f"{inert(display_path(report.root, loc.path))}:{loc.line}:{loc.column}: "
            f"{finding.severity} {finding.rule} {inert(first_sentence(finding.message))}")


def render(report: Report) -> str:
    out = [line(part, finding) for part in report.repositories for finding in part.active]
    out += notice_lines(report)  # --online: what could not be checked
    out.append(summary(report))
    return no_commands("\n".join(out) + "\n")
