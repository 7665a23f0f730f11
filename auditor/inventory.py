"""The ``publish_jobs`` inventory: every publish job, per index, and the publisher PyPI needs.

The expected publisher is the one ``matching`` derives for the publisher rules and the
``publishers`` command (GitHub: the file defining the job; GitLab: the top-level pipeline
path), so the JSON contract and the rules can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.facts import Context
from auditor.matching import expected_publishers
from auditor.publishers import Expected


@dataclass(frozen=True, slots=True)
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

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "job": self.job, "line": self.line, "index": self.index,
                "method": self.method, "trusted_publishing": self.trusted_publishing,
                "environment": self.environment,
                "expected_publisher": self.expected_publisher}


def _publisher(exp: Expected) -> dict[str, str | None]:
    return {"provider": exp.provider, "owner": exp.owner, "repository": exp.repository,
            "workflow": exp.workflow,
            "environment": None if exp.dynamic_environment else exp.environment or ""}


def inventory(ctx: Context) -> list[InventoryEntry]:
    """One entry per (publish job, index), in file order."""
    expected = {(e.path, e.job, e.index): e for e in expected_publishers(
        ctx, ctx.identity, indexes=("pypi", "testpypi", "unknown"))}
    entries: list[InventoryEntry] = []
    for pj in ctx.publish_jobs:
        if pj.workflow.is_composite:
            continue
        environment = pj.job.environment.name if pj.job.environment else None
        for index in dict.fromkeys(s.index for s in pj.steps):
            steps = [s for s in pj.steps if s.index == index]
            exp = expected.get((pj.workflow.path, pj.job.job_id, index))
            entries.append(InventoryEntry(
                pj.workflow.path, pj.job.job_id, pj.job.key.start.line + 1, index,
                steps[0].method, all(s.trusted_publishing for s in steps), environment,
                _publisher(exp) if exp is not None else None))
    for gj in ctx.gitlab_publish_jobs:
        environment = gj.environment.name if gj.environment else None
        for index in dict.fromkeys(s.index for s in gj.steps):
            gsteps = [s for s in gj.steps if s.index == index]
            exp = expected.get((gj.job.path, gj.job.name, index))
            entries.append(InventoryEntry(
                gj.job.path, gj.job.name, gj.job.key.start.line + 1, index,
                gsteps[0].method, all(s.trusted_publishing for s in gsteps), environment,
                _publisher(exp) if exp is not None else None, "gitlab"))
    entries.sort(key=lambda e: (e.path, e.line, e.index))
    return entries
