"""``--format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run per scanned repository (``pubaudit scan a b`` gives two, each with its own
``%SRCROOT%`` and ``automationDetails`` category, so code scanning keeps their alerts
apart). Every rule of the catalogue is declared, sorted by id, so a rule's ``ruleIndex``
does not depend on what a scan found. Rules carry ``security-severity`` and the ``security``
tag, so code scanning shows Critical/High/Medium/Low rather than Error/Warning/Note. Code
scanning reads the security severity from the rule only, so a severity set in the
configuration (``[tool.pubaudit.rules.<id>] severity``) is written into the rule's
descriptor; a finding that a rule escalates on its own keeps the rule's security severity
but gets its own ``level``.
Results point at paths relative to the repository root (``%SRCROOT%``), with UTF-16 columns
(``columnKind``), our own fingerprint plus GitHub's ``primaryLocationLineHash`` under
``partialFingerprints``, related locations linked from the message, and suppressed
findings kept as results with a ``suppressions`` entry (an inline ignore is ``inSource``,
a baseline ``external``), so code scanning closes them instead of forgetting them.

Message text is left as pubaudit wrote it: SARIF asks producers to escape literal ``[``,
``]``, ``\\`` and to double ``{``/``}`` (spec 3.11.5-3.11.6), but GitHub shows such escapes
literally (github/codeql issues 15245 and 17972), and our messages quote ``${{ }}``
expressions constantly. Only the link texts we add for related locations are escaped.

The output is deterministic: no timestamps, sorted rules and results, stable JSON layout.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any
from urllib.parse import quote

from auditor import __version__
from auditor.checks.findings import Finding, Fix, Location
from auditor.engine.scan import Report
from auditor.formats.linehash import line_hashes
from auditor.formats.locations import (
    repository_path,
    repository_prefix,
    repository_root,
    source_line,
    utf16_span,
)
from auditor.output.inert import surrogate_safe
from auditor.output.lazyre import lazy_re
from auditor.output.redact import redact
from auditor.reading.catalogue import DOCS_BASE, Rule, load_catalogue

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = DOCS_BASE.removesuffix("rules/")
FINGERPRINT_KEY = "pubaudit/v1"
"""Our route-and-content fingerprint (the one ``--baseline`` stores) in partialFingerprints."""

LEVELS = {"high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"high": "8.0", "medium": "5.0", "low": "2.0"}
"""GitHub's bands: 7.0-8.9 High, 4.0-6.9 Medium, 0.1-3.9 Low. ``info`` rules get none, so
code scanning shows them as notes rather than as security alerts."""
PRECISION = {"high": "high", "medium": "medium", "low": "low"}

_TEXT_LIMIT = 1024  # GitHub's limit for shortDescription and fullDescription
_HASH_SIZE_LIMIT = 1 << 20  # larger files are left for upload-sarif to fingerprint
_IGNORE_REASON = lazy_re(r"#\s*pubaudit:\s*ignore\[[^\]]*\]\s*(.*)$", re.I)


def _clip(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[:_TEXT_LIMIT - 1] + "…"


def _name(rule_id: str) -> str:
    """``missing-id-token`` -> ``MissingIdToken``: SARIF names are identifiers for people."""
    return "".join(part[:1].upper() + part[1:] for part in rule_id.split("-"))


def _descriptor(rule: Rule, severity: str) -> dict[str, Any]:
    summary = rule.summary or rule.title
    help_text = "\n\n".join(part for part in (
        summary, f"Why: {rule.why}" if rule.why else "", f"Fix: {rule.fix}" if rule.fix else "",
        f"Documentation: {rule.help_uri}") if part)
    help_markdown = "\n\n".join(part for part in (
        summary, f"## Why is this bad?\n\n{rule.why}" if rule.why else "",
        f"## How to fix\n\n{rule.fix}" if rule.fix else "",
        f"[Documentation of `{rule.id}`]({rule.help_uri})") if part)
    tags = list(dict.fromkeys(t for t in ("security", "supply-chain", "ci", rule.family) if t))
    properties: dict[str, Any] = {"tags": tags,
                                  "precision": PRECISION.get(rule.confidence, "medium")}
    if severity in SECURITY_SEVERITY:
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    return {
        "id": rule.id,
        "name": _name(rule.id),
        "shortDescription": {"text": _clip(rule.title)},
        "fullDescription": {"text": _clip(summary)},
        "help": {"text": help_text, "markdown": help_markdown},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": LEVELS.get(severity, "warning")},
        "properties": properties,
    }


def _rules(report: Report) -> list[Rule]:
    """The whole catalogue, plus (never in practice) any rule id a finding names that the
    catalogue lacks, so every result has a descriptor to point at."""
    catalogue = load_catalogue()
    rules = dict(catalogue)
    for finding in report.findings:
        if finding.rule not in rules:
            rules[finding.rule] = Rule(finding.rule, finding.rule, finding.severity,
                                       finding.confidence, "workflow", "", "", "", "", "", ())
    return [rules[key] for key in sorted(rules)]


class _Artifacts:
    """Per-file knowledge the results need: repository-relative URIs and line hashes."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.prefix = repository_prefix(report.root)
        self._hashes: dict[str, list[str] | None] = {}

    def uri(self, path: str) -> dict[str, str]:
        full = repository_path(self.prefix, path)
        if Path(full).is_absolute():
            return {"uri": Path(full).as_uri()}
        # From the bytes: a file name that is not UTF-8 is percent-encoded as it is on disk.
        return {"uri": quote(os.fsencode(full), safe="/"), "uriBaseId": "%SRCROOT%"}

    def line_hash(self, path: str, line: int) -> str | None:
        if path not in self._hashes:
            self._hashes[path] = self._compute(path)
        hashes = self._hashes[path]
        if hashes is None or not 0 < line <= len(hashes):
            return None
        return hashes[line - 1]

    def _compute(self, path: str) -> list[str] | None:
        # The file as upload-sarif reads it: raw UTF-8, byte-order mark included.
        try:
            file = self.report.root / path
            info = file.stat()
            if not stat.S_ISREG(info.st_mode) or info.st_size > _HASH_SIZE_LIMIT:
                return None  # a FIFO would block; a huge file is not worth hashing
            text = file.read_bytes().decode("utf-8", errors="replace")
        except (OSError, RuntimeError, ValueError):  # unreadable, symlink loop, NUL in path
            source = self.report.sources.get(path)
            if source is None:
                return None
            text = source.text
        return line_hashes(text)


