"""What ``pubaudit fix`` prints: the diff (``--diff``), the changes per file, the findings
left with the reason, and the checklist."""

from __future__ import annotations

import difflib
from pathlib import Path

from auditor.fix.run import Change, Outcome
from auditor.fix.write import BOM
from auditor.output.inert import inert
from auditor.output.paths import display_path


def diff(change: Change, root: Path) -> str:
    """A unified diff of one change, paths from the repository root as ``git diff`` names
    them (``git apply`` in the root takes it)."""
    mark = "\ufeff" if change.original.startswith(BOM) else ""  # the file's first line has it
    lines = difflib.unified_diff((mark + change.before).splitlines(keepends=True),
                                 (mark + change.after).splitlines(keepends=True),
                                 f"a/{change.path}", f"b/{change.path}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return inert("".join(out), keep_breaks=True)


def summary(outcome: Outcome, root: Path, written: bool, failed: dict[str, str],
            checklist: list[str]) -> str:
    """The run in words: changed files and their fixes, what is left and why, the steps."""
    out: list[str] = []
    verb = "fixed" if written else "would fix"
    for change in outcome.changes:
        shown = display_path(root, change.path)
        if change.path in failed:
            out.append(f"{shown}: not written: {failed[change.path]}")
            continue
        out.append(f"{shown}: {verb} {len(change.findings)} "
                   f"finding{'s' if len(change.findings) != 1 else ''}")
        for finding in change.findings:
            title = finding.fix.title if finding.fix else ""
            out.append(f"  {finding.rule} (line {finding.location.line}): {title}")
    if not outcome.changes:
        out.append("Nothing to fix automatically.")
    if outcome.left:
        out.append("")
        out.append(f"Left {len(outcome.left)} finding{'s' if len(outcome.left) != 1 else ''}:")
        for left in outcome.left:
            location = left.finding.location
            out.append(f"  {display_path(root, location.path)}:{location.line}: "
                       f"{left.finding.rule} [{left.finding.severity}]: {left.why}")
    if checklist:
        out.append("")
        out.extend(checklist)
    return "".join(inert(line) + "\n" for line in out)
