"""The engine: run the rules, stamp their problems into findings, suppress, filter, sort.

The engine, not the rule, sets the id, severity, confidence and help URI of a finding, turns
anchors into spans, and computes fingerprints from routes and content (never line numbers),
so a finding keeps its fingerprint when unrelated lines are added above it. Every message,
related-location label and fix passes ``auditor.output.redact`` here, so no format can print a
secret that a rule quoted.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import field, replace
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.checks import REGISTRY, applies, load_check
from auditor.checks.findings import Edit, Finding, Fix, Location, Problem
from auditor.engine.notices import Notice, OnlineChecks
from auditor.engine.upload_notes import annotate
from auditor.facts.context import Context
from auditor.output.digest import sha256_hex
from auditor.output.records import record, state
from auditor.output.redact import redact
from auditor.reading.catalogue import CONFIDENCES, SEVERITIES, RuleSummary, load_index
from auditor.reading.config import Config, load_config
from auditor.reading.source import Anchor, SourceFile, read_regular
from auditor.reading.suppression import EVERY_RULE, ignored_names
from auditor.repository.discovery import (
    GITLAB_CI_FILE,
    Entry,
    Repository,
    find_root,
    is_ci_file,
    load_repository,
    tree_of_repositories,
    walk_tree,
)

if TYPE_CHECKING:
    from auditor.publishers.inventory import InventoryEntry
    from auditor.reading.edits import Text


@record
class Options:
    """What the command line asks of a scan (the configuration file gives the rest)."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    min_severity: str | None = None
    min_confidence: str | None = None
    fail_on: str | None = None
    config_file: Path | None = None
    baseline: Path | None = None
    online: OnlineChecks | None = None  # --online: the network rules (auditor.online)
    jobs: int = 1  # processes for a tree of repositories: 0 one per CPU when large enough


@state
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
    partial: bool = False  # only given files were read (pre-commit), not a whole tree
    nothing_to_audit: bool = False  # a whole tree without CI files, pyproject.toml or config
    parts: tuple[Report, ...] = ()  # one report per repository when several were scanned
    online: bool = False  # --online was given: formats show the notices list
    notices: list[Notice] = field(default_factory=list)  # what could not be checked

    @property
    def publish_job_count(self) -> int:
        if self.parts:  # paths are per repository: a/x.yml and b/x.yml are both "x.yml"
            return sum(part.publish_job_count for part in self.parts)
        return len({(e.path, e.job) for e in self.inventory})

    def publish_jobs(self) -> list[dict[str, object]]:
        """The inventory as the formats print it, secrets masked (an upload URL may carry
        a password)."""
        return [{key: _redacted(value) for key, value in entry.as_dict().items()}
                for entry in self.inventory]

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if not f.suppressed]

    @property
    def repositories(self) -> tuple[Report, ...]:
        """The per-repository reports: ``parts``, or this report when it covers one."""
        return self.parts or (self,)

    @property
    def failed(self) -> bool:
        if self.parts:  # each repository has its own configured threshold
            return any(part.failed for part in self.parts)
        threshold = SEVERITIES.index(self.fail_on)
        return any(SEVERITIES.index(f.severity) >= threshold for f in self.active)


def _redacted(value: object) -> object:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item) for item in value]
    return value


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


_LONG_LINE = 4096  # longer lines enter a fingerprint as their digest, computed once


def _line_content(anchor: Anchor, sources: dict[str, SourceFile], location: Location,
                  memo: dict[tuple[str, int], str]) -> str:
    """The finding's line as it enters the fingerprint: the stripped line, or for a line
    longer than ``_LONG_LINE`` its SHA-256, once per line (hashing a 1 MB line again for
    each of its thousands of findings was quadratic)."""
    key = (anchor.path, location.line)
    content = memo.get(key)
    if content is None:
        source = sources.get(anchor.path)
        content = ""
        if source is not None and 0 < location.line <= len(source.lines):
            content = source.lines[location.line - 1].strip()
        if len(content) > _LONG_LINE:
            content = sha256_hex(content.encode("utf-8", "surrogateescape"))
        memo[key] = content
    return content