def _physical(report: Report, artifacts: _Artifacts, location: Location) -> dict[str, Any]:
    line, column, end_line, end_column = utf16_span(report, location)
    return {"artifactLocation": artifacts.uri(location.path),
            "region": {"startLine": line, "startColumn": column, "endLine": end_line,
                       "endColumn": end_column}}


def _link_text(label: str) -> str:
    """A related location's label as the text of a SARIF message link ``[text](id)``."""
    return label.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _suppression(report: Report, finding: Finding) -> dict[str, str]:
    if finding.suppression == "external":
        return {"kind": "external", "status": "accepted",
                "justification": "accepted in the pubaudit baseline (--baseline)"}
    suppression = {"kind": "inSource", "status": "accepted"}
    for location in (finding.location, *(loc for _, loc in finding.related)):
        for number in (location.line, location.end_line):
            match = _IGNORE_REASON.search(source_line(report, location.path, number) or "")
            if match and match.group(1).strip():
                suppression["justification"] = redact(match.group(1).strip())
                return suppression
    return suppression


def _fixes(report: Report, artifacts: _Artifacts, fix: Fix) -> list[dict[str, Any]]:
    changes: dict[str, list[dict[str, Any]]] = {}
    for edit in fix.edits:
        location = Location(edit.path, edit.line, edit.column, edit.end_line, edit.end_column)
        region = _physical(report, artifacts, location)["region"]
        changes.setdefault(edit.path, []).append(
            {"deletedRegion": region, "insertedContent": {"text": edit.replacement}})
    if not changes:
        return []
    return [{"description": {"text": fix.title},
             "properties": {"pubaudit/safe": fix.safe},
             "artifactChanges": [{"artifactLocation": artifacts.uri(path),
                                  "replacements": replacements}
                                 for path, replacements in sorted(changes.items())]}]


