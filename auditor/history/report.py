"""Render the history audit as text or JSON (schema: ``schemas/history.schema.json``).

Names, paths and job ids come from the repository, which may be hostile: text goes through
``inert`` and ``no_commands``, both formats through ``redact``, so a token that a name or a
path carries is masked like the tokens the audit found (which are only ever described).
"""

from __future__ import annotations

import json
import textwrap

from auditor import __version__
from auditor.history.audit import INDEX_NAMES, AuditedCredential, HistoryAudit
from auditor.history.diff import Commit
from auditor.history.gitlog import CI_PATHS, RELEASE_PATHS
from auditor.history.ledger import Usage, describe_usages
from auditor.output.inert import inert, no_commands, surrogate_safe
from auditor.output.redact import redact

SCHEMA_VERSION = 1
_PLATFORMS = {"github": "GitHub Actions", "gitlab": "GitLab CI/CD", "ci": "CI"}


def _commit(commit: Commit | None) -> dict[str, str] | None:
    return {"commit": commit.hash, "date": commit.date} if commit else None


def _usage(usage: Usage) -> dict[str, str | None]:
    return {"path": usage.path, "job": usage.job}


def _credential(item: AuditedCredential) -> dict[str, object]:
    history = item.history
    credential = history.credential
    return {
        "kind": credential.kind,
        "platform": credential.platform,
        "name": credential.name,
        "fingerprint": credential.fingerprint or None,
        "indexes": list(history.indexes),
        "feeds": list(history.feeds),
        "usages": [_usage(u) for u in history.usages],
        "first": _commit(history.first),
        "last": _commit(history.last),
        "commits": history.commits,
        "environments": list(history.environments),
        "still_used": item.still_used,
        "used_today": [_usage(u) for u in item.used_today],
        "stored": list(item.stored) if item.stored is not None else None,
    }


def as_dict(audit: HistoryAudit, display: str) -> dict[str, object]:
    """The ``--format json`` object; keys are stable, additions allowed."""
    remote = audit.origin
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "pubaudit", "version": __version__},
        "repository": display,
        "origin": {"host": remote.host, "owner": remote.owner,
                   "repository": remote.repository} if remote else None,
        "paths": list(CI_PATHS + RELEASE_PATHS),
        "commits": audit.commits,
        "credentials": [_credential(c) for c in audit.credentials],
        "checklist": [{"step": n, "action": s.action, "text": s.text,
                       "credentials": list(s.credentials), "url": s.url}
                      for n, s in enumerate(audit.checklist, 1)],
        "notes": list(audit.notes),
        **({"notices": [n.as_dict() for n in audit.notices]} if audit.online else {}),
    }


def render_json(audit: HistoryAudit, display: str) -> str:
    return redact(surrogate_safe(json.dumps(as_dict(audit, display), indent=2,
                                            ensure_ascii=False))) + "\n"


def _when(commit: Commit | None) -> str:
    return f"{commit.hash[:12]} ({commit.date})" if commit else "not committed yet"


def _heading(item: AuditedCredential) -> str:
    credential = item.history.credential
    indexes = " and ".join(INDEX_NAMES[i] for i in item.history.indexes) or "PyPI"
    if credential.kind == "token":
        what = f"{indexes} API token {credential.name}, committed in clear"
    elif credential.kind == "pypirc-password":
        what = f"{credential.name}, committed in clear ({indexes})"
    else:
        what = f"{_PLATFORMS[credential.platform]} {credential.kind} {credential.name} " \
            f"({indexes})"
    state = "STILL USED" if item.still_used else "no longer used"
    return f"{what}: {state}"


def _wrap(label: str, text: str, indent: str = "    ") -> str:
    return textwrap.fill(inert(text), width=96, initial_indent=indent + label,
                         subsequent_indent=indent + " " * len(label),
                         break_on_hyphens=False, break_long_words=False)


def render_text(audit: HistoryAudit, display: str) -> str:
    out = [inert(f"pubaudit history: {display} ({audit.commits} commit"
                 f"{'s' if audit.commits != 1 else ''} changed CI or release files)")]
    out += [_wrap("note: ", note, "") for note in audit.notes]
    out.append("")
    if not audit.credentials:
        out.append("No PyPI credential in the history of the CI and release files.")
        return redact(no_commands("\n".join(out) + "\n"))
    used = sum(1 for c in audit.credentials if c.still_used)
    count = len(audit.credentials)
    out.append(f"{count} PyPI credential{'s' if count != 1 else ''} in the history, "
               f"{used} still used:")
    for item in audit.credentials:
        history = item.history
        out.append("")
        out.append(inert("  " + _heading(item)))
        if history.feeds:
            out.append(_wrap("handed to:   ", ", ".join(history.feeds)))
        out.append(_wrap("used by:     ", describe_usages(history.usages)))
        if history.environments:
            out.append(_wrap("environment: ", ", ".join(history.environments)))
        out.append(inert(f"    first:       {_when(history.first)}"))
        last = _when(history.last)
        out.append(inert(f"    last:        {last}" + (
            "" if item.still_used or history.last is None else "  (removed)")))
        if item.still_used:
            out.append(_wrap("today:       ", describe_usages(item.used_today)))
        if item.stored is not None:
            out.append(_wrap("stored:      ", ", ".join(item.stored) if item.stored else
                             "nowhere: no repository, organisation or environment secret of "
                             "this name (checked online)"))
    if audit.notices:
        out.append("")
        out += [_wrap("notice: ", notice.message + (f" [{notice.endpoint}"
                      + (f" → {notice.status}" if notice.status else "") + "]"
                      if notice.endpoint else ""), "") for notice in audit.notices]
    out.append("")
    out.append("Checklist, in this order:")
    for number, step in enumerate(audit.checklist, 1):
        out.append(textwrap.fill(inert(step.text), width=96, initial_indent=f"  {number}. ",
                                 subsequent_indent="     ", break_on_hyphens=False,
                                 break_long_words=False))
    # The repository is input: each piece was made inert, secrets are masked, and no line
    # is a workflow command.
    return redact(no_commands("\n".join(out) + "\n"))
