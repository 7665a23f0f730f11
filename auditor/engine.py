"""The engine: run the rules, stamp their problems into findings, suppress, filter, sort.

The engine, not the rule, sets the id, severity, confidence and help URI of a finding, turns
anchors into spans, and computes fingerprints from routes and content (never line numbers),
so a finding keeps its fingerprint when unrelated lines are added above it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.catalogue import CONFIDENCES, SEVERITIES, RuleSummary, load_index
from auditor.checks import REGISTRY, applies, load_check
from auditor.config import Config, load_config
from auditor.discovery import Repository, find_root, load_repository
from auditor.facts import Context
from auditor.findings import Edit, Finding, Fix, Location, Problem
from auditor.source import Anchor, SourceFile, read_regular

if TYPE_CHECKING:
    from auditor.inventory import InventoryEntry

_IGNORE_RE = re.compile(r"#\s*pubaudit:\s*ignore\[([^\]]*)\]", re.I)


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asks of a scan (the configuration file gives the rest)."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    min_severity: str | None = None
    min_confidence: str | None = None
    fail_on: str | None = None
    config_file: Path | None = None
    baseline: Path | None = None


@dataclass(slots=True)
class Report:
    """The outcome of a scan: findings, the publish-job inventory, and what formats need."""

    root: Path
    display_root: str
    findings: list[Finding]
    inventory: list[InventoryEntry]  # every publish job and index (GitHub and GitLab)
    files: int
    config: Config
    sources: dict[str, SourceFile] = field(default_factory=dict)
    fail_on: str = "low"
    baseline_written: Path | None = None

    @property
    def publish_job_count(self) -> int:
        return len({(e.path, e.job) for e in self.inventory})

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    @property
    def failed(self) -> bool:
        threshold = SEVERITIES.index(self.fail_on)
        return any(SEVERITIES.index(f.severity) >= threshold for f in self.active)


def _span(anchor: Anchor, sources: dict[str, SourceFile]) -> tuple[int, int, int, int]:
    """A 0-based (line, col, end line, end col) for an anchor; block scalars are clamped to
    their last content line."""
    if anchor.span is not None:
        return anchor.span
    node = anchor.node
    if node is None:
        return (0, 0, 0, 0)
    line, col, end_line, end_col = node.start.line, node.start.column, node.end.line, \
        node.end.column
    source = sources.get(anchor.path)
    if source is not None and end_line > line:
        while end_line > line and (end_col == 0 or end_line >= len(source.lines)):
            end_line -= 1
            end_col = len(source.lines[end_line]) if end_line < len(source.lines) else 0
        if end_line > line and end_line < len(source.lines):
            end_col = min(end_col, len(source.lines[end_line]))
    if source is not None and end_line == line and 0 <= line < len(source.lines):
        end_col = min(end_col, max(len(source.lines[line]), col))
    return (line, col, end_line, max(end_col, col if end_line == line else end_col))


def _location(anchor: Anchor, sources: dict[str, SourceFile]) -> Location:
    line, col, end_line, end_col = _span(anchor, sources)
    return Location(anchor.path, line + 1, col + 1, end_line + 1, end_col + 1)


def _fingerprint(rule: str, anchor: Anchor, sources: dict[str, SourceFile],
                 location: Location) -> str:
    source = sources.get(anchor.path)
    content = ""
    if source is not None and 0 < location.line <= len(source.lines):
        content = source.lines[location.line - 1].strip()
    route = "/".join(str(part) for part in anchor.route)
    digest = hashlib.sha256(f"{rule}\x00{anchor.path}\x00{route}\x00{content}".encode())
    return digest.hexdigest()[:32]


def _suppressed_inline(finding: Finding, sources: dict[str, SourceFile]) -> bool:
    for location in (finding.location, *(loc for _, loc in finding.related)):
        source = sources.get(location.path)
        if source is None:
            continue
        for line_no in {location.line, location.end_line}:
            if not 0 < line_no <= len(source.lines):
                continue
            match = _IGNORE_RE.search(source.lines[line_no - 1])
            if match:
                names = {n.strip() for n in match.group(1).split(",")}
                if finding.rule in names or "all" in names:
                    return True
    return False


def _fix(problem: Problem, sources: dict[str, SourceFile]) -> Fix | None:
    hint = problem.fix
    if hint is None:
        return None
    location = _location(hint.anchor, sources)
    edit = Edit(location.path, location.line, location.column, location.end_line,
                location.end_column, hint.replacement)
    return Fix(hint.title, hint.safe, (edit,))


def enabled_rules(config: Config, options: Options) -> list[RuleSummary]:
    catalogue = load_index()
    select = options.select if options.select is not None else config.select
    ignore = set(config.ignore) | set(options.ignore)
    rules = []
    for rule in catalogue.values():
        if rule.id == "invalid-config" and config.errors:
            rules.append(rule)  # a broken configuration is never selected away
            continue
        if select is not None and "ALL" not in select and rule.id not in select:
            continue
        if rule.id in ignore:
            continue
        rules.append(rule)
    return rules


_MAX_BASELINE_BYTES = 64 * 1024 * 1024  # a fingerprint is 64 bytes: a million findings


class BaselineError(Exception):
    """The ``--baseline`` file exists but is not a baseline pubaudit can read."""


def read_baseline(path: Path) -> set[str]:
    raw = read_regular(path, _MAX_BASELINE_BYTES)
    if isinstance(raw, str):
        raise BaselineError(f"cannot read it: it {raw}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"cannot read it: {exc}") from None
    except RecursionError:
        raise BaselineError("cannot read it: nested too deeply") from None
    except ValueError:  # an integer past sys.get_int_max_str_digits()
        raise BaselineError("cannot read it: a number is too long to read") from None
    if isinstance(data, dict) and isinstance(data.get("fingerprints"), list):
        return {str(f) for f in data["fingerprints"]}
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        return {str(f.get("fingerprint")) for f in data["findings"] if isinstance(f, dict)}
    raise BaselineError("not a pubaudit baseline (expected a `fingerprints` list)")


def write_baseline(path: Path, findings: Iterable[Finding]) -> None:
    prints = sorted({f.fingerprint for f in findings})
    path.write_text(json.dumps({"schema_version": 1, "tool": "pubaudit",
                                "fingerprints": prints}, indent=2) + "\n", encoding="utf-8")


def _add_source(sources: dict[str, SourceFile], root: Path, path: str) -> None:
    """Read a file a finding points at that was not loaded as CI configuration (a
    ``pubaudit.toml``, ``setup.cfg``...), for its snippet and fingerprint."""
    data = read_regular(root / path, 2 * 1024 * 1024, root)
    if isinstance(data, bytes):
        sources[path] = SourceFile.from_text(path, data.decode("utf-8", errors="replace"))


def _problems(ctx: Context, rules: list[RuleSummary]
              ) -> Iterable[tuple[RuleSummary, Problem]]:
    for rule in rules:
        if rule.id not in REGISTRY or not applies(rule.id, ctx):
            continue
        for problem in load_check(rule.id)(ctx):
            yield rule, problem


def scan(paths: list[Path], options: Options) -> Report:
    """Audit a repository (one directory) or the given files of one repository."""
    files = [p for p in paths if not p.is_dir()] or None
    start = paths[0] if paths else Path(".")
    root = find_root(start) if files else start.resolve()
    display_root = start.as_posix() if not files else root.as_posix()
    config = load_config(root, options.config_file)
    repo: Repository = load_repository(root, config, files)
    ctx = Context(repo)
    sources = repo.sources | {s.path: s for s in repo.secret_candidates}
    rules = enabled_rules(config, options)
    overrides = config.severity
    findings: list[Finding] = []
    seen: dict[str, int] = {}
    for rule, problem in _problems(ctx, rules):
        for anchor in (problem.anchor, *(a for _, a in problem.related)):
            if anchor.path not in sources:
                _add_source(sources, root, anchor.path)
        location = _location(problem.anchor, sources)
        related = tuple((label, _location(anchor, sources)) for label, anchor in problem.related)
        fingerprint = _fingerprint(rule.id, problem.anchor, sources, location)
        count = seen.get(fingerprint, 0)
        seen[fingerprint] = count + 1
        if count:
            fingerprint = hashlib.sha256(f"{fingerprint}:{count}".encode()).hexdigest()[:32]
        severity = overrides.get(rule.id) or problem.severity or rule.severity
        findings.append(Finding(rule.id, severity, rule.confidence, problem.message, location,
                                related, rule.help_uri, fingerprint, fix=_fix(problem, sources)))
    min_sev = options.min_severity or config.min_severity or "info"
    min_conf = options.min_confidence or config.min_confidence or "low"
    findings = [f for f in findings
                if SEVERITIES.index(f.severity) >= SEVERITIES.index(min_sev)
                and CONFIDENCES.index(f.confidence) >= CONFIDENCES.index(min_conf)]
    findings = [replace(f, suppressed=True, suppression="inSource")
                if _suppressed_inline(f, sources) else f for f in findings]
    baseline_written = None
    if options.baseline is not None:
        if options.baseline.exists():
            accepted = read_baseline(options.baseline)
            findings = [replace(f, suppressed=True, suppression="external")
                        if not f.suppressed and f.fingerprint in accepted else f
                        for f in findings]
        else:
            write_baseline(options.baseline, (f for f in findings if not f.suppressed))
            baseline_written = options.baseline
            findings = [replace(f, suppressed=True, suppression="external")
                        if not f.suppressed else f for f in findings]
    findings.sort(key=lambda f: f.sort_key)
    fail_on = options.fail_on or config.fail_on or "low"
    fail_on = max(fail_on, min_sev, key=SEVERITIES.index)
    entries: list[InventoryEntry] = []
    if ctx.publish_jobs or ctx.gitlab_publish_jobs:
        from auditor.inventory import inventory  # publisher matching: only when it applies

        entries = inventory(ctx)
    return Report(root, display_root, findings, entries, repo.files_scanned, config,
                  sources, fail_on, baseline_written)