def _fingerprint(rule: str, anchor: Anchor, sources: dict[str, SourceFile],
                 location: Location, memo: dict[tuple[str, int], str]) -> str:
    content = _line_content(anchor, sources, location, memo)
    route = "/".join(str(part) for part in anchor.route)
    # surrogateescape: a file name that is not UTF-8 is fingerprinted from its bytes.
    return sha256_hex(f"{rule}\x00{anchor.path}\x00{route}\x00{content}".encode(
        "utf-8", "surrogateescape"))[:32]


def _suppressed_inline(finding: Finding, sources: dict[str, SourceFile],
                       memo: dict[tuple[str, int], frozenset[str]]) -> bool:
    """Whether an ignore comment on a line of the finding names its rule; each line's
    comment is parsed once (``memo``), not once per finding on it."""
    for location in (finding.location, *(loc for _, loc in finding.related)):
        source = sources.get(location.path)
        if source is None:
            continue
        for line_no in {location.line, location.end_line}:
            if not 0 < line_no <= len(source.lines):
                continue
            names = memo.get((location.path, line_no))
            if names is None:
                names = frozenset(EVERY_RULE if n.name.lower() == EVERY_RULE else n.name
                                  for n in ignored_names(source.lines[line_no - 1]))
                memo[(location.path, line_no)] = names
            if finding.rule in names or EVERY_RULE in names:
                return True
    return False


def _fix(problem: Problem, sources: dict[str, SourceFile], texts: dict[str, Text]
         ) -> Fix | None:
    """The rule's fix as text edits of the file (or why they cannot be made). ``texts``
    keeps each file's line table: a file with thousands of fixable findings is measured
    once."""
    hint = problem.fix
    if hint is None or not hint.ops:
        return None
    from auditor.reading.edits import Refused, Text, path_of, plan

    path = path_of(hint.ops[0])
    source = sources.get(path)
    title = redact(hint.title)
    if source is None:
        return Fix(title, hint.safe, refused=f"`{path}` was not read", ops=hint.ops)
    text = texts.get(path)
    if text is None:
        text = texts[path] = Text(source)
    try:
        planned = plan(text, hint.ops)
    except Refused as exc:
        return Fix(title, hint.safe, refused=str(exc), ops=hint.ops)

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(text.starts, offset) - 1
        return line + 1, offset - text.starts[line] + 1

    edits = []
    for edit in planned:
        (line, column), (end_line, end_column) = position(edit.start), position(edit.end)
        edits.append(Edit(path, line, column, end_line, end_column, redact(edit.text)))
    return Fix(title, hint.safe, tuple(edits), ops=hint.ops, retires=hint.retires,
               expects=hint.expects)


def enabled_rules(config: Config, options: Options) -> list[RuleSummary]:
    """The rules this scan runs: ``--select`` replaces the configuration's ``select``,
    ``--ignore`` adds to its ``ignore``; selectors as :mod:`auditor.reading.selection` reads
    them."""
    from auditor.reading.selection import enabled

    catalogue = load_index()
    select = options.select if options.select is not None else config.select
    chosen = enabled(catalogue, select, (*config.ignore, *options.ignore))
    return [rule for rule in catalogue.values()
            if rule.id in chosen or (rule.id == "invalid-config" and config.errors)]


_MAX_BASELINE_BYTES = 64 * 1024 * 1024  # a fingerprint is 64 bytes: a million findings


class BaselineError(Exception):
    """The ``--baseline`` file exists but is not a baseline pubaudit can read."""


def read_baseline(path: Path) -> set[str]:
    import json  # only --baseline reads JSON here

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
    write_keys(path, (f.fingerprint for f in findings))


def write_keys(path: Path, keys: Iterable[str]) -> None:
    import json

    prints = sorted(set(keys))
    path.write_text(json.dumps({"schema_version": 1, "tool": "pubaudit",
                                "fingerprints": prints}, indent=2) + "\n", encoding="utf-8")


