"""``--format text``: for people. One block per finding, the source line, a caret underline.

Colour only when asked for (``color=True``, decided by the CLI from the terminal,
``--no-color``, ``NO_COLOR`` and ``FORCE_COLOR``); plain ANSI codes, no rich import.
Everything from the repository is printed inert (``auditor.output.inert``) and source lines come
redacted and clipped from ``formats/excerpt.py``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from auditor.checks.findings import Finding, Location
from auditor.engine.scan import Report
from auditor.formats.excerpt import Excerpts
from auditor.output.inert import inert, no_commands
from auditor.output.paths import display_path
from auditor.reading.catalogue import SEVERITIES

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


def _fix_marker(finding: Finding) -> str:
    """`` [fix]`` when ``pubaudit fix`` applies the finding's fix, `` [fix: unsafe]`` when
    only ``pubaudit fix --unsafe`` does."""
    fix = finding.fix
    if fix is None or not fix.edits or fix.refused is not None:
        return ""
    return "  [fix]" if fix.safe else "  [fix: unsafe]"


def _block(root: Path, excerpts: Excerpts, finding: Finding, color: bool) -> list[str]:
    loc = finding.location
    severity = finding.severity
    if color:
        severity = f"{_COLORS[severity]}{severity}{_RESET}"
    head = f"{inert(display_path(root, loc.path))}:{loc.line}:{loc.column}  {severity}  " \
        f"{finding.rule}{_fix_marker(finding)}"
    lines = [head]
    lines += textwrap.wrap(inert(finding.message), 96, initial_indent="  ",
                           subsequent_indent="  ", break_on_hyphens=False,
                           break_long_words=False)
    lines += _snippet(excerpts, loc, "  ", color)
    for label, related in finding.related:
        where = f"{inert(display_path(root, related.path))}:{related.line}:{related.column}"
        lines.append(f"  = {inert(label)}: {where}")
        lines += _snippet(excerpts, related, "    ", color)
    return lines


def files_read(count: int) -> str:
    """``"1 file read"``, ``"3 files read"``: what the scan looked at, not only CI files."""
    return f"{count} file{'s' if count != 1 else ''} read"


def summary(report: Report) -> str:
    """``8 findings (5 medium, 3 low); 2 files read; 1 publish job[; 1 suppressed]``."""
    active = report.active
    counts = [f"{n} {s}" for s in reversed(SEVERITIES)
              if (n := sum(1 for f in active if f.severity == s))]
    suppressed = len(report.findings) - len(active)
    text = (f"{len(active)} finding{'s' if len(active) != 1 else ''}"
            f"{' (' + ', '.join(counts) + ')' if counts else ''}; {files_read(report.files)}; "
            f"{report.publish_job_count} publish job"
            f"{'s' if report.publish_job_count != 1 else ''}")
    if suppressed:
        text += f"; {suppressed} suppressed"
    if len(report.parts) > 1:
        text += f"; {len(report.parts)} repositories"
    if report.notices:
        count = len(report.notices)
        text += f"; {count} notice{'s' if count != 1 else ''} (not checked)"
    return text


def _fixable(report: Report) -> str:
    """``; 2 fixable with `pubaudit fix` (3 with `--unsafe`)``: what ``fix`` would do."""
    fixable = [f for f in report.active
               if f.fix is not None and f.fix.edits and not f.fix.refused]
    if not fixable:
        return ""
    safe = sum(1 for f in fixable if f.fix is not None and f.fix.safe)
    if safe == len(fixable):
        return f"; {safe} fixable with `pubaudit fix`"
    if safe:
        return f"; {safe} fixable with `pubaudit fix` ({len(fixable)} with `--unsafe`)"
    return f"; {len(fixable)} fixable with `pubaudit fix --unsafe`"


def notice_lines(report: Report) -> list[str]:
    """``--online``: one line per notice (what could not be checked, and why)."""
    lines = []
    for notice in report.notices:
        where = f" [{notice.endpoint}" + (f" → {notice.status}" if notice.status else "") + \
            "]" if notice.endpoint else ""
        rule = f"{notice.rule}: " if notice.rule else ""
        lines.append(inert(f"notice: {rule}{notice.message}{where}"))
    return lines


def render(report: Report, color: bool = False, quiet: bool = False) -> str:
    out: list[str] = []
    if not quiet:
        for part in report.repositories:  # each finding's snippet from its own repository
            excerpts = Excerpts(part.sources)
            for finding in part.active:
                out += _block(part.root, excerpts, finding, color)
                out.append("")
        if report.notices:
            out += [*notice_lines(report), ""]
    line = summary(report) + _fixable(report)
    out.append(f"{_BOLD}{line}{_RESET}" if color else line)
    return no_commands("\n".join(out) + "\n")
