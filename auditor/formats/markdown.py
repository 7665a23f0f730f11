"""``--format markdown``: a report for ``$GITHUB_STEP_SUMMARY`` and pull-request comments.

A heading, the counts by severity, a table of the unsuppressed findings and the table of
publish jobs (the same inventory as ``--format json``, rendered from each entry's
``as_dict()`` so new fields and new providers appear without changes here).

Table cells hold text from the scanned repository (job names, environments, quoted YAML),
so every cell is escaped: ``|`` would end the cell (GitHub needs ``\\|`` even inside code
spans), a newline would end the row, and backticks, ``<``, ``[`` and friends would turn
into markup. Code spans that pubaudit's messages use on purpose are kept as code spans.

GitHub refuses a step summary above 1 MiB, so the tables stop well before that, with a
note that says how many rows were left out. Paths are relative to the repository root, as
in the annotations (see ``formats/github.py``).
"""

from __future__ import annotations

from auditor.checks.findings import Finding
from auditor.engine.scan import Report
from auditor.formats.locations import repository_path, repository_prefix
from auditor.output.inert import inert, no_commands
from auditor.output.lazyre import lazy_re
from auditor.reading.catalogue import SEVERITIES

SUMMARY_LIMIT = 1024 * 1024
"""GitHub's limit for one step's summary, in bytes."""
FINDINGS_BUDGET = 700 * 1024
INVENTORY_BUDGET = 200 * 1024
MAX_FINDING_ROWS = 1000
MAX_INVENTORY_ROWS = 500

_BACKTICKS = lazy_re(r"`+")
_ESCAPED = lazy_re(r"([\\`*_\[\]<>|~#!&])")


def code(text: str) -> str:
    """``text`` as one inline code span that survives a table cell."""
    text = inert(text.replace("\r\n", " ").replace("\n", " ").replace("\r", " "))
    if not text.strip():
        return "—"
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    padded = text.startswith("`") or text.endswith("`") or (
        text.startswith(" ") and text.endswith(" ") and text.strip() != "")
    if padded:
        text = f" {text} "
    escaped = text.replace("|", "\\|")
    return f"{fence}{escaped}{fence}"


