"""The ``publish_jobs`` inventory: every publish job, per index, and the publisher PyPI needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditor.facts import PublishJob
from auditor.gitremote import origin
from auditor.publish import PublishStep


@dataclass(frozen=True, slots=True)
class InventoryEntry:
    path: str
    job: str
    line: int
    index: str
    method: str
    trusted_publishing: bool
    environment: str | None
    expected_publisher: dict[str, str | None] | None

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "job": self.job, "line": self.line, "index": self.index,
                "method": self.method, "trusted_publishing": self.trusted_publishing,
                "environment": self.environment,
                "expected_publisher": self.expected_publisher}


def inventory(root: Path, jobs: list[PublishJob]) -> list[InventoryEntry]:
    """One entry per (publish job, index), in file order."""
    remote = origin(root)
    entries: list[InventoryEntry] = []
    for pj in jobs:
        if pj.workflow.is_composite:
            continue
        by_index: dict[str, list[PublishStep]] = {}
        for step in pj.steps:
            by_index.setdefault(step.index, []).append(step)
        environment = pj.job.environment.name if pj.job.environment else None
        for index, steps in by_index.items():
            trusted = all(s.trusted_publishing for s in steps)
            expected = None
            if trusted and index in ("pypi", "testpypi", "unknown"):
                expected = {
                    "provider": "github",
                    "owner": remote.owner if remote else None,
                    "repository": remote.repository if remote else None,
                    "workflow": pj.workflow.file_name,
                    "environment": environment or "",
                }
            entries.append(InventoryEntry(
                pj.workflow.path, pj.job.job_id, pj.job.key.start.line + 1, index,
                steps[0].method, trusted, environment, expected))
    entries.sort(key=lambda e: (e.path, e.line, e.index))
    return entries
