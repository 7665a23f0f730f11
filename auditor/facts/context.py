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
import functools
from collections.abc import Callable, Iterable
from functools import cached_property
from typing import TYPE_CHECKING

from auditor.github.guards import PULL_EVENTS, Situation, Value, decide, ignores_failed_needs
from auditor.github.model import Job, Permissions, Trigger, Workflow
from auditor.github.situations import call_inputs, job_outputs, run_events
from auditor.output.records import record
from auditor.reading.source import SourceFile
from auditor.repository.discovery import Repository
from auditor.upload.publish import PublishStep
from auditor.upload.steps import publish_steps

if TYPE_CHECKING:
    from auditor.reading.identity import Identity
    from auditor.upload.gitlab import GitlabPublishJob

# The ref kinds each event can run on.
EVENT_REFS: dict[str, tuple[str, ...]] = {
    "pull_request": ("pull",), "pull_request_target": ("pull",), "pull_request_review": ("pull",),
    "pull_request_review_comment": ("pull",), "release": ("tag",),
    "workflow_dispatch": ("branch", "tag"), "schedule": ("branch",),
    "workflow_run": ("branch",), "issue_comment": ("branch",), "issues": ("branch",),
    "repository_dispatch": ("branch",), "merge_group": ("branch",), "discussion": ("branch",),
    "create": ("branch", "tag"), "delete": ("branch", "tag"),
}


@record
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


# Calls of reusable workflows followed at most this deep (GitHub allows four levels).
_MAX_CALL_DEPTH = 8


@record
class Reach:
    """A way a job can run: the situation (event, ref kind, fork, inputs...) its guards were
    evaluated in, through ``trigger``."""

    situation: Situation
    trigger: Trigger
    via: Job | None = None  # the caller job, for reusable workflows
    undecided: str | None = None  # a guard pubaudit could not evaluate here

    @property
    def event(self) -> str:
        return self.situation.event

    @property
    def ref(self) -> str:
        return self.situation.ref

    @property
    def from_pull_request(self) -> bool:
        """Set off by a pull request: directly, or through a ``workflow_run`` of one."""
        if self.event == "workflow_run":
            run_event = self.situation.run_event
            return run_event is None or run_event in PULL_EVENTS or run_event == "workflow_run"
        return self.event in PULL_EVENTS


@record
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


def _prefixed(read: Callable[[str], SourceFile | str], prefix: str, path: str
              ) -> SourceFile | str:
    return read(prefix + path)