def _add_source(sources: dict[str, SourceFile], root: Path, path: str) -> None:
    """Read a file a finding points at that was not loaded as CI configuration (a
    ``pubaudit.toml``, ``setup.cfg``...), for its snippet and fingerprint."""
    data = read_regular(root / path, 2 * 1024 * 1024, root)
    if isinstance(data, bytes):
        sources[path] = SourceFile.from_text(path, data.decode("utf-8", errors="replace"))


def _undecided(severity: str, confidence: str) -> tuple[str, str]:
    """A finding that depends on what pubaudit cannot see is one confidence step lower and
    never high: an undecidable condition must not fail a build as a certainty would."""
    if severity == "high":
        severity = "medium"
    return severity, CONFIDENCES[max(CONFIDENCES.index(confidence) - 1, 0)]


def _problems(ctx: Context, rules: list[RuleSummary]
              ) -> Iterable[tuple[RuleSummary, Problem]]:
    for rule in rules:
        if rule.id not in REGISTRY or not applies(rule.id, ctx):
            continue
        for problem in load_check(rule.id)(ctx):
            yield rule, annotate(problem, ctx)


def _online_problems(online: OnlineChecks, ctx: Context, rules: list[RuleSummary],
                     notices: list[Notice]) -> Iterable[tuple[RuleSummary, Problem]]:
    """``--online``: the network rules' problems, stamped like the others; what could not
    be checked goes to ``notices`` (redacted: a notice may quote an answer)."""
    outcome = online(ctx, rules)
    notices += [replace(n, message=redact(n.message)) for n in outcome.notices]
    by_id = {rule.id: rule for rule in rules}
    for rule_id, problem in outcome.problems:
        if rule_id in by_id:
            yield by_id[rule_id], problem


@record
class _Part:
    """What auditing one part of a tree gave, before the baseline and the final order."""

    findings: list[Finding]  # filtered by severity and confidence, inline ignores marked
    inventory: list[InventoryEntry]
    files: int
    sources: dict[str, SourceFile]
    # it had something pubaudit audits: a whole tree without it is "nothing to audit" (a
    # mistyped path in CI must not pass as a clean repository); files read only for
    # committed secrets do not count unless they gave a finding
    audited: bool
    notices: list[Notice]


def scan(paths: list[Path], options: Options) -> Report:
    """Audit a repository (one directory) or the given files of one repository. A large
    tree of repositories is audited by several processes (``auditor.engine.parallel``);
    the report is the same."""
    files = [p for p in paths if not p.is_dir()] or None
    start = paths[0] if paths else Path(".")
    root = find_root(start) if files else start.resolve()
    display_root = start.as_posix() if not files else root.as_posix()
    config = load_config(root, options.config_file)
    rules = enabled_rules(config, options)
    entries = walk_tree(root, config) if files is None else None
    split = _split(root, config, options, rules, entries) if entries is not None else None
    if split is None:
        parts = [_audit(root, config, options, rules, files, entries)]
    else:
        # each worker audits its chunks one after another, each chunk's models freed
        # before the next is read, and sends back a part per chunk
        from auditor.engine.parallel import run_parts  # only a split tree forks

        parts = [part for done in run_parts(split, lambda chunks: [
            _audit(root, config, options, rules, None, chunk, shipped=True)
            for chunk in chunks]) for part in done]
    findings: list[Finding] = []
    fingerprints: set[str] = set()
    for finding in (f for part in parts for f in part.findings):
        # a file every chunk reads (the configuration) gives its findings in each; within
        # one chunk, the engine has already made every fingerprint unique
        if finding.fingerprint not in fingerprints:
            fingerprints.add(finding.fingerprint)
            findings.append(finding)
    findings, baseline_written = apply_baseline(findings, options.baseline)
    findings.sort(key=lambda f: f.sort_key)
    min_sev = options.min_severity or config.min_severity or "info"
    fail_on = options.fail_on or config.fail_on or "low"
    fail_on = max(fail_on, min_sev, key=SEVERITIES.index)
    entries_found = [entry for part in parts for entry in part.inventory]
    if len(parts) > 1:
        entries_found.sort(key=lambda e: (e.path, e.line, e.index))  # as inventory() sorts
    sources = {path: source for part in parts for path, source in part.sources.items()}
    audited = any(part.audited for part in parts) or config.path is not None or bool(findings)
    return Report(root, display_root, findings, entries_found, sum(p.files for p in parts),
                  config, sources, fail_on, baseline_written, partial=files is not None,
                  nothing_to_audit=not audited, online=options.online is not None,
                  notices=[n for part in parts for n in part.notices])


