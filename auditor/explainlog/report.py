"""The ``explain-log`` report: read the log, diagnose it, render text or JSON.

Exit codes: 0 no trusted-publishing failure recognised (warnings may be printed); 1 at
least one failure explained; 2 usage error (missing, unreadable or binary log).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import BinaryIO

from auditor import __version__
from auditor.explainlog.explain import Diagnosis, diagnose, scan_hint
from auditor.explainlog.parse import LogFacts, parse_log
from auditor.explainlog.read import LogReadError, LogText, read_log
from auditor.output.inert import inert, no_commands, surrogate_safe
from auditor.output.records import record
from auditor.output.redact import redact
from auditor.publishers.expected import Expected
from auditor.reading.declarations import INDEX_HOSTS, Declaration
from auditor.reading.source import open_regular

SCHEMA_VERSION = 1
_TOOLS = {"gh-action-pypi-publish": "pypa/gh-action-pypi-publish", "uv": "uv publish",
          "twine": "twine upload", "pdm": "pdm publish"}
_PLATFORMS = {"github": "GitHub Actions", "gitlab": "GitLab CI"}


@record
class Explanation:
    """What explain-log prints for one recognised failure."""

    log: str  # the name to show: the path as given, or "stdin"
    facts: LogFacts
    diagnoses: tuple[Diagnosis, ...]
    notices: tuple[str, ...]

    @property
    def failed(self) -> bool:
        return any(not d.warning for d in self.diagnoses)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def explain(text: LogText, name: str, declarations: tuple[Declaration, ...],
            expected: tuple[Expected, ...], project: str | None,
            notices: tuple[str, ...] = ()) -> Explanation:
    """Parse the log text and diagnose it against the repository's sides."""
    facts = parse_log(text.text, text.first_line)
    extra = (text.notice,) if text.notice else ()
    return Explanation(name, facts, tuple(diagnose(facts, declarations, expected, project)),
                       extra + notices)


class UsageError(Exception):
    """Bad input on the command line: exit 2 with this message."""


def read(logfile: str, stdin: BinaryIO) -> LogText:
    """The log's text (``-`` is ``stdin``); raises ``UsageError``."""
    try:
        if logfile == "-":
            return read_log(stdin)
        path = Path(logfile)
        if path.is_dir():
            raise UsageError(f"{logfile} is a directory: give the log file of the failed job")
        opened = open_regular(path)  # a FIFO or a device would block or never end
        if isinstance(opened, str):
            raise UsageError(opened.replace("cannot be read", f"cannot read {logfile}", 1)
                             if opened.startswith("cannot") else f"{logfile} {opened}")
        with opened as stream:
            return read_log(stream)  # keeps at most the last MAX_BYTES
    except LogReadError as exc:
        raise UsageError(f"{'stdin' if logfile == '-' else logfile}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {logfile}: {exc.strerror or exc}") from None


def run(logfile: str, repository: Path, config: Path | None, stdin: BinaryIO
        ) -> Explanation:
    """The whole command: check the arguments, read the log, load the repository's
    publisher sides, explain. Raises ``UsageError``."""
    from auditor.publishers.sides import publisher_sides
    from auditor.repository.discovery import find_root

    if not repository.exists():
        raise UsageError(f"--path: no such file or directory: {repository}")
    if config is not None and not config.is_file():
        raise UsageError(f"--config: no such file: {config}")
    text = read(logfile, stdin)
    root = repository.resolve() if repository.is_dir() else find_root(repository)
    sides = publisher_sides(root, config)
    notices = tuple(f"configuration error (publishers may be missing): {error}"
                    for error in sides.config_errors)
    return explain(text, "stdin" if logfile == "-" else logfile, sides.declarations,
                   sides.expected, sides.project.name if sides.project else None, notices)


# ----------------------------------------------------------------- text


def _wrap(label: str, text: str, indent: str = "  ") -> str:
    return textwrap.fill(inert(text), width=100, initial_indent=f"{indent}{label}",
                         subsequent_indent=indent + " " * len(label), break_long_words=False,
                         break_on_hyphens=False)


