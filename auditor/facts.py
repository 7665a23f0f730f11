"""Facts derived once from the model, shared by every rule.

- publish steps and publish jobs (including steps inside local composite actions, which
  run with the calling job's token and environment);
- effective permissions of each job (a job-level block *replaces* the workflow-level one;
  scopes not listed become ``none``);
- callers of each local reusable workflow;
- the (event, ref kind) pairs that can reach each job through ``on:``, ``if:`` guards on
  the job, its ``needs`` chain and the callers of a reusable workflow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from auditor.discovery import Repository
from auditor.guards import ignores_failed_needs, possible
from auditor.model import Job, Permissions, Trigger, Workflow
from auditor.publish import PublishStep, publish_steps

if TYPE_CHECKING:
    from auditor.gitlab_publish import GitlabPublishJob
    from auditor.identity import Identity
    from auditor.matching import Audit

# The ref kinds each event can run on.
EVENT_REFS: dict[str, tuple[str, ...]] = {
    "pull_request": ("pull",), "pull_request_target": ("pull",), "pull_request_review": ("pull",),
    "pull_request_review_comment": ("pull",), "release": ("tag",),
    "workflow_dispatch": ("branch", "tag"), "schedule": ("branch",),
    "workflow_run": ("branch",), "issue_comment": ("branch",), "issues": ("branch",),
    "repository_dispatch": ("branch",), "merge_group": ("branch",), "discussion": ("branch",),
    "create": ("branch", "tag"), "delete": ("branch", "tag"),
}


@dataclass(frozen=True, slots=True)
class EffectivePermissions:
    """The permissions block in force for a job, and the one it replaced."""

    block: Permissions | None  # the block in force, or None for the repository default
    replaced: Permissions | None  # the workflow-level block a job-level block replaced

    @property
    def id_token(self) -> bool:
        return self.block is not None and self.block.grants_id_token

    @property
    def source(self) -> str:
        if self.block is None:
            return "default"
        return "workflow" if self.replaced is None and self.block.anchor.route[:1] == (
            "permissions",) else "job"


@dataclass(frozen=True, slots=True)
class Reach:
    """An event that can run a job, on a kind of ref, through ``trigger``."""

    event: str
    ref: str
    trigger: Trigger
    via: Job | None = None  # the caller job, for reusable workflows


@dataclass(frozen=True, slots=True)
class PublishJob:
    """A job with at least one publish step (steps of local actions included)."""

    workflow: Workflow
    job: Job
    steps: tuple[PublishStep, ...]

    @property
    def trusted_publishing(self) -> bool:
        return any(s.trusted_publishing for s in self.steps)


def _first_of_each(reaches: list[Reach]) -> list[Reach]:
    """``reaches`` in order with the first of each (event, ref, trigger): the rules read
    the events, refs and triggers, and the calling job of the first."""
    first: dict[tuple[str, str, int], Reach] = {}
    for reach in reaches:
        first.setdefault((reach.event, reach.ref, id(reach.trigger)), reach)
    return list(first.values())


class Context:
    """The repository plus every derived fact; what rules receive."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._guards: dict[tuple[str, str], tuple[str, ...]] = {}
        self.config = repo.config
        uv_indexes = repo.project.uv_indexes if repo.project else {}
        self._direct: dict[str, list[PublishStep]] = {
            w.path: publish_steps(w, uv_indexes) for w in repo.workflows}
        self._action_steps: dict[str, list[PublishStep]] = {
            d: publish_steps(a, uv_indexes) for d, a in repo.actions.items()}

    # ----------------------------------------------------------------- publish steps

    @cached_property
    def publish_steps(self) -> list[PublishStep]:
        """Every publish step, attributed to the job that runs it."""
        found: list[PublishStep] = []
        for workflow in self.repo.workflows:
            found.extend(self._direct[workflow.path])
            for job in workflow.jobs:
                for step in job.steps:
                    if step.uses is None or step.uses.kind != "local":
                        continue
                    target = workflow.local_target(step.uses.subpath)
                    for inner in self._action_steps.get(target, ()):
                        found.append(dataclasses.replace(inner, workflow=workflow, job=job,
                                                         via_step=step))
        return found

    @cached_property
    def publish_jobs(self) -> list[PublishJob]:
        jobs: dict[tuple[str, str], list[PublishStep]] = {}
        owners: dict[tuple[str, str], tuple[Workflow, Job]] = {}
        for step in self.publish_steps:
            key = (step.workflow.path, step.job.job_id)
            jobs.setdefault(key, []).append(step)
            owners[key] = (step.workflow, step.job)
        return [PublishJob(owners[k][0], owners[k][1], tuple(v)) for k, v in jobs.items()]

    @cached_property
    def gitlab_publish_jobs(self) -> list[GitlabPublishJob]:
        """Every GitLab job that uploads, with its steps, environment, ID tokens and
        tag guard, pipeline by pipeline."""
        if not self.repo.pipelines:
            return []
        from auditor.gitlab_publish import publish_jobs  # the GitLab model: only when used

        uv_indexes = self.repo.project.uv_indexes if self.repo.project else {}
        return [pj for pipeline in self.repo.pipelines
                for pj in publish_jobs(pipeline, uv_indexes)]

    @cached_property
    def publish_jobs_by_workflow(self) -> dict[str, list[PublishJob]]:
        """``publish_jobs`` grouped by workflow path: a rule asking per workflow does not
        scan every publish job of the repository (quadratic with many workflows)."""
        grouped: dict[str, list[PublishJob]] = {}
        for pj in self.publish_jobs:
            grouped.setdefault(pj.workflow.path, []).append(pj)
        return grouped

    @cached_property
    def _publishing_paths(self) -> frozenset[str]:
        paths = {pj.workflow.path for pj in self.publish_jobs}
        for caller, _job, callee in self.calls:
            if callee.path in paths:
                paths.add(caller.path)
        return frozenset(paths)

    def publishing_workflows(self) -> frozenset[str]:
        """Paths of workflows that publish, directly or by calling a local one that does."""
        return self._publishing_paths

    @cached_property
    def _steps_by_job(self) -> dict[tuple[str, str], list[PublishStep]]:
        grouped: dict[tuple[str, str], list[PublishStep]] = {}
        for step in self.publish_steps:
            grouped.setdefault((step.workflow.path, step.job.job_id), []).append(step)
        return grouped

    def steps_of(self, workflow: Workflow, job: Job) -> list[PublishStep]:
        return list(self._steps_by_job.get((workflow.path, job.job_id), ()))

    # ----------------------------------------------------------------- publishers

    @cached_property
    def identity(self) -> Identity:
        """Project name and git remotes of the scanned root."""
        from auditor.identity import identity  # only the publisher rules need it

        return identity(self.repo.root)

    @cached_property
    def publishers(self) -> Audit:
        """Declared publishers against what the publish jobs need (see ``matching``)."""
        from auditor.matching import audit  # matching builds on this module

        return audit(self, self.identity, self.config.publishers)

    # ----------------------------------------------------------------- reusable workflows

    @cached_property
    def calls(self) -> list[tuple[Workflow, Job, Workflow]]:
        """``(caller workflow, caller job, callee)`` for each call of a local workflow."""
        out = []
        for workflow in self.repo.workflows:
            for job in workflow.jobs:
                if job.uses is None or job.uses.kind != "local":
                    continue
                target = workflow.local_target(job.uses.subpath)
                callee = self.repo.workflow_at(target)
                if callee is not None:
                    out.append((workflow, job, callee))
        return out

    def callers_of(self, workflow: Workflow) -> list[tuple[Workflow, Job]]:
        return [(w, j) for w, j, callee in self.calls if callee.path == workflow.path]

    # ----------------------------------------------------------------- permissions

    def effective_permissions(self, workflow: Workflow, job: Job) -> EffectivePermissions:
        if job.permissions is not None:
            return EffectivePermissions(job.permissions, workflow.permissions)
        return EffectivePermissions(workflow.permissions, None)

    # ----------------------------------------------------------------- triggers

    @cached_property
    def _jobs_by_id(self) -> dict[str, dict[str, Job]]:
        return {w.path: {j.job_id: j for j in w.jobs} for w in self.repo.workflows}

    def _guard_chain(self, workflow: Workflow, job: Job) -> tuple[str, ...]:
        """The ``if:`` of the job and of every job it needs (skips propagate), once each.

        Memoised per job and computed bottom-up without recursion, so a chain of N jobs
        costs O(N) in all, not O(N) per job; a ``needs`` cycle (GitHub rejects it) just
        stops where it closes."""
        memo = self._guards
        jobs = self._jobs_by_id.get(workflow.path, {})
        path = workflow.path
        stack: list[tuple[Job, bool]] = [(job, False)]
        visiting: set[str] = set()
        while stack:
            current, expanded = stack.pop()
            if (path, current.job_id) in memo:
                continue
            needed = [] if ignores_failed_needs(current.if_) else [
                jobs[n] for n in current.needs if n in jobs]
            if not expanded:
                if current.job_id in visiting:  # a cycle: stop here
                    memo[(path, current.job_id)] = (current.if_,) if current.if_ else ()
                    continue
                visiting.add(current.job_id)
                stack.append((current, True))
                stack.extend((n, False) for n in needed if (path, n.job_id) not in memo)
                continue
            merged = dict.fromkeys([current.if_] if current.if_ else [])
            for n in needed:
                merged.update(dict.fromkeys(memo.get((path, n.job_id), ())))
            memo[(path, current.job_id)] = tuple(merged)
        return memo[(path, job.job_id)]

    def reaches(self, workflow: Workflow, job: Job, extra_guard: str | None = None,
                depth: int = 0) -> list[Reach]:
        """The (event, ref) pairs that can run ``job`` (and its step guarded by
        ``extra_guard``)."""
        memo_key = (workflow.path, job.job_id, extra_guard, depth)
        if memo_key in self._reaches_memo:
            return list(self._reaches_memo[memo_key])
        guards = list(self._guard_chain(workflow, job))
        if extra_guard:
            guards.append(extra_guard)
        out: list[Reach] = []
        for trigger in workflow.triggers:
            if trigger.event == "workflow_call":
                if depth > 5:
                    continue
                for reach in self._called_reaches(workflow, depth):
                    if all(possible(g, reach.event, reach.ref) for g in guards):
                        out.append(reach)
                continue
            for ref in self._refs(trigger):
                if all(possible(g, trigger.event, ref) for g in guards):
                    out.append(Reach(trigger.event, ref, trigger))
        self._reaches_memo[memo_key] = _first_of_each(out)
        return list(self._reaches_memo[memo_key])

    def _called_reaches(self, workflow: Workflow, depth: int) -> list[Reach]:
        """What can run ``workflow`` through its callers, before its own guards: once per
        workflow and depth, and each (event, ref, trigger) once with the first calling job
        that brings it (what the rules report). Walking every caller for every job made K
        calls per file over 8 files K**5 long (K=14: 266 s, 637 MB)."""
        key = (workflow.path, depth)
        if key not in self._called_memo:
            out = [Reach(reach.event, reach.ref, reach.trigger, reach.via or caller_job)
                   for caller, caller_job in self.callers_of(workflow)
                   for reach in self.reaches(caller, caller_job, depth=depth + 1)]
            self._called_memo[key] = _first_of_each(out)
        return self._called_memo[key]

    @cached_property
    def _reaches_memo(self) -> dict[tuple[str, str, str | None, int], list[Reach]]:
        return {}

    @cached_property
    def _called_memo(self) -> dict[tuple[str, int], list[Reach]]:
        return {}

    @staticmethod
    def _refs(trigger: Trigger) -> Iterable[str]:
        if trigger.event == "push":
            branches = trigger.filter_values("branches")
            branches_ignore = trigger.filter_values("branches-ignore")
            tags = trigger.filter_values("tags")
            tags_ignore = trigger.filter_values("tags-ignore")
            has_branch_filter = branches is not None or branches_ignore is not None
            has_tag_filter = tags is not None or tags_ignore is not None
            refs = []
            if (has_branch_filter or not has_tag_filter) and branches != []:
                refs.append("branch")
            if (has_tag_filter or not has_branch_filter) and tags != []:
                refs.append("tag")
            return refs
        return EVENT_REFS.get(trigger.event, ("branch",))