# Below this many workflow, action and GitLab CI files a second process costs more than it
# saves (the fork, and pickling the findings back); measured with benchmarks/bench.py.
MIN_CI_FILES = 256
CI_FILES_PER_WORKER = 128
# A worker audits its repositories a chunk of about this many CI files at a time and keeps
# only the findings: memory stays that of one chunk however large the tree.
CHUNK_CI_FILES = 64


def _split(root: Path, config: Config, options: Options, rules: list[RuleSummary],
           entries: list[Entry]) -> list[list[list[Entry]]] | None:
    """The walked files dealt into one part per worker, each part in chunks of whole
    repositories; ``None`` to audit the tree in one go.

    Only a tree of repositories is split, and only when nothing ties them together: no
    ``--online`` session, no declared publishers (matched against every upload), no
    project at the root (its name and indexes apply to every workflow)."""
    if options.jobs == 1 or options.online is not None or config.publishers or \
            (root / "pyproject.toml").exists():
        return None
    groups = tree_of_repositories(entries)
    repositories = len([name for name in groups or () if name])
    if groups is None or repositories < 2:
        return None
    ci_files = sum(is_ci_file(rel) for rel, _, _ in entries)
    if options.jobs == 0 and ci_files < MIN_CI_FILES:
        return None
    from auditor.engine.parallel import deal, worker_count  # a tree worth splitting

    workers = worker_count(options.jobs, repositories, ci_files, MIN_CI_FILES,
                           CI_FILES_PER_WORKER)
    if workers > 1:
        _import_rules(rules, entries)
    names = list(groups)  # the files in no repository ("") are a group like the others
    weights = [sum(_cost(rel, path) for rel, path, _ in groups[name]) for name in names]
    order = {rel: i for i, (rel, _, _) in enumerate(entries)}
    return [[sorted((entry for i in chunk for entry in groups[names[i]]),
                    key=lambda e: order[e[0]]) for chunk in _chunks(b, groups, names)]
            for b in deal(weights, workers) if b]


def _chunks(indexes: list[int], groups: dict[str, list[Entry]], names: list[str]
            ) -> list[list[int]]:
    """``indexes`` of groups in runs of about :data:`CHUNK_CI_FILES` CI files (a group is
    never cut: a repository is audited whole)."""
    chunks: list[list[int]] = [[]]
    count = 0
    for index in indexes:
        if count >= CHUNK_CI_FILES:
            chunks.append([])
            count = 0
        chunks[-1].append(index)
        count += sum(is_ci_file(rel) for rel, _, _ in groups[names[index]])
    return chunks


def _cost(rel: str, path: Path) -> int:
    """About what auditing a file costs, to deal equal work to each worker: a CI file is
    parsed, modelled and read by every rule, in proportion to its size; any other file is
    only searched for leaked secrets."""
    if not is_ci_file(rel):
        return 1_000
    try:
        return path.stat().st_size + 2_000
    except OSError:
        return 2_000


