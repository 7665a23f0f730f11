"""Permissions: the OIDC token a trusted-publishing job needs, and who else gets one."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from auditor.checks.findings import FixHint, Problem
from auditor.checks.fixes import id_token_ops, move_id_token
from auditor.facts.context import Context, EffectivePermissions, PublishJob
from auditor.github.model import Job, Permissions, Workflow
from auditor.reading.source import Anchor
from auditor.upload.publish import PublishStep
from auditor.upload.scope import index_scope

NEEDS_PYPI_TOKEN = frozenset({"gh-action-pypi-publish", "twine", "uv", "pdm", "maturin"})

# Actions that use the job's OIDC token for something other than PyPI.
OIDC_CONSUMERS = frozenset({
    "aws-actions/configure-aws-credentials", "google-github-actions/auth", "azure/login",
    "actions/attest-build-provenance", "actions/attest", "actions/attest-sbom",
    "sigstore/gh-action-sigstore-python", "sigstore/cosign-installer",
    "rust-lang/crates-io-auth-action", "rubygems/release-gem",
    "rubygems/configure-rubygems-credentials", "hashicorp/vault-action", "octo-sts/action",
    "pypa/gh-action-pypi-publish", "pyo3/maturin-action", "nuget/login",
    "slsa-framework/slsa-github-generator", "docker/login-action", "jfrog/setup-jfrog-cli",
    "cloudflare/wrangler-action", "codecov/codecov-action", "azure/cli",
    "anthropics/claude-code-action", "google-github-actions/deploy-cloudrun",
    "hynek/build-and-inspect-python-package", "ossf/scorecard-action",
    "depot/build-push-action", "depot/setup-action", "depot/bake-action",
    "aws-actions/amazon-ecr-login", "pulumi/auth-actions", "tailscale/github-action",
})
_OIDC_RUN_MARKERS = ("ACTIONS_ID_TOKEN_REQUEST", "-m id ", "cosign sign", "cosign attest",
                     "gh attestation", "--provenance", "sigstore sign", "npm publish",
                     "python -m sigstore", "az login", "gcloud auth", "vault login",
                     "id-token", "oidc", "OIDC")


def needs_pypi_token(step: PublishStep) -> bool:
    """The upload (or the exchange step that mints its token) needs the job's OIDC token."""
    return (step.method in NEEDS_PYPI_TOKEN or bool(step.minted)) and step.trusted_publishing


def _id_token_node_anchor(block: Permissions) -> Anchor:
    node = block.scope_nodes.get("id-token")
    return block.anchor.child("id-token", node=node) if node is not None else block.anchor


def _effective_for_callee(ctx: Context, pj: PublishJob) -> EffectivePermissions | None:
    """Callee jobs without any block inherit the caller's token: decided by the caller."""
    perms = ctx.effective_permissions(pj.workflow, pj.job)
    if perms.block is None and pj.workflow.is_reusable:
        return None
    return perms