def _context(facts: LogFacts) -> str:
    parts = []
    if facts.tool:
        parts.append(_TOOLS.get(facts.tool, facts.tool))
    if facts.platform:
        parts.append(f"on {_PLATFORMS.get(facts.platform, facts.platform)}")
    if facts.index:
        parts.append(f"to {INDEX_HOSTS.get(facts.index, facts.index)}")
    return f" ({' '.join(parts)})" if parts else ""


def render_text(explanation: Explanation) -> str:
    facts = explanation.facts
    out = [inert(f"pubaudit explain-log: {explanation.log}{_context(facts)}")]
    out += [inert(f"notice: {notice}") for notice in explanation.notices]
    for diag in explanation.diagnoses:
        out.append("")
        tag = "warning" if diag.warning else "failure"
        out.append(inert(f"{explanation.log}:{diag.line}: {tag} [{diag.kind}] {diag.summary}"))
        out.append(inert(f"  | {diag.excerpt}"))
        if len(diag.lines) > 1:
            shown = ", ".join(str(n) for n in diag.lines[1:6])
            more = ", ..." if len(diag.lines) > 6 else ""
            plural = "s" if len(diag.lines) > 2 else ""
            out.append(f"  (also at line{plural} {shown}{more})")
        out.append(_wrap("why: ", diag.why))
        for mismatch in diag.mismatches:
            values = []
            if mismatch.claim is not None:
                at = f" (line {mismatch.line})" if mismatch.line else ""
                values.append(f"the run has `{mismatch.claim}`{at}")
            if mismatch.declared is not None:
                values.append(f"declared `{mismatch.declared}`")
            if mismatch.expected is not None:
                values.append(f"the repository has `{mismatch.expected}`")
            out.append(_wrap(f"{mismatch.field}: ", "; ".join(values) or "differs"))
            out.append(_wrap("fix: ", mismatch.fix, "    "))
        if not diag.mismatches:
            out.append(_wrap("fix: ", diag.fix))
        for note in diag.notes:
            out.append(_wrap("note: ", note))
        if diag.rule:
            out.append(_wrap("rule: ", scan_hint(diag.rule)))
    out.append("")
    failures = sum(1 for d in explanation.diagnoses if not d.warning)
    warnings = len(explanation.diagnoses) - failures
    if failures:
        summary = f"{failures} failure{'s' if failures != 1 else ''} explained"
    else:
        summary = f"no known trusted-publishing failure found in {inert(explanation.log)}"
    if warnings:
        summary += f", {warnings} warning{'s' if warnings != 1 else ''}"
    first, last = facts.first_line, facts.lines
    summary += f" (lines {first}-{last} read)." if last >= first else " (the log is empty)."
    out.append(summary)
    # The log and the repository are input: secrets masked, no line a workflow command.
    return redact(no_commands("\n".join(out) + "\n"))


# ----------------------------------------------------------------- JSON


def as_dict(explanation: Explanation) -> dict[str, object]:
    """The ``--format json`` object; keys are stable, additions allowed."""
    facts = explanation.facts
    failures = []
    mismatches = []
    for diag in explanation.diagnoses:
        failures.append({
            "kind": diag.kind, "line": diag.line, "lines": list(diag.lines),
            "excerpt": diag.excerpt, "warning": diag.warning, "summary": diag.summary,
            "explanation": diag.why, "fix": diag.fix, "rule": diag.rule,
            "notes": list(diag.notes)})
        for m in diag.mismatches:
            mismatches.append({
                "field": m.field, "claim": m.claim, "declared": m.declared,
                "expected": m.expected, "fix": m.fix, "line": m.line,
                "publisher": m.publisher, "failure": diag.kind})
    claims = [{"source": c.source, "line": c.line,
               "values": {k.name: {"value": k.value, "line": k.line} for k in c.claims}}
              for c in facts.claim_sets]
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "pubaudit", "version": __version__},
        "log": explanation.log,
        "lines": {"first": facts.first_line, "last": facts.lines},
        "notices": list(explanation.notices),
        "uploader": facts.tool,
        "platform": facts.platform,
        "index": facts.index,
        "failures": failures,
        "claims": claims,
        "mismatches": mismatches,
    }


def render_json(explanation: Explanation) -> str:
    return redact(surrogate_safe(json.dumps(as_dict(explanation), indent=2,
                                            ensure_ascii=False))) + "\n"