def plain(text: str) -> str:
    """``text`` as literal Markdown in a table cell: punctuation escaped, newlines as
    ``<br>``."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(_ESCAPED.sub(r"\\\1", inert(line)) for line in lines)


def cell(text: str) -> str:
    """A message as a table cell: its code spans (CommonMark: a backtick run closed by the
    next run of the same length) stay code spans, everything else is literal text."""
    parts: list[str] = []
    runs = list(_BACKTICKS.finditer(text))
    position = 0
    index = 0
    while index < len(runs):
        opener = runs[index]
        closer = next((j for j in range(index + 1, len(runs))
                       if len(runs[j].group()) == len(opener.group())), None)
        if closer is None:
            index += 1  # an unmatched run is literal text, escaped by plain()
            continue
        content = text[opener.end():runs[closer].start()]
        if content.startswith(" ") and content.endswith(" ") and content.strip():
            content = content[1:-1]  # the padding CommonMark strips; code() re-adds it
        parts.append(plain(text[position:opener.start()]))
        parts.append(code(content))
        position = runs[closer].end()
        index = closer + 1
    parts.append(plain(text[position:]))
    return "".join(parts).strip()


def _value(value: object) -> str:
    """One inventory field: text from the repository as code, the rest as words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "<br>".join(f"{plain(str(k))}: {_value(v)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or "—"
    return code(str(value))


def _field(key: str, value: object, prefix: str) -> str:
    if key == "path" and isinstance(value, str):
        value = repository_path(prefix, value)
    return _value(value)


def _table(header: list[str], rows: list[list[str]], budget: int,
           max_rows: int) -> tuple[list[str], int]:
    """The table's lines, cut when the next row would pass ``budget`` bytes or ``max_rows``;
    also the number of rows shown."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    size = sum(len(line.encode()) + 1 for line in lines)
    shown = 0
    for row in rows[:max_rows]:
        line = "| " + " | ".join(row) + " |"
        size += len(line.encode()) + 1
        if size > budget:
            break
        lines.append(line)
        shown += 1
    return lines, shown


def _finding_row(finding: Finding, prefix: str) -> list[str]:
    location = finding.location
    where = f"{repository_path(prefix, location.path)}:{location.line}:{location.column}"
    rule = f"[{code(finding.rule)}]({finding.help_uri})"
    return [code(where), finding.severity, rule, cell(finding.message)]


def _counts(findings: list[Finding]) -> dict[str, int]:
    return {s: n for s in reversed(SEVERITIES)
            if (n := sum(1 for f in findings if f.severity == s))}


def render(report: Report) -> str:
    active = report.active
    suppressed = len(report.findings) - len(active)
    counts = _counts(active)
    noun = "finding" if len(active) == 1 else "findings"
    title = f"{len(active)} {noun}" if active else "no findings"
    out = [f"## pubaudit: {title}", ""]
    roots = ", ".join(code(part.display_root) for part in report.repositories)
    scanned = f"Scanned {roots} ({report.files} files)"
    if not active:
        out += [f"{scanned}: nothing to report. ✅", ""]
    else:
        threshold = SEVERITIES.index(report.fail_on)
        failing = sum(1 for f in active if SEVERITIES.index(f.severity) >= threshold)
        out += [f"{scanned}; {failing or 'none'} at or above the failure threshold "
                f"{code(report.fail_on)}.", "",
                "| severity | findings |", "|---|---:|"]
        out += [f"| {severity} | {n} |" for severity, n in counts.items()]
        out.append("")
    if suppressed:
        out += [f"{suppressed} suppressed finding{'s' if suppressed != 1 else ''} "
                "(inline `pubaudit: ignore` comments or the baseline) not shown.", ""]
    if active:
        rows = [_finding_row(f, repository_prefix(part.root)) for part in report.repositories
                for f in part.active]
        table, shown = _table(["location", "severity", "rule", "message"], rows,
                              FINDINGS_BUDGET, MAX_FINDING_ROWS)
        out += ["### Findings", "", *table, ""]
        if shown < len(rows):
            out += [f"*{len(rows) - shown} more findings not shown: GitHub limits a step "
                    "summary to 1 MiB. `pubaudit scan --format json` or the SARIF upload "
                    "lists them all.*", ""]
    entries = [(repository_prefix(part.root), entry)
               for part in report.repositories for entry in part.publish_jobs()]
    if entries:
        header = list(dict.fromkeys(key for _, entry in entries for key in entry))
        rows = [[_field(key, entry.get(key), prefix) for key in header]
                for prefix, entry in entries]
        table, shown = _table([plain(key.replace("_", " ")) for key in header], rows,
                              INVENTORY_BUDGET, MAX_INVENTORY_ROWS)
        out += ["### Publish jobs", "", *table, ""]
        if shown < len(rows):
            out += [f"*{len(rows) - shown} more publish jobs not shown (step summary size "
                    "limit); `pubaudit scan --format json` lists them all.*", ""]
    else:
        out += ["No publish jobs found.", ""]
    out += _notices(report)
    return no_commands("\n".join(out))


def _notices(report: Report) -> list[str]:
    """``--online``: what could not be checked, as a list."""
    if not report.notices:
        return []
    items = []
    for n in report.notices[:50]:
        where = ""
        if n.endpoint:
            where = f" ({code(n.endpoint)}{f' → {n.status}' if n.status else ''})"
        items.append(f"- {code(n.rule) + ': ' if n.rule else ''}{plain(n.message)}{where}")
    more = [f"- *{len(report.notices) - 50} more*"] if len(report.notices) > 50 else []
    return ["### Not checked (online)", "", *items, *more, ""]