class Context:
    """The repository plus every derived fact; what rules receive."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._guards: dict[tuple[str, str], tuple[str, ...]] = {}
        self._reach_memo: dict[tuple[str, str, str | None, bool], list[Reach]] = {}
        self._entry_memo: dict[tuple[str, bool], list[Reach]] = {}
        self._calling: set[str] = set()
        self._package_names: dict[str, str | None] = {}
        self.config = repo.config
        uv_indexes = repo.project.uv_indexes if repo.project else {}
        from auditor.repository.discovery import repository_file_reader
        from auditor.upload.wrappers import WrapperReader

        # wrapper files (tox.ini, Makefile...) are read only when a step names them
        self._read = repository_file_reader(repo).read
        wrappers = WrapperReader(self._read)
        self._direct: dict[str, list[PublishStep]] = {
            w.path: publish_steps(w, uv_indexes, wrappers) for w in repo.workflows}
        self._action_steps: dict[str, list[PublishStep]] = {
            d: publish_steps(a, uv_indexes, wrappers) for d, a in repo.actions.items()}

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
    def hidden_uploads(self) -> list[PublishStep]:
        """Uploads found inside a wrapper file, or inferred from a credential handed to a
        command pubaudit could not read."""
        return [s for s in self.publish_steps if s.wrapper is not None or s.unseen is not None]

    @cached_property
    def uploads_by_job(self) -> dict[tuple[str, str], list[PublishStep]]:
        found: dict[tuple[str, str], list[PublishStep]] = {}
        for step in self.publish_steps:
            found.setdefault((step.workflow.path, step.job.job_id), []).append(step)
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
        from auditor.upload.gitlab import publish_jobs  # the GitLab model: only when used
        from auditor.upload.wrappers import WrapperReader

        uv_indexes = self.repo.project.uv_indexes if self.repo.project else {}
        found: list[GitlabPublishJob] = []
        for pipeline in self.repo.pipelines:
            # a script's `make publish` reads the Makefile beside its own pipeline
            wrappers = WrapperReader(functools.partial(_prefixed, self._read, pipeline.prefix))
            found.extend(publish_jobs(pipeline, uv_indexes, wrappers))
        return found

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
        from auditor.reading.identity import identity  # only the publisher rules need it

        return identity(self.repo.root)

    def _builds_all_packages(self, step: PublishStep) -> bool:
        """A step of the workflow runs `uv build --all-packages` (or `--all`): the root's
        `dist/` then holds every workspace member's distributions."""
        for job in step.workflow.jobs:
            for other in job.steps:
                script = other.run.value if other.run is not None else ""
                if "uv build" in script and ("--all-packages" in script or
                                             " --all" in script):
                    return True
        return False

    def _workspace_members(self) -> list[str]:
        """The directories of the uv workspace's members, from the root's
        `[tool.uv.workspace] members` globs, that hold a `pyproject.toml`."""
        project = self.repo.project
        if project is None or not project.workspace:
            return []
        found: list[str] = []
        root = self.repo.root
        for pattern in project.workspace:
            if pattern.startswith(("/", "..")) or ".." in pattern.split("/"):
                continue
            for path in sorted(root.glob(pattern))[:100]:
                if (path / "pyproject.toml").is_file():
                    found.append(path.relative_to(root).as_posix())
        return found

    def projects_of(self, step: PublishStep) -> tuple[str | None, ...]:
        """The project names ``step`` uploads: each package directory's own (a monorepo's
        ``packages/cli/pyproject.toml``; every workspace member when the workflow builds
        them all into the root's `dist/`), else the repository's."""
        from auditor.facts.packages import package_dirs
        from auditor.reading.identity import project_name

        own = self.identity.project.name if self.identity.project else None
        names: list[str | None] = []
        dirs = package_dirs(step)
        if dirs in ((), ("",)) and self._builds_all_packages(step):
            members = tuple(self._workspace_members())
            dirs = (("",) if own or not members else ()) + members
        for directory in dirs:
            if not directory:
                names.append(own)
                continue
            key = step.workflow.repository_prefix + directory
            if key not in self._package_names:
                found = project_name(self.repo.root / key)
                self._package_names[key] = found.name if found else None
            names.append(self._package_names[key] or own)
        return tuple(dict.fromkeys(names)) or (own,)

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
                fork: bool = False) -> list[Reach]:
        """The situations that can run ``job`` (and its step guarded by ``extra_guard``):
        each way into the workflow with the job's ``if:``, those of the jobs it needs, and
        ``extra_guard`` evaluated together. ``fork`` asks about runs in a fork.

        Memoised per (workflow, job, guard, fork), and the ways into a workflow per
        (workflow, fork), so chains of reusable workflows cost one evaluation per caller."""
        key = (workflow.path, job.job_id, extra_guard, fork)
        memo = self._reach_memo.get(key)
        if memo is not None:
            return memo
        guards = list(self._guard_chain(workflow, job))
        if extra_guard:
            guards.append(extra_guard)
        outputs, computed = self._job_outputs.get(workflow.path, ((), ()))
        out: list[Reach] = []
        for entry in self._entries(workflow, fork):
            where = dataclasses.replace(entry.situation, outputs=outputs, computed=computed) \
                if outputs or computed else entry.situation
            undecided = entry.undecided
            for guard in guards:
                verdict = decide(guard, where)
                if verdict is False:
                    break
                if verdict is None and undecided is None:
                    undecided = guard
            else:
                out.append(dataclasses.replace(entry, undecided=undecided))
        self._reach_memo[key] = out
        return out

    @cached_property
    def _job_outputs(self) -> dict[str, tuple[tuple[tuple[str, Value], ...],
                                              tuple[tuple[str, str], ...]]]:
        return {w.path: job_outputs(w) for w in self.repo.workflows}

    def _entries(self, workflow: Workflow, fork: bool) -> list[Reach]:
        """Every way into ``workflow`` before any job guard: its triggers (with the events of
        a ``workflow_run``'s source runs), and for ``workflow_call`` each caller job's reach
        with the inputs that caller passes."""
        key = (workflow.path, fork)
        memo = self._entry_memo.get(key)
        if memo is not None:
            return memo
        out: list[Reach] = []
        for trigger in workflow.triggers:
            if trigger.event == "workflow_call":
                if workflow.path in self._calling or len(self._calling) >= _MAX_CALL_DEPTH:
                    continue  # a cycle (GitHub rejects it) or deeper than GitHub allows
                self._calling.add(workflow.path)
                # each (situation, trigger) once, with the first caller job that brings it
                # (what the rules report): K calls per file over 8 files were K**8 reaches
                seen: set[tuple[Situation, int]] = set()
                try:
                    for caller, caller_job in self.callers_of(workflow):
                        for reach in self.reaches(caller, caller_job, fork=fork):
                            situation = call_inputs(workflow, caller_job, reach.situation)
                            if (situation, id(reach.trigger)) in seen:
                                continue
                            seen.add((situation, id(reach.trigger)))
                            out.append(Reach(situation, reach.trigger, reach.via or caller_job,
                                             reach.undecided))
                finally:
                    self._calling.discard(workflow.path)
                continue
            sources: tuple[str | None, ...] = (None,)
            if trigger.event == "workflow_run":
                sources = run_events(trigger, self.repo.workflows)
            for ref in self._refs(trigger):
                for source in sources:
                    out.append(Reach(Situation(trigger.event, ref, fork, source,
                                               any_input=trigger.event == "workflow_dispatch"),
                                     trigger))
        self._entry_memo[key] = out
        return out

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
