"""``--format text``: for people. One block per finding, the source line, a caret underline.

Colour only when asked for (``color=True``, decided by the CLI from the terminal,
``--no-color``, ``NO_COLOR`` and ``FORCE_COLOR``); plain ANSI codes, no rich import.
Everything from the repository is printed inert (``auditor.inert``) and source lines come
redacted and clipped from ``formats/excerpt.py``.
"""

from __future__ import annotations

import textwrap

from auditor.catalogue import SEVERITIES
from auditor.engine import Report
from auditor.findings import Finding, Location
from auditor.formats.excerpt import Excerpts
from auditor.inert import inert, no_commands

_COLORS = {"high": "\033[1;31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[2m"}
_BOLD, _DIM, _RESET = "\033[1m", "\033[2m", "\033[0m"


def _snippet(excerpts: Excerpts, location: Location, indent: str, color: bool) -> list[str]:
    start = max(location.column - 1, 0)
    end = location.end_column - 1 if location.end_line == location.line else -1
    excerpt = excerpts.line(location.path, location.line, start,
                            end if end >= 0 else 1 << 62)
    if excerpt is None:
        return []
    number = f"{location.line:>4} | "
    width = max(excerpt.end - excerpt.start, 1)
    caret = " " * (len(number) + excerpt.start) + "^" * min(
        width, max(len(excerpt.text) - excerpt.start, 1))
    if color:
        caret = f"{_BOLD}{caret}{_RESET}"
    return [f"{indent}{number}{excerpt.text}", f"{indent}{caret}"]


def _block(excerpts: Excerpts, finding: Finding, color: bool) -> list[str]:
    loc = finding.location
    severity = finding.severity
    if color:
        severity = f"{_COLORS[severity]}{severity}{_RESET}"
    head = f"{inert(loc.path)}:{loc.line}:{loc.column}  {severity}  {finding.rule}"
    lines = [head]
    lines += textwrap.wrap(inert(finding.message), 96, initial_indent="  ",
                           subsequent_indent="  ", break_on_hyphens=False,
                           break_long_words=False)
    lines += _snippet(excerpts, loc, "  ", color)
    for label, related in finding.related:
        where = f"{inert(related.path)}:{related.line}:{related.column}"
        lines.append(f"  = {inert(label)}: {where}")
        lines += _snippet(excerpts, related, "    ", color)
    return lines


def render(report: Report, color: bool = False, quiet: bool = False) -> str:
    out: list[str] = []
    active = report.active
    excerpts = Excerpts(report.sources)
    if not quiet:
        for finding in active:
            out += _block(excerpts, finding, color)
            out.append("")
    counts = [f"{n} {s}" for s in reversed(SEVERITIES)
              if (n := sum(1 for f in active if f.severity == s))]
    suppressed = len(report.findings) - len(active)
    summary = (f"{len(active)} finding{'s' if len(active) != 1 else ''}"
               f"{' (' + ', '.join(counts) + ')' if counts else ''} in {report.files} files; "
               f"{report.publish_job_count} publish job"
               f"{'s' if report.publish_job_count != 1 else ''}")
    if suppressed:
        summary += f"; {suppressed} suppressed"
    out.append(f"{_BOLD}{summary}{_RESET}" if color else summary)
    return no_commands("\n".join(out) + "\n")
