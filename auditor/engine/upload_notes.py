"""Say, on every finding about an upload pubaudit found through a wrapper file or could
not see, where the upload is and what pubaudit could not read.

Rules describe a publish step the same way whether its command is in ``run:`` or in the
``tox.ini`` the step runs; the engine adds the wrapper's location (a related location and a
sentence) here, once, and lowers the confidence of findings on an upload pubaudit inferred
from a credential handed to a command it could not read.
"""

from __future__ import annotations

import dataclasses

from auditor.checks.findings import Problem
from auditor.facts.context import Context
from auditor.reading.source import Anchor
from auditor.upload.publish import PublishStep


def _within(anchor: Anchor, scope: Anchor) -> bool:
    return anchor.path == scope.path and anchor.route[:len(scope.route)] == scope.route


def _upload_of(problem: Problem, uploads: list[PublishStep],
               by_job: dict[tuple[str, str], list[PublishStep]]) -> PublishStep | None:
    """The wrapped or unseen upload a problem is about: its step (or command) holds the
    problem's location or a related one, or the problem is on a job whose only uploads
    are such."""
    anchors = (problem.anchor, *(a for _, a in problem.related))
    for publish in uploads:
        if any(_within(a, publish.step.anchor) for a in anchors):
            return publish
    for publish in uploads:
        if _within(problem.anchor, publish.job.anchor) and all(
                p.wrapper is not None or p.unseen is not None
                for p in by_job[(publish.workflow.path, publish.job.job_id)]):
            return publish
    return None


def _command(argv: tuple[str, ...]) -> str:
    """The upload command as a reader knows it: ``twine upload``, ``python -m twine
    upload``, ``uv publish``."""
    head = 4 if len(argv) > 2 and argv[1] == "-m" else 2
    return " ".join(argv[:head])


def _gitlab_wrapper(problem: Problem, ctx: Context) -> Problem | None:
    """A GitLab finding about an upload a script line makes through a repository file
    (``make publish``): the same sentence and related location as on GitHub."""
    anchors = (problem.anchor, *(a for _, a in problem.related))
    for pj in ctx.gitlab_publish_jobs:
        for step in pj.steps:
            if step.wrapper is None or not any(a == step.anchor for a in anchors):
                continue
            line = step.wrapper.span[0] + 1 if step.wrapper.span else 1
            return dataclasses.replace(
                problem,
                message=f"{problem.message} The upload is `{_command(step.argv)}` in "
                        f"{step.wrapper.path}:{line}, which the job runs through "
                        f"`{step.wrapper_label}`.",
                related=(*problem.related,
                         (f"the upload inside `{step.wrapper_label}`", step.wrapper)))
    return None


def annotate(problem: Problem, ctx: Context) -> Problem:
    """``problem`` with the wrapper location of the upload it is about, if any."""
    if ctx.repo.pipelines:
        gitlab = _gitlab_wrapper(problem, ctx)
        if gitlab is not None:
            return gitlab
    uploads = ctx.hidden_uploads
    if not uploads:
        return problem
    publish = _upload_of(problem, uploads, ctx.uploads_by_job)
    if publish is None:
        return problem
    if publish.unseen is not None:
        return dataclasses.replace(
            problem, undecided=True,
            message=f"{problem.message} pubaudit inferred this upload from the credential: "
                    f"{publish.unseen}.")
    assert publish.wrapper is not None
    command = _command(publish.argv)
    return dataclasses.replace(
        problem,
        message=f"{problem.message} The upload is `{command}` in {publish.via}, which the "
                f"step runs through `{publish.wrapper_label}`.",
        related=(*problem.related,
                 (f"the upload inside `{publish.wrapper_label}`", publish.wrapper)))
