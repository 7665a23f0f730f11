"""``--format json``: the stable contract of SPEC §5 (schema: ``schemas/report.schema.json``).

A scan of several repositories lists them in ``roots``; every finding and publish job then
carries the ``root`` its paths are relative to, and the top-level ``root`` is ``.``, the
directory pubaudit ran in."""

from __future__ import annotations

import json

from auditor import __version__
from auditor.checks.findings import Finding
from auditor.engine.scan import Report
from auditor.output.inert import surrogate_safe
from auditor.reading.catalogue import SEVERITIES

SCHEMA_VERSION = 1


def _finding(finding: Finding) -> dict[str, object]:
    fix = None
    if finding.fix is not None:
        fix = {"title": finding.fix.title, "safe": finding.fix.safe,
               "edits": [{"path": e.path, "line": e.line, "column": e.column,
                          "end_line": e.end_line, "end_column": e.end_column,
                          "replacement": e.replacement} for e in finding.fix.edits],
               "refused": finding.fix.refused}
    return {
        "rule": finding.rule,
        "severity": finding.severity,
        "confidence": finding.confidence,
        "message": finding.message,
        "location": finding.location.as_dict(),
        "related": [{"label": label, "location": loc.as_dict()}
                    for label, loc in finding.related],
        "help_uri": finding.help_uri,
        "fingerprint": finding.fingerprint,
        "suppressed": finding.suppressed,
        "suppression": finding.suppression,
        "fix": fix,
    }


def _notices(report: Report) -> dict[str, object]:
    """``--online``: what could not be checked (absent without --online)."""
    if not report.online:
        return {}
    several = len(report.parts) > 1
    return {"notices": [n.as_dict() | ({"root": part.display_root} if several else {})
                        for part in report.repositories for n in part.notices]}


def render(report: Report) -> str:
    active = report.active
    by_severity = {s: n for s in reversed(SEVERITIES)
                   if (n := sum(1 for f in active if f.severity == s))}
    several = len(report.parts) > 1
    findings: list[dict[str, object]] = []
    jobs: list[dict[str, object]] = []
    for part in report.repositories:  # with several repositories each item names its own
        own = {"root": part.display_root} if several else {}
        findings += [_finding(f) | own for f in part.findings]
        jobs += [entry | own for entry in part.publish_jobs()]
    document: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "pubaudit", "version": __version__},
        "root": report.display_root,
    }
    if several:
        document["roots"] = [part.display_root for part in report.parts]
    document |= {
        "findings": findings,
        "publish_jobs": jobs,
        **_notices(report),
        "summary": {"files": report.files, "findings": len(active),
                    "suppressed": len(report.findings) - len(active),
                    "by_severity": by_severity},
    }
    return surrogate_safe(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"
