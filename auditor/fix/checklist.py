"""What only the maintainer can do after a fix took a credential out of a workflow, in the
order that keeps releases working: register the trusted publisher (PyPI must know the
workflow before the next upload), delete the secrets nothing uses any more, revoke the tokens
on PyPI (a deleted secret's token still works until it is revoked)."""

from __future__ import annotations

from pathlib import Path

from auditor.fix.run import Outcome
from auditor.github.refs import secret_refs
from auditor.reading.source import pending

_TOKEN_PAGES = {"pypi": "https://pypi.org/manage/account/token/",
                "testpypi": "https://test.pypi.org/manage/account/token/"}


def _still_used(outcome: Outcome, secret: str) -> list[str]:
    """The files that read ``secret`` after the fix (secret names are case-insensitive)."""
    wanted = secret.upper()
    return sorted(path for path, source in outcome.after.sources.items()
                  if wanted in {name.upper() for name in secret_refs(source.text)})


def checklist(outcome: Outcome, root: Path, config_file: Path | None) -> list[str]:
    """The steps, as text lines; empty when no fix removed a credential."""
    retired: dict[str, set[str]] = {}
    paths: set[str] = set()
    for change in outcome.changes:
        for finding in change.findings:
            if finding.fix is not None and finding.fix.retires:
                paths.add(change.path)
                for secret, index in finding.fix.retires:
                    retired.setdefault(secret, set()).add(index)
    if not paths:
        return []
    from auditor.facts.context import Context
    from auditor.publishers.registration import registrations, render_text
    from auditor.reading.config import load_config
    from auditor.repository.discovery import load_repository

    files = {root / c.path: c.data for c in outcome.changes}
    with pending(files):
        regs = [r for r in registrations(Context(load_repository(root, load_config(
            root, config_file)))) if any(job.path in paths for job in r.jobs)]
    lines = ["What only you can do, in this order:", "",
             "1. Register the trusted publisher before the next release (until then the "
             "upload fails with invalid-publisher):", ""]
    lines += ["   " + line if line else "" for line in render_text(regs).splitlines()]
    owner = next((r.expected for r in regs if r.expected.owner and r.expected.repository
                  and r.expected.provider == "github"), None)
    where = (f" (https://github.com/{owner.owner}/{owner.repository}/settings/secrets/actions"
             ", and under Settings > Environments for environment secrets)") if owner else \
        " (the repository's Settings > Secrets and variables > Actions, and its environments)"
    unused = [s for s in sorted(retired) if not _still_used(outcome, s)]
    kept = [s for s in sorted(retired) if s not in unused]
    if unused:
        lines.append("2. Delete the secrets no workflow uses any more: "
                     f"{', '.join(f'`{s}`' for s in unused)}{where}.")
    else:
        lines.append("2. No secret can be deleted yet.")
    for secret in kept:
        lines.append(f"   `{secret}` is still used by {', '.join(_still_used(outcome, secret))}: "
                     "keep it until that use is migrated too.")
    indexes = sorted({i for s in retired for i in retired[s] if i in _TOKEN_PAGES})
    pages = ", ".join(_TOKEN_PAGES[i] for i in indexes) or _TOKEN_PAGES["pypi"]
    lines.append(f"3. Revoke the tokens those secrets held on the index's API-token page: "
                 f"{pages}. A deleted secret's token keeps working until it is revoked.")
    return lines
