"""The ``publish_jobs`` inventory: every publish job, per index, and the publisher PyPI needs.

The expected publisher is the one ``matching`` derives for the publisher rules and the
``publishers`` command (GitHub: the file defining the job; GitLab: the top-level pipeline
path), so the JSON contract and the rules can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from auditor.facts.context import Context
from auditor.output.records import record
from auditor.publishers.expected import Expected
from auditor.publishers.matching import expected_publishers


@record
class InventoryEntry:
    """One publish job and index of the JSON `publish_jobs` contract."""

    path: str
    job: str
    line: int
    index: str
    method: str
    trusted_publishing: bool
    environment: str | None
    expected_publisher: dict[str, str | None] | None
    provider: str = "github"
    credential: str = "none"  # oidc | oidc-exchange | static | none, the weakest upload's
    via: str | None = None  # "tox.ini:41": the upload is inside a wrapper file the step runs

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "path": self.path, "job": self.job, "line": self.line, "index": self.index,
            "method": self.method, "trusted_publishing": self.trusted_publishing,
            "environment": self.environment,
            "expected_publisher": self.expected_publisher, "credential": self.credential}
        if self.via is not None:
            out["via"] = self.via
        return out


def _publisher(exp: Expected, written: str | None) -> dict[str, str | None]:
    """The JSON ``expected_publisher``; a computed environment is given as written (the
    expression), since the schema wants a string and "" would mean "any"."""
    environment = (written or "") if exp.dynamic_environment else exp.environment or ""
    return {"provider": exp.provider, "owner": exp.owner, "repository": exp.repository,
            "workflow": exp.workflow, "environment": environment}


class _Upload(Protocol):
    """What the inventory reads of a GitHub or GitLab upload step."""

    @property
    def index(self) -> str: ...

    @property
    def method(self) -> str: ...

    @property
    def trusted_publishing(self) -> bool: ...

    @property
    def credential(self) -> str: ...

    @property
    def via(self) -> str | None: ...


_CREDENTIAL_ORDER = ("static", "none", "oidc-exchange", "oidc")


def _indexes(upload: _Upload) -> tuple[str, ...]:
    """An upload's index, or each index a matrix of URLs names (GitHub steps only)."""
    return getattr(upload, "indexes", (upload.index,))


def inventory(ctx: Context) -> list[InventoryEntry]:
    """One entry per (publish job, index), in file order."""
    expected = {(e.path, e.job, e.index): e for e in expected_publishers(
        ctx, ctx.identity, indexes=("pypi", "testpypi", "unknown"))}
    jobs: list[tuple[str, str, int, str | None, Sequence[_Upload], str]] = [
        (pj.workflow.path, pj.job.job_id, pj.job.key.start.line + 1,
         pj.job.environment.name if pj.job.environment else None, pj.steps, "github")
        for pj in ctx.publish_jobs if not pj.workflow.is_composite]
    jobs += [(gj.job.path, gj.job.name, gj.job.key.start.line + 1,
              gj.environment.name if gj.environment else None, gj.steps, "gitlab")
             for gj in ctx.gitlab_publish_jobs]
    entries: list[InventoryEntry] = []
    for path, job, line, environment, uploads, provider in jobs:
        for index in dict.fromkeys(i for u in uploads for i in _indexes(u)):
            same = [u for u in uploads if index in _indexes(u)]
            exp = expected.get((path, job, index))
            entries.append(InventoryEntry(
                path, job, line, index, same[0].method,
                all(u.trusted_publishing for u in same), environment,
                _publisher(exp, environment) if exp is not None else None, provider,
                min((u.credential for u in same), key=_CREDENTIAL_ORDER.index),
                same[0].via))
    entries.sort(key=lambda e: (e.path, e.line, e.index))
    return entries
