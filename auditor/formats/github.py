"""``--format github``: GitHub Actions workflow commands that become annotations.

One ``::error``/``::warning``/``::notice`` line per unsuppressed finding, on stdout, starting
at column 1. GitHub decodes ``%25``, ``%0D`` and ``%0A`` in the message, and additionally
``%3A`` and ``%2C`` in property values, so everything we print is escaped that way: a
message or a workflow file name cannot end the command early or start a second one. Text
from the repository is made inert first (``auditor.output.inert``): its own line breaks and
control characters are shown as ``\\x1b``; line breaks in a message become ``%0A`` (a
multi-line annotation), and in a file name ``\\n``.

Paths are relative to the repository root, which is what GitHub attaches annotations to
(in a workflow that is the workspace, the directory pubaudit runs in, so they are the same
paths the text format prints); with several scanned directories each finding's path is
taken from its own one:
``pubaudit scan subdir`` reports ``subdir/.github/workflows/x.yml``, not the path relative
to the scanned directory. The repository root is the nearest directory above the scanned
root that holds ``.git`` (in a workflow: the checkout); without one, the scanned root.
Columns are given in UTF-16 code units and only for single-line spans, since GitHub ignores
``col``/``endColumn`` when ``line`` and ``endLine`` differ.

GitHub renders at most 10 annotations of each kind per step; the rest stay in the log.
Annotations are therefore printed most severe first, and when a kind overflows, a notice
saying so comes first (so it is itself among the rendered ones). The last line is a plain
summary, which GitHub shows as ordinary log text.
"""

from __future__ import annotations

from auditor.checks.findings import Finding
from auditor.engine.scan import Report
from auditor.formats.locations import repository_path, repository_prefix, utf16_span
from auditor.formats.text import files_read
from auditor.output.inert import inert
from auditor.reading.catalogue import SEVERITIES

COMMANDS = {"high": "error", "medium": "warning", "low": "notice", "info": "notice"}
RENDERED_PER_KIND = 10


def escape_data(text: str) -> str:
    """Escape a command's message: ``%`` first, then carriage return and line feed."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value: as a message, plus ``:`` and ``,`` which delimit properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, properties: dict[str, str | int], message: str) -> str:
    """One workflow command line, e.g. ``::error file=a.yml,line=3::message``."""
    rendered = ",".join(f"{name}={escape_property(str(value))}"
                        for name, value in properties.items())
    return f"::{kind} {rendered}::{escape_data(message)}" if rendered else \
        f"::{kind}::{escape_data(message)}"


def _message(finding: Finding, prefix: str) -> str:
    lines = [inert(finding.message, keep_breaks=True)]
    for label, location in finding.related:
        path = inert(repository_path(prefix, location.path))
        lines.append(f"{inert(label, keep_breaks=True)}: {path}:{location.line}:"
                     f"{location.column}")
    lines.append(f"{finding.rule} ({finding.severity}): {finding.help_uri}")
    return "\n".join(lines)


def annotation(report: Report, finding: Finding, prefix: str) -> str:
    line, column, end_line, end_column = utf16_span(report, finding.location)
    properties: dict[str, str | int] = {
        "file": inert(repository_path(prefix, finding.location.path)), "line": line,
        "endLine": end_line}
    if end_line == line:
        properties["col"] = column
        properties["endColumn"] = end_column
    properties["title"] = f"pubaudit: {finding.rule}"
    return command(COMMANDS.get(finding.severity, "warning"), properties,
                   _message(finding, prefix))


def _summary(report: Report) -> str:
    active = report.active
    counts = [f"{n} {s}" for s in reversed(SEVERITIES)
              if (n := sum(1 for f in active if f.severity == s))]
    text = f"pubaudit: {len(active)} finding{'s' if len(active) != 1 else ''}"
    if counts:
        text += f" ({', '.join(counts)})"
    text += f"; {files_read(report.files)}"
    suppressed = len(report.findings) - len(active)
    if suppressed:
        text += f"; {suppressed} suppressed"
    return text


def render(report: Report) -> str:
    pairs = [(part, repository_prefix(part.root), finding)
             for part in report.repositories for finding in part.active]
    pairs.sort(key=lambda item: (-SEVERITIES.index(item[2].severity), item[1],
                                 item[2].sort_key))
    per_kind: dict[str, int] = {}
    for _, _, finding in pairs:
        kind = COMMANDS.get(finding.severity, "warning")
        per_kind[kind] = per_kind.get(kind, 0) + 1
    out = []
    overflow = {kind: n for kind, n in per_kind.items() if n > RENDERED_PER_KIND}
    if overflow:
        detail = ", ".join(f"{n} {kind}s" for kind, n in sorted(overflow.items()))
        out.append(command("notice", {"title": "pubaudit"}, (
            f"{detail}: GitHub renders only {RENDERED_PER_KIND} annotations of each kind per "
            "step; every finding is listed in this step's log.")))
    out += [annotation(part, finding, prefix) for part, prefix, finding in pairs]
    out += [command("warning", {"title": f"pubaudit: not checked ({n.rule or 'online'})"},
                    inert(n.message + (f" [{n.endpoint} → {n.status}]" if n.endpoint else "")))
            for n in report.notices]  # --online: what could not be checked
    out.append(_summary(report))
    return "\n".join(out) + "\n"