def _import_rules(rules: list[RuleSummary], entries: list[Entry]) -> None:
    """Import, before forking, what every part will use: each worker then inherits the
    rules instead of importing them again."""
    for rule in rules:
        if rule.id in REGISTRY:
            load_check(rule.id)
    import auditor.publishers.inventory
    import auditor.reading.edits  # fixes are planned in every part

    if any(rel.endswith(GITLAB_CI_FILE) for rel, _, _ in entries):
        import auditor.gitlab.pipeline  # noqa: F401


def _audit(root: Path, config: Config, options: Options, rules: list[RuleSummary],
           files: list[Path] | None, entries: list[Entry] | None, shipped: bool = False
           ) -> _Part:
    """Load and audit ``files`` (pre-commit), ``entries`` (a walked tree or part of one).
    A ``shipped`` part goes to another process: it keeps only the sources its findings
    quote, and fixes without the node operations that only ``pubaudit fix`` reads."""
    repo: Repository = load_repository(root, config, files, entries)
    ctx = Context(repo)
    sources = repo.sources | {s.path: s for s in repo.secret_candidates}
    overrides = config.severity
    findings: list[Finding] = []
    seen: dict[str, int] = {}
    line_contents: dict[tuple[str, int], str] = {}
    texts: dict[str, Text] = {}
    notices: list[Notice] = []
    found = _problems(ctx, rules)
    if options.online is not None:
        found = chain(found, _online_problems(options.online, ctx, rules, notices))
    for rule, problem in found:
        for anchor in (problem.anchor, *(a for _, a in problem.related)):
            if anchor.path not in sources:
                _add_source(sources, root, anchor.path)
        location = _location(problem.anchor, sources)
        related = tuple((redact(label), _location(anchor, sources))
                        for label, anchor in problem.related)
        fingerprint = _fingerprint(rule.id, problem.anchor, sources, location, line_contents)
        count = seen.get(fingerprint, 0)
        seen[fingerprint] = count + 1
        if count:
            fingerprint = sha256_hex(f"{fingerprint}:{count}".encode())[:32]
        severity = problem.severity or rule.severity
        confidence = rule.confidence
        if problem.undecided:
            severity, confidence = _undecided(severity, confidence)
        severity = overrides.get(rule.id) or severity  # the user's word is final
        findings.append(Finding(rule.id, severity, confidence, redact(problem.message),
                                location, related, rule.help_uri, fingerprint,
                                fix=_fix(problem, sources, texts)))
    min_sev = options.min_severity or config.min_severity or "info"
    min_conf = options.min_confidence or config.min_confidence or "low"
    findings = [f for f in findings
                if SEVERITIES.index(f.severity) >= SEVERITIES.index(min_sev)
                and CONFIDENCES.index(f.confidence) >= CONFIDENCES.index(min_conf)]
    comments: dict[tuple[str, int], frozenset[str]] = {}
    findings = [replace(f, suppressed=True, suppression="inSource")
                if _suppressed_inline(f, sources, comments) else f for f in findings]
    entries_found: list[InventoryEntry] = []
    if ctx.publish_jobs or ctx.gitlab_publish_jobs:
        from auditor.publishers.inventory import (
            inventory,  # publisher matching: only when it applies
        )

        entries_found = inventory(ctx)
    if shipped:
        findings, sources = _for_shipping(findings, sources)
    audited = bool(repo.partial or repo.workflows or repo.actions or repo.pipelines or
                   repo.project is not None or "pyproject.toml" in repo.sources or
                   repo.problems)
    return _Part(findings, entries_found, repo.files_scanned, sources, audited, notices)


def apply_baseline(findings: list[Finding], baseline: Path | None
                   ) -> tuple[list[Finding], Path | None]:
    """Mark findings the baseline accepts as suppressed (``external``); when the baseline
    file does not exist, write it from the unsuppressed findings and accept them all."""
    if baseline is None:
        return findings, None
    if baseline.exists():
        accepted = read_baseline(baseline)
        return [replace(f, suppressed=True, suppression="external")
                if not f.suppressed and f.fingerprint in accepted else f
                for f in findings], None
    write_baseline(baseline, (f for f in findings if not f.suppressed))
    return [replace(f, suppressed=True, suppression="external")
            if not f.suppressed else f for f in findings], baseline


