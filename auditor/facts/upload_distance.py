"""How close each job of a publishing workflow stands to the upload.

Code that a moved tag swaps in is as dangerous as what the job running it can reach. A job
that holds the upload credential (it runs the upload, or may mint an OIDC token) hands that
credential to every action it runs; a job whose artifacts the upload job downloads decides
what gets uploaded; any other job (tests, lint, benchmarks) shares neither.
"""

from __future__ import annotations

from auditor.facts.context import Context
from auditor.github.model import Job, Workflow
from auditor.output.records import record

CREDENTIAL = "credential"
FEEDS = "feeds"
APART = "apart"


@record
class Distance:
    """A job's place relative to the upload, and the words that say why."""

    kind: str  # CREDENTIAL | FEEDS | APART
    reason: str  # "runs in job 'publish', which runs the upload with `id-token: write`", ...


def _uploads_artifacts(job: Job) -> bool:
    return any(step.uses is not None and step.uses.kind == "remote"
               and step.uses.repo.lower() == "upload-artifact" for step in job.steps)


def _upload_jobs(ctx: Context, workflow: Workflow) -> list[Job]:
    """Jobs of ``workflow`` that upload, or call a local workflow that does: their
    ``needs`` are what the upload consumes."""
    publishing = ctx.publishing_workflows()
    direct = {pj.job.job_id for pj in ctx.publish_jobs_by_workflow.get(workflow.path, ())}
    callers = {job.job_id for caller, job, callee in ctx.calls
               if caller.path == workflow.path and callee.path in publishing}
    return [job for job in workflow.jobs if job.job_id in direct | callers]


def _credential_reason(ctx: Context, workflow: Workflow, job: Job, uploads: bool) -> str | None:
    id_token = ctx.effective_permissions(workflow, job).id_token
    if uploads:
        return f"runs in {job.label}, which runs the upload" + (
            " with `id-token: write`" if id_token else "")
    if id_token:
        return (f"runs in {job.label}, which has `id-token: write`: unless the trusted "
                "publisher requires an environment this job lacks, the OIDC token it can mint "
                "is exchangeable for an upload token")
    return None


def upload_distance(ctx: Context, workflow: Workflow) -> dict[str, Distance]:
    """Each job id of ``workflow`` with its distance from the upload."""
    jobs = {job.job_id: job for job in workflow.jobs}
    publishing_ids = {pj.job.job_id
                      for pj in ctx.publish_jobs_by_workflow.get(workflow.path, ())}
    consumers: dict[str, str] = {}  # needed job id -> the upload job that consumes it
    for upload in _upload_jobs(ctx, workflow):
        pending = list(upload.needs)
        while pending:
            needed = pending.pop()
            if needed in consumers or needed not in jobs:
                continue
            consumers[needed] = upload.job_id
            pending.extend(jobs[needed].needs)
    out: dict[str, Distance] = {}
    for job in workflow.jobs:
        reason = _credential_reason(ctx, workflow, job, job.job_id in publishing_ids)
        if reason is not None:
            out[job.job_id] = Distance(CREDENTIAL, reason)
        elif job.job_id in consumers and _uploads_artifacts(job):
            out[job.job_id] = Distance(
                FEEDS, f"runs in {job.label}, whose artifacts job {consumers[job.job_id]!r} "
                "uploads")
        else:
            out[job.job_id] = Distance(APART, f"runs in {job.label}, which shares no "
                                       "credential or artifact with the upload")
    return out
