"""One ``pubaudit fix`` run over one repository: passes of scan, choose, verify, re-scan.

Each pass scans the repository as it would be after the edits accepted so far (the edited
text is seen through :func:`auditor.reading.source.pending`, nothing is written), groups the
applicable fixes by file, and accepts a file's batch only when ruamel.yaml's checks pass and
a scan of the edited text no longer reports the targeted findings and reports nothing new.
A batch that fails is retried one fix at a time, so one refused fix does not hold back the
others. Passes stop when nothing more applies; a second run then finds nothing to do.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from auditor.checks.findings import Finding
from auditor.engine.scan import Options, Report, scan
from auditor.fix.choose import Batch, batch
from auditor.fix.verify import check
from auditor.fix.write import encode
from auditor.output.records import record
from auditor.reading.edits import EditOp
from auditor.reading.source import pending, read_regular

_PASSES = 8
_PIN_RULES = frozenset({"unpinned-action", "pin-without-version", "tag-object-pin"})
_MAX_BYTES = 2 * 1024 * 1024


@record
class Change:
    """A file as the fixer would leave it, and the findings whose fixes made the change."""

    path: str  # relative to the repository root
    before: str
    after: str
    original: bytes  # the file's bytes as scanned: written only if the disk still has them
    findings: tuple[Finding, ...]

    @property
    def data(self) -> bytes:
        return encode(self.after, self.original)


@record
class Left:
    """A finding the run did not fix, and why, in words for the user."""

    finding: Finding
    why: str


@record
class Outcome:
    """What a run would change and what remains, before anything is written."""

    before: Report
    after: Report  # the scan of the edited repository
    changes: tuple[Change, ...]
    left: tuple[Left, ...]


def _key(finding: Finding) -> tuple[str, str, str]:
    return finding.rule, finding.location.path, finding.message


def _eligible(finding: Finding, unsafe: bool) -> bool:
    fix = finding.fix
    return (fix is not None and bool(fix.edits) and fix.refused is None and
            (fix.safe or unsafe))


def _regression(before: list[Finding], after: list[Finding],
                targeted: tuple[Finding, ...]) -> str | None:
    """Why the re-scan refuses an edit: a targeted finding is still reported, or one that
    was not there before appears."""
    wanted = Counter((f.rule, f.location.path) for f in before)
    wanted.subtract((f.rule, f.location.path) for f in targeted)
    have = Counter((f.rule, f.location.path) for f in after)
    expected = {rule for f in targeted if f.fix for rule in f.fix.expects}
    for finding in after:
        key = (finding.rule, finding.location.path)
        if finding.rule in expected:
            continue
        if have[key] > wanted[key]:
            if any((t.rule, t.location.path) == key for t in targeted):
                return f"after the edit pubaudit still reports `{finding.rule}`"
            first = finding.message.split(". ")[0].rstrip(".")
            return (f"after the edit pubaudit would report `{finding.rule}` "
                    f"({finding.location.path}:{finding.location.line}): {first}")
    return None


class _State:
    """The edits accepted so far and the refusals, across passes."""

    def __init__(self, root: Path, paths: list[Path], options: Options) -> None:
        self.root, self.paths, self.options = root, paths, options
        self.texts: dict[str, str] = {}
        self.originals: dict[str, tuple[str, bytes]] = {}
        self.applied: dict[str, list[Finding]] = {}
        self.refused: dict[tuple[str, str, str], str] = {}

    def overlay(self, extra: dict[str, str] | None = None) -> dict[Path, bytes]:
        texts = self.texts | (extra or {})
        return {self.root / path: encode(text, self.originals[path][1])
                for path, text in texts.items()}

    def scan(self, extra: dict[str, str] | None = None) -> Report:
        with pending(self.overlay(extra)):
            return scan(self.paths, self.options)

    def remember(self, path: str, report: Report) -> bool:
        if path in self.originals:
            return True
        source = report.sources.get(path)
        raw = read_regular(self.root / path, _MAX_BYTES, self.root)
        if source is None or isinstance(raw, str):
            return False
        self.originals[path] = (source.text, raw)
        return True

    def _verify(self, report: Report, path: str, text: str, chosen: Batch) -> str | None:
        ops: tuple[EditOp, ...] = tuple(op for f in chosen.findings
                                         for op in (f.fix.ops if f.fix else ()))
        reason = check(text, chosen.text, ops)
        if reason is None:
            after = self.scan({path: chosen.text})
            reason = _regression(report.active, after.active, chosen.findings)
        return reason

    def attempt(self, report: Report, path: str, findings: list[Finding]) -> bool:
        """Try ``findings``' fixes on ``path`` together; on failure find the ones that fail
        alone (refused from now on), else take the first alone. Whether anything changed:
        the offsets of the other findings are stale then, so the caller scans again."""
        text = self.texts.get(path, self.originals[path][0])
        chosen = batch(path, text, findings)
        if not chosen.findings:
            return False
        reason = self._verify(report, path, text, chosen)
        if reason is None:
            self._accept(path, chosen)
            return True
        if len(chosen.findings) == 1:
            self.refused[_key(chosen.findings[0])] = reason
            return True
        alone: list[Batch] = []
        for finding in chosen.findings:
            single = batch(path, text, [finding])
            why = self._verify(report, path, text, single)
            if why is None:
                alone.append(single)
            else:
                self.refused[_key(finding)] = why
        if len(alone) == len(chosen.findings):  # each passes alone, not together
            self._accept(path, alone[0])
        return True

    def _accept(self, path: str, chosen: Batch) -> None:
        self.texts[path] = chosen.text
        self.applied.setdefault(path, []).extend(chosen.findings)


def _why(finding: Finding, state: _State, unsafe: bool) -> str:
    fix = finding.fix
    if _key(finding) in state.refused:
        return f"refused: {state.refused[_key(finding)]}"
    if fix is None and finding.rule in _PIN_RULES:
        return ("no automatic fix offline: pubaudit pins only the releases of its shipped "
                "table and never guesses a commit SHA")
    if fix is None:
        return "no automatic fix: the message says what to change"
    if fix.refused is not None:
        return f"refused: {fix.refused}"
    if not fix.safe and not unsafe:
        return f"unsafe, applied only with --unsafe: {fix.title}"
    return "another fix changes the same lines; run `pubaudit fix` again after this one"


def plan_fixes(paths: list[Path], options: Options, unsafe: bool) -> Outcome:
    """What fixing the repository that ``paths`` name would do (nothing is written)."""
    first = scan(paths, options)
    state = _State(first.root, paths, options)
    report = first
    for _ in range(_PASSES):
        wanted: dict[str, list[Finding]] = {}
        for finding in report.active:
            if _eligible(finding, unsafe) and _key(finding) not in state.refused:
                assert finding.fix is not None
                path = finding.fix.edits[0].path
                if state.remember(path, report):
                    wanted.setdefault(path, []).append(finding)
        progress = False
        for path, findings in sorted(wanted.items()):
            if state.attempt(report, path, findings):
                progress = True
                report = state.scan()
        if not progress:
            break
    changes = tuple(Change(path, state.originals[path][0], text, state.originals[path][1],
                           tuple(state.applied.get(path, ())))
                    for path, text in sorted(state.texts.items())
                    if text != state.originals[path][0])
    left = tuple(Left(f, _why(f, state, unsafe)) for f in report.active)
    return Outcome(first, report, changes, left)