def _result(report: Report, artifacts: _Artifacts, finding: Finding,
            index: int) -> dict[str, Any]:
    message = finding.message
    related = []
    links = []
    for number, (label, location) in enumerate(finding.related, 1):
        related.append({"id": number, "physicalLocation": _physical(report, artifacts, location),
                        "message": {"text": label}})
        links.append(f"[{_link_text(label)}]({number})")
    if links:
        # Code scanning links related locations only when the message refers to them.
        message = f"{message}\n\nRelated: {'; '.join(links)}."
    fingerprints = {FINGERPRINT_KEY: finding.fingerprint}
    line_hash = artifacts.line_hash(finding.location.path, finding.location.line)
    if line_hash is not None:
        fingerprints["primaryLocationLineHash"] = line_hash
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": LEVELS.get(finding.severity, "warning"),
        "message": {"text": message},
        "locations": [{"physicalLocation": _physical(report, artifacts, finding.location)}],
        "partialFingerprints": fingerprints,
        "properties": {"pubaudit/severity": finding.severity,
                       "pubaudit/confidence": finding.confidence},
    }
    if related:
        result["relatedLocations"] = related
    if finding.suppressed:
        result["suppressions"] = [_suppression(report, finding)]
    if finding.fix is not None:
        fixes = _fixes(report, artifacts, finding.fix)
        if fixes:
            result["fixes"] = fixes
    return result


def _automation_id(prefix: str) -> str:
    """``pubaudit/`` for a scan of the repository root, ``pubaudit/<subdir>/`` for a scan of
    a subdirectory: code scanning reads everything before the last ``/`` as the category, so
    scans of different roots of one repository do not replace each other's alerts."""
    return f"pubaudit/{prefix}"


def document(report: Report) -> dict[str, Any]:
    """The SARIF log as a JSON-ready dictionary: one run per scanned repository, each with
    its own ``%SRCROOT%`` and automation id."""
    if report.parts:
        return {"$schema": SCHEMA_URI, "version": "2.1.0",
                "runs": [_run(part) for part in report.parts]}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [_run(report)]}


def _run(report: Report) -> dict[str, Any]:
    rules = _rules(report)
    index = {rule.id: number for number, rule in enumerate(rules)}
    overrides = report.config.severity
    artifacts = _Artifacts(report)
    findings = sorted(report.findings, key=lambda f: (
        artifacts.uri(f.location.path)["uri"], f.location.line, f.location.column, f.rule,
        f.fingerprint))
    base = repository_root(report.root.resolve()).as_uri().rstrip("/") + "/"
    run = {
        "tool": {"driver": {
            "name": "pubaudit",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [_descriptor(rule, overrides.get(rule.id, rule.severity))
                      for rule in rules],
        }},
        "automationDetails": {"id": _automation_id(artifacts.prefix)},
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {"%SRCROOT%": {
            "uri": base, "description": {"text": "The root of the scanned repository."}}},
        "columnKind": "utf16CodeUnits",
        "results": [_result(report, artifacts, f, index[f.rule]) for f in findings],
    }
    return run


def _invocation(report: Report) -> dict[str, Any]:
    """The run's invocation; ``--online`` notices (what could not be checked) are its
    ``toolExecutionNotifications``: they do not make the run fail."""
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if report.notices:
        invocation["toolExecutionNotifications"] = [
            {"level": "warning", "message": {"text": notice.message},
             **({"associatedRule": {"id": notice.rule}} if notice.rule else {}),
             "properties": {"endpoint": notice.endpoint, "status": notice.status}}
            for notice in report.notices]
    return invocation


def render(report: Report) -> str:
    return surrogate_safe(json.dumps(document(report), indent=2, ensure_ascii=False)) + "\n"
