"""Environment and triggers: what gates a publish job, and what can start it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.findings import Problem
from auditor.checks.fixes import add_environment
from auditor.facts.context import Context, PublishJob, Reach
from auditor.github.guards import bare
from auditor.github.model import Job, Step, Trigger, Workflow
from auditor.output.lazyre import lazy_re
from auditor.reading.yamlsource import is_true
from auditor.upload.publish import PublishStep
from auditor.upload.scope import index_scope
from auditor.upload.shell import split_commands, strip_prefixes
from auditor.upload.values import possible_values

DANGEROUS = {
    "pull_request_target": "runs with the base repository's privileges on code a fork can "
                           "influence, and PyPI refuses tokens from it (\"Publishing from a "
                           "workflow invoked via 'pull_request_target' is not supported.\")",
    "workflow_run": "runs with the base repository's privileges and can be set off by a "
                    "workflow that ran on a fork's pull request",
    "issue_comment": "can be set off by anyone who can comment on an issue or pull request",
    "pull_request": "publishes unreviewed pull-request code",
}


def _python_steps(pj: PublishJob) -> list[PublishStep]:
    return [s for s in pj.steps if s.targets_python_index]


def _declared_environment(ctx: Context, pj: PublishJob) -> str | None:
    """The environment the declared publishers of this workflow file name, when they agree
    on one: the fix must add the environment PyPI will be told to bind."""
    filename = pj.workflow.path.rsplit("/", 1)[-1]
    names = {decl.text("environment") for decl in ctx.config.publishers
             if decl.text("workflow") == filename and decl.text("environment")}
    return names.pop() if len(names) == 1 else None


def missing_environment(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        steps = _python_steps(pj) or [s for s in pj.steps if index_scope(s.index)]
        if not steps or pj.job.environment is not None or pj.workflow.is_composite:
            continue
        scope = index_scope(steps[0].index)
        assert scope is not None
        index = "TestPyPI" if all(s.index == "testpypi" for s in steps) else "PyPI"
        name = "testpypi" if index == "TestPyPI" else "pypi"
        yield Problem(
            pj.job.anchor,
            f"{pj.job.label} uploads to {index} without an `environment:`: there is no place "
            "for required reviewers or a deployment tag policy, and the PyPI publisher cannot "
            f"be bound to an environment. Add `environment: {name}` (protected with required "
            f"reviewers and a tag rule in the repository settings) and register the same "
            f"environment on the trusted publisher.{scope.note}",
            (("the upload", steps[0].anchor),),
            fix=add_environment(pj.workflow, pj.job, _declared_environment(ctx, pj) or name),
            undecided=scope.undecided)


def dynamic_environment(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        env = pj.job.environment
        if env is None or not env.is_expression:
            continue
        if env.name and pj.job.steps and possible_values(env.name, pj.workflow, pj.job,
                                                         pj.job.steps[0]):
            continue  # `${{ matrix.env }}` over literal legs, `${{ env.X }}` set to one
        anchor = env.anchor.child("name", node=env.name_node) if env.name_node else env.anchor
        yield Problem(
            anchor,
            f"The environment of {pj.job.label} is an expression (`{env.name}`): nobody can "
            "check it against the PyPI publisher before the run, and whoever sets the inputs "
            "may pick an environment without protection rules. Use a literal environment name "
            "per index (e.g. `pypi` and `testpypi` in two jobs).")


# Inputs of third-party publish actions that decide whether they upload at all.
_UPLOAD_SWITCHES = {"casperdcl/deploy-pypi": "upload"}


def _guard_of(step: PublishStep) -> str | None:
    if step.step.if_:
        return step.step.if_
    uses = step.step.uses
    switch = _UPLOAD_SWITCHES.get(uses.slug) if uses is not None else None
    node = step.step.input(switch) if switch else None
    return node.value if node is not None else None


def _reaches(ctx: Context, pj: PublishJob, steps: list[PublishStep] | None = None,
             fork: bool = False) -> list[Reach]:
    """The (event, ref) pairs that run the job *and* one of ``steps`` (default: every upload
    of the job): a PyPI step guarded by ``github.event_name == 'release'`` does not run on
    the ``push`` that runs the TestPyPI step beside it."""
    out: dict[tuple[object, ...], Reach] = {}
    for step in steps if steps is not None else pj.steps:
        for reach in ctx.reaches(pj.workflow, pj.job, _guard_of(step), fork=fork):
            key = (reach.situation, id(reach.trigger), id(reach.via))
            known = out.get(key)
            if known is None or (known.undecided and not reach.undecided):
                out[key] = reach  # a step that surely runs outweighs one that may
    return list(out.values())


def _undecided_note(reaches: list[Reach]) -> str:
    """The sentence a finding that hinges on an unreadable guard ends with."""
    guard = next((r.undecided for r in reaches if r.undecided), None)
    if guard is None:
        return ""
    return (f" (pubaudit could not decide `{bare(guard)}`: if it rules this run out, there is "
            "nothing to fix)")


def dangerous_publish_trigger(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        if pj.workflow.is_composite:
            continue
        chosen: dict[tuple[str, str], Reach] = {}
        for reach in _reaches(ctx, pj):
            if reach.event not in DANGEROUS or not (
                    reach.event in ("issue_comment", "pull_request_target", "pull_request")
                    or reach.from_pull_request):
                continue  # a workflow_run of a push upstream is not set off by outsiders
            key = (reach.trigger.anchor.path, reach.event)
            known = chosen.get(key)
            if known is None or (known.undecided and not reach.undecided):
                chosen[key] = reach
        for reach in chosen.values():
            related = [("publish job", pj.job.anchor), ("the upload", pj.steps[0].anchor)]
            if reach.via is not None:
                related.append(("the calling job", reach.via.anchor))
            why = DANGEROUS[reach.event]
            if reach.event == "pull_request" and pj.trusted_publishing:
                why += " (and fails for pull requests from forks, which get no OIDC token)"
            if reach.event == "workflow_run":
                fix = ("guard the job with `if: github.event.workflow_run.event == 'push'` "
                       "(a test on `head_branch` does not help: a fork names its branch "
                       "as it likes)")
            else:
                fix = (f"guard the job with `if: github.event_name != '{reach.event}' && "
                       "startsWith(github.ref, 'refs/tags/')`")
            yield Problem(
                reach.trigger.anchor,
                f"`{reach.event}` can start {pj.job.label}, which publishes: it "
                f"{why}. Publish only from `push` of tags or `release`, or {fix}."
                + _undecided_note([reach]),
                tuple(related), undecided=reach.undecided is not None)


def branch_push_publish(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        steps = [s for s in pj.steps if s.index == "pypi"]
        if not steps or pj.workflow.is_composite:
            continue
        offending: list[Reach] = []
        for reach in _reaches(ctx, pj, steps):
            if reach.ref != "branch":
                continue
            unattended = reach.event == "push" or (
                reach.event in ("schedule", "workflow_dispatch", "repository_dispatch")
                and pj.job.environment is None)
            if not unattended:
                continue
            same = next((i for i, r in enumerate(offending) if r.event == reach.event), None)
            if same is None:
                offending.append(reach)
            elif offending[same].undecided and not reach.undecided:
                offending[same] = reach
        if not offending:
            continue
        events = ", ".join(f"`{r.event}`" for r in offending)
        first = offending[0]
        push = any(r.event == "push" for r in offending)
        # An upload inside a script or task runner may test the ref itself (`if tag:`).
        wrapped = all(s.wrapper is not None or s.unseen for s in steps)
        why = ("every push to a branch publishes whatever is on it" if push else
               "a run that is not tied to a release tag can publish, and the job has no "
               "environment whose reviewers could stop it")
        if wrapped:
            why = (f"unless `{steps[0].wrapper_label}`, which makes the upload, checks the ref "
                   "itself (pubaudit cannot tell), every such run publishes what it built")
        yield Problem(
            first.trigger.anchor,
            f"{pj.job.label} uploads to PyPI and can run on {events} without a tag or release "
            f"guard: {why}. Publish on `push: tags: ['v*']` or `release: types: [published]`, "
            "or add `if: startsWith(github.ref, 'refs/tags/')` to the job."
            + _undecided_note(offending),
            (("publish job", pj.job.anchor), ("the upload", steps[0].anchor)),
            undecided=wrapped or all(r.undecided for r in offending))


_RELEASE_ACTIONS = frozenset({
    "softprops/action-gh-release", "ncipollo/release-action", "actions/create-release",
    "googleapis/release-please-action", "google-github-actions/release-please-action",
    "python-semantic-release/python-semantic-release", "cycjimmy/semantic-release-action",
    "mathieudutour/github-tag-action", "anothrnick/github-tag-action",
    "rickstaa/action-create-tag", "marvinpinto/action-automatic-releases",
    "elgohr/github-release-action", "svenstaro/upload-release-action",
})
_TOKEN_INPUTS = ("token", "github_token", "github-token", "repo-token", "repo_token")
_DEFAULT_TOKEN_RE = lazy_re(r"secrets\.GITHUB_TOKEN|github\.token", re.I)


def _default_token(value: str | None) -> bool:
    return value is None or bool(_DEFAULT_TOKEN_RE.search(value))


def _env_value(workflow: Workflow, job: Job, step: Step, names: tuple[str, ...]) -> str | None:
    for mapping in (step.env, job.env, workflow.env):
        if mapping is None:
            continue
        for name in names:
            node = mapping.get(name)
            if node is not None:
                return getattr(node, "value", "")
    return None


def _creates_release(workflow: Workflow, job: Job, step: Step) -> str | None:
    """What the step creates with the default token: "a release", "a tag", or None."""
    if step.uses is not None and step.uses.slug in _RELEASE_ACTIONS:
        if is_true(step.input("draft")):
            return None  # a draft starts nothing; whoever publishes it later does
        token = next((step.input(n) for n in _TOKEN_INPUTS if step.input(n)), None)
        if _default_token(token.value if token else None):
            return "a release" if "tag" not in step.uses.slug else "a tag"
        return None
    if step.run is None or ("gh release" not in step.run.value and
                            "git push" not in step.run.value):
        return None
    checkout = next((s for s in job.steps if s.uses and s.uses.is_action("actions/checkout")),
                    None)
    checkout_token = checkout.input_text("token") if checkout else None
    for command in split_commands(step.run.value):
        argv, _ = strip_prefixes(command.argv)
        if argv[:3] == ["gh", "release", "create"] and not {"--draft", "-d"} & set(argv):
            gh_token = _env_value(workflow, job, step, ("GH_TOKEN", "GITHUB_TOKEN"))
            if gh_token is not None and _default_token(gh_token):
                return "a release"
        pushes_tag = argv[:2] == ["git", "push"] and (
            "--tags" in argv or "--follow-tags" in argv or any(
                a.startswith("refs/tags/") or (a.startswith("v") and a[1:2].isdigit())
                for a in argv[2:]))
        if pushes_tag and _default_token(checkout_token):
            return "a tag"
    return None


def _needs_closure(workflow: Workflow, job: Job) -> set[str]:
    """Every job ``job`` waits for, directly or through others (iterative, cycle-safe)."""
    jobs = {j.job_id: j for j in workflow.jobs}
    seen: set[str] = set()
    todo = list(job.needs)
    while todo:
        current = todo.pop()
        if current in seen or current not in jobs:
            continue
        seen.add(current)
        todo.extend(jobs[current].needs)
    return seen


def _same_workflow_miss(ctx: Context, pj: PublishJob, job: Job, trigger: Trigger,
                        made: str) -> bool:
    """In one workflow: a release made by ``job`` on some other event, while the publish job
    runs only on ``release`` and does not wait for ``job`` in the same run. The release event
    that job makes never comes, so the publisher never runs from it."""
    if trigger.event != "release" or made != "a release" or \
            pj.job.job_id == job.job_id or job.job_id in _needs_closure(pj.workflow, pj.job):
        return False
    publish_events = {r.event for r in _reaches(ctx, pj)}
    release_events = {r.event for r in ctx.reaches(pj.workflow, job)}
    return publish_events == {"release"} and bool(release_events - {"release"})


def release_event_not_triggered(ctx: Context) -> Iterator[Problem]:
    listeners = []
    for pj in ctx.publish_jobs:
        for trigger in pj.workflow.triggers:
            tags = trigger.filter_values("tags")
            if trigger.event == "release" or (trigger.event == "push" and tags):
                listeners.append((pj, trigger))
    if not listeners:
        return
    # a release made in another repository of a scanned tree starts none of these
    repositories = {pj.workflow.repository_prefix for pj, _trigger in listeners}
    for workflow in ctx.repo.workflows:
        if workflow.repository_prefix not in repositories:
            continue
        for job in workflow.jobs:
            for step in job.steps:
                made = _creates_release(workflow, job, step)
                if made is None:
                    continue
                for pj, trigger in listeners:
                    if pj.workflow.repository_prefix != workflow.repository_prefix:
                        continue  # another repository of a scanned tree
                    if pj.workflow.path == workflow.path and not _same_workflow_miss(
                            ctx, pj, job, trigger, made):
                        continue
                    if trigger.event == "release" and made != "a release":
                        continue  # a pushed tag creates no release event
                    yield Problem(
                        step.anchor,
                        f"This step creates {made} with the default `GITHUB_TOKEN`, and "
                        f"`{pj.workflow.file_name}` publishes on `{trigger.event}`"
                        + (" (this same workflow, whose publish job does not wait for this "
                           "one)" if pj.workflow.path == workflow.path else "")
                        + ": events made "
                        "with `GITHUB_TOKEN` start no workflow run, so the release is created "
                        "and nothing is published. Publish from a job in this workflow that "
                        "runs after the release is made (gated on its output), or create the "
                        "release with a GitHub App token.",
                        (("publishing workflow's trigger", trigger.anchor),))
                    break


# Events a fork runs on its own once its owner enables Actions: pushes (a fork owner's tags
# and branches) and schedules. Pull requests, releases and manual runs have other rules.
_FORK_EVENTS = ("push", "schedule")


def publish_without_repository_guard(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        if pj.workflow.is_composite:
            continue
        # Trusted publishing in a fork just fails: PyPI's publisher names this repository.
        # A long-lived token is what a fork can still use (a secret of the same name).
        token_steps = [s for s in pj.steps if any(c.origin == "static" for c in s.secrets)]
        if not token_steps:
            continue
        reaches = [r for r in _reaches(ctx, pj, token_steps, fork=True)
                   if r.event in _FORK_EVENTS and r.undecided is None]
        if not reaches:
            continue
        first = reaches[0]
        events = ", ".join(dict.fromkeys(f"`{r.event}`" for r in reaches))
        secret = next(c for c in token_steps[0].secrets if c.origin == "static")
        origin = ctx.identity.origin
        slug = f"{origin.owner}/{origin.repository}" if origin else "OWNER/REPOSITORY"
        yield Problem(
            pj.job.anchor,
            f"{pj.job.label} uploads with a long-lived credential (`{secret.name}`) and also "
            f"runs in forks of this repository, on {events}: there the secret is the fork's "
            "own, or empty, so every such run in a fork fails, or uploads with whatever token "
            "the fork's owner stored. Guard the job with "
            f"`if: github.repository == '{slug}'`.",
            (("the upload", token_steps[0].anchor), ("trigger", first.trigger.anchor)))