def repository_targets(paths: list[Path]) -> list[list[Path]]:
    """How the command line's paths split into repositories: each directory is one; the
    files given alongside (as pre-commit passes them) are files of one repository."""
    directories = [[p] for p in paths if p.is_dir()]
    files = [p for p in paths if not p.is_dir()]
    return directories + ([files] if files else []) or [[Path(".")]]


# Several repositories on the command line are audited by workers from this many on.
MIN_TARGETS = 8
_TARGETS_PER_WORKER = 4


def _for_shipping(findings: list[Finding], sources: dict[str, SourceFile]
                  ) -> tuple[list[Finding], dict[str, SourceFile]]:
    """What a worker sends back: only the sources the findings quote, and fixes without the
    node operations that only ``pubaudit fix`` reads (they hold whole node trees)."""
    quoted = {loc.path for f in findings
              for loc in (f.location, *(loc for _, loc in f.related))}
    return ([replace(f, fix=replace(f.fix, ops=())) if f.fix else f for f in findings],
            {path: source for path, source in sources.items() if path in quoted})


def _shipped(report: Report) -> Report:
    """A repository's report ready to send from a worker (see :func:`_for_shipping`)."""
    findings, sources = _for_shipping(report.findings, report.sources)
    return replace(report, findings=findings, sources=sources)


def scan_repositories(paths: list[Path], options: Options) -> Report:
    """Audit each repository the paths name and report them together. One repository gives
    the same report as :func:`scan`; several give a report whose ``parts`` hold one report
    per repository (own root, configuration and publishers) and whose findings are all of
    theirs. The baseline is read or written once, over every repository's findings."""
    targets = repository_targets(paths)
    if len(targets) == 1:
        return scan(targets[0], options)
    from auditor.engine.parallel import deal, run_parts, worker_count  # several targets

    workers = 1 if options.online is not None else worker_count(
        options.jobs, len(targets), len(targets), MIN_TARGETS, _TARGETS_PER_WORKER)
    if workers < 2:
        parts = [scan(target, replace(options, baseline=None)) for target in targets]
    else:  # one repository per argument (`scan repos/*`): whole repositories per worker
        inner = replace(options, baseline=None, jobs=1)
        bins = deal([1] * len(targets), workers)
        done = run_parts(bins, lambda b: [_shipped(scan(targets[i], inner)) for i in b])
        by_target = {i: part for b, reports in zip(bins, done, strict=True)
                     for i, part in zip(b, reports, strict=True)}
        parts = [by_target[i] for i in range(len(targets))]
    baseline_written = None
    if options.baseline is not None:
        # Fingerprints are per repository (paths from its root): two repositories with the
        # same release.yml would share them, so one baseline names the repository too.
        def key(part: Report, finding: Finding) -> str:
            return f"{part.display_root}:{finding.fingerprint}"

        if options.baseline.exists():
            accepted = read_baseline(options.baseline)
        else:
            keys = [key(part, f) for part in parts for f in part.findings if not f.suppressed]
            write_keys(options.baseline, keys)
            accepted, baseline_written = set(keys), options.baseline
        parts = [replace(part, findings=[
            replace(f, suppressed=True, suppression="external")
            if not f.suppressed and key(part, f) in accepted else f for f in part.findings])
            for part in parts]
    errors = tuple(e for part in parts for e in part.config.errors)
    return Report(Path.cwd(), ".", [f for part in parts for f in part.findings],
                  [e for part in parts for e in part.inventory],
                  sum(part.files for part in parts), Config(errors=errors), {},
                  max((part.fail_on for part in parts), key=SEVERITIES.index),
                  baseline_written, partial=all(part.partial for part in parts),
                  nothing_to_audit=all(part.nothing_to_audit for part in parts),
                  parts=tuple(parts), online=options.online is not None,
                  notices=[n for part in parts for n in part.notices])