def missing_id_token(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.publish_jobs:
        steps = [s for s in pj.steps if needs_pypi_token(s)]
        if not steps:
            continue
        perms = _effective_for_callee(ctx, pj)
        if perms is None or perms.id_token or (
                perms.block is not None and perms.block.kind == "expression"):
            continue
        first = steps[0]
        scope = index_scope(first.index)
        if scope is None:
            continue
        what = ("PyPI" if first.index != "testpypi" else "TestPyPI")
        tool = {"gh-action-pypi-publish": "pypa/gh-action-pypi-publish"}.get(first.method,
                                                                               first.method)
        if first.minted:
            tool = "the step that mints the upload token"
        related: list[tuple[str, Anchor]] = [("the upload that needs the token", first.anchor)]
        fail = (f"{tool} will find no OIDC token (\"ACTIONS_ID_TOKEN_REQUEST_TOKEN environment "
                f"variable was unset\") and the upload to {what} fails")
        if perms.block is None:
            message = (f"{pj.job.label} uploads with trusted publishing but has no "
                       f"`permissions:` block, and the default token has no `id-token`: {fail}."
                       f" Add `permissions: {{id-token: write}}` to this job.")
            anchor = first.anchor
        elif perms.replaced is not None:
            replaced_grants = perms.replaced.grants_id_token
            message = (f"The `permissions:` of {pj.job.label} replaces the workflow-level block"
                       f"{' (which grants `id-token: write`)' if replaced_grants else ''} and "
                       f"does not grant `id-token: write`: {fail}. Add `id-token: write` to "
                       "this job's `permissions:`.")
            anchor = perms.block.anchor
            related.append(("workflow-level permissions replaced by the job's",
                            perms.replaced.anchor))
        elif perms.block.anchor.route[:1] == ("permissions",) and pj.job.permissions is None:
            message = (f"The workflow-level `permissions:` does not grant `id-token: write` and "
                       f"{pj.job.label} has no block of its own: {fail}. Add `permissions: "
                       f"{{id-token: write}}` to {pj.job.label} (job level, not workflow level).")
            anchor = perms.block.anchor
        else:
            message = (f"The `permissions:` of {pj.job.label} does not grant `id-token: write`: "
                       f"{fail}. Add `id-token: write` to it.")
            anchor = perms.block.anchor
        if first.via_step is not None:
            related.append(("the job step that runs the composite action",
                            first.via_step.anchor))
        grant = id_token_ops(ctx, pj.workflow, pj.job)
        fix = FixHint("Grant `id-token: write` to this job", grant[1], grant[0]) \
            if grant is not None else None
        yield Problem(anchor, message + scope.note, tuple(related), fix=fix,
                      undecided=scope.undecided)


def workflow_wide_id_token(ctx: Context) -> Iterator[Problem]:
    publishing = ctx.publishing_workflows()
    for workflow in ctx.repo.workflows:
        block = workflow.permissions
        if block is None or workflow.path not in publishing or not block.grants_id_token:
            continue
        jobs = [j for j in workflow.jobs if j.permissions is None]
        if not jobs:
            continue  # every job replaces the block: nothing inherits it
        names = ", ".join(f"`{j.job_id}`" for j in jobs[:6])
        grant = "`write-all`" if block.kind == "write-all" else "`id-token: write`"
        uploading = {pj.job.job_id for pj in ctx.publish_jobs if pj.workflow is workflow}
        if all(j.job_id in uploading for j in jobs):
            # Today only the jobs that upload inherit it: no other job can mint a token yet,
            # but the next job added to the file will (a latent grant, not an exposure)
            yield Problem(
                _id_token_node_anchor(block),
                f"{grant} at workflow level reaches only the job that uploads ({names}) today, "
                "but every job added to this workflow later inherits it and can mint a PyPI "
                "upload token. Move it into that job's `permissions:` block and leave "
                "`contents: read` here.", severity="low",
                fix=move_id_token(ctx, workflow, jobs))
            continue
        yield Problem(
            _id_token_node_anchor(block),
            f"{grant} at workflow level lets every job without its own `permissions:` "
            f"({names}) mint a PyPI upload token, including build and test jobs that run "
            "third-party code. Remove it here and grant `id-token: write` only in the job that "
            "publishes.", fix=None if any(other_oidc_use(j) for j in jobs
                                          if j.job_id not in uploading)
            else move_id_token(ctx, workflow, [j for j in jobs if j.job_id in uploading]))


_PYPI_OIDC_ACTIONS = frozenset({"pypa/gh-action-pypi-publish", "pyo3/maturin-action"})
_OTHER_OIDC_RUN_MARKERS = ("cosign sign", "cosign attest", "gh attestation", "sigstore sign",
                           "python -m sigstore", "az login", "gcloud auth", "vault login",
                           "npm publish")


def other_oidc_use(job: Job) -> bool:
    """A step of ``job`` uses the OIDC token for something other than PyPI (attestations, a
    cloud login, signing): then ``id-token: write`` says nothing about a PyPI migration."""
    for step in job.steps:
        if step.uses is not None and step.uses.kind != "local":
            name = step.uses.slug
            if name in OIDC_CONSUMERS and name not in _PYPI_OIDC_ACTIONS:
                return True
        if step.run is not None and any(m in step.run.value for m in _OTHER_OIDC_RUN_MARKERS):
            return True
    return False


def _job_uses_oidc(ctx: Context, workflow: Workflow, job: Job) -> bool:
    if job.uses is not None:
        return True  # a reusable-workflow call passes the permission on
    if ctx.steps_of(workflow, job):
        return True
    for step in job.steps:
        if step.uses is not None:
            if step.uses.kind == "local":
                return True  # its content decides; not loaded or not ours to judge
            name = step.uses.slug
            if name in OIDC_CONSUMERS or any(word in name for word in (
                    "oidc", "attest", "sigstore", "cosign", "login", "auth", "credential",
                    "provenance", "publish", "deploy", "release")):
                return True
        if step.run is not None and any(m in step.run.value for m in _OIDC_RUN_MARKERS):
            return True
    return False


def unused_id_token(ctx: Context) -> Iterator[Problem]:
    allow = ctx.config.option("unused-id-token", "allow-jobs")
    patterns = [str(p) for p in allow] if isinstance(allow, list) else []
    publishing = ctx.publishing_workflows()
    for workflow in ctx.repo.workflows:
        if workflow.path not in publishing:
            continue  # PyPI matches the workflow file: only this file's jobs can mint for it
        for job in workflow.jobs:
            block = job.permissions
            if block is None or not block.grants_id_token:
                continue
            ident = f"{workflow.file_name}:{job.job_id}"
            if any(fnmatch.fnmatchcase(ident, p) for p in patterns):
                continue
            if _job_uses_oidc(ctx, workflow, job):
                continue
            yield Problem(
                _id_token_node_anchor(block),
                f"{job.label} is granted `id-token: write` but neither publishes nor runs a "
                "known OIDC consumer (cloud login, attestation, signing). It is in the same "
                f"workflow file as the upload, `{workflow.file_name}`, which is what PyPI's "
                "publisher matches: any code this job runs can mint a PyPI upload token. "
                "Remove `id-token: write` from this job, or list it in "
                f"`[tool.pubaudit.rules.unused-id-token] allow-jobs = [\"{ident}\"]` if it "
                "needs the token.")


def caller_denies_id_token(ctx: Context) -> Iterator[Problem]:
    for caller, job, callee in ctx.calls:
        needing = [pj for pj in ctx.publish_jobs_by_workflow.get(callee.path, ())
                   if any(needs_pypi_token(s) for s in pj.steps)]
        if not needing:
            continue
        perms = ctx.effective_permissions(caller, job)
        if perms.id_token or (perms.block is not None and perms.block.kind == "expression"):
            continue
        target = needing[0]
        anchor = job.permissions.anchor if job.permissions is not None else (
            job.anchor.child("uses", node=job.uses_node))
        related: list[tuple[str, Anchor]] = [
            ("the publish job in the called workflow", target.job.anchor)]
        callee_block = ctx.effective_permissions(target.workflow, target.job).block
        if callee_block is not None and callee_block.grants_id_token:
            related.append(("the called job asks for id-token: write",
                            _id_token_node_anchor(callee_block)))
        yield Problem(
            anchor,
            f"{job.label} calls `{callee.file_name}`, whose {target.job.label} publishes with "
            f"trusted publishing, but does not grant `id-token: write`. A called workflow can only "
            "narrow its caller's permissions: the run fails to start (\"The nested job ... is "
            "requesting 'id-token: write', but is only allowed 'id-token: none'\") or the "
            "upload gets no token. Add `permissions: {id-token: write, contents: read}` to "
            f"{job.label}.",
            tuple(related))


def checkout_without_contents_read(ctx: Context) -> Iterator[Problem]:
    reported: set[tuple[str, tuple[str | int, ...]]] = set()
    publishing = ctx.publishing_workflows()
    for workflow in ctx.repo.workflows:
        if workflow.path not in publishing:
            continue  # the release path is what must not break; other workflows are hygiene
        for job in workflow.jobs:
            checkout = next((s for s in job.steps if s.uses and
                             s.uses.is_action("actions/checkout")), None)
            if checkout is None:
                continue
            block = ctx.effective_permissions(workflow, job).block
            if block is None or block.kind != "map" or block.level("contents") != "none":
                continue
            key = (workflow.path, block.anchor.route)
            if key in reported:
                continue
            reported.add(key)
            granted = ", ".join(f"`{k}: {v}`" for k, v in block.scopes.items())
            granted = f"grants only {granted}" if granted else "grants nothing"
            yield Problem(
                block.anchor,
                f"This `permissions:` block {granted}, so `contents` becomes `none` "
                f"for {job.label}, which runs `actions/checkout`: on a private or internal "
                "repository the checkout fails (\"Repository not found\"). Add "
                "`contents: read` to the block.",
                (("checkout step", checkout.anchor.child("uses", node=checkout.uses_node)),))
