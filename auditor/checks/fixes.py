"""Fix operations shared by several rules: granting `id-token: write` to a job and taking a
long-lived credential out of an upload.

Each builder returns the operations and whether they are safe (they change nothing but
what the finding is about) or not (they change how the job authenticates or what it may
do); ``None`` when pubaudit knows no edit it could defend, and then the finding keeps its
advice in words. Dispositions follow docs/fix.md.
"""

from __future__ import annotations

from auditor.checks.findings import FixHint
from auditor.facts.context import Context
from auditor.github.model import Job, Step, Workflow
from auditor.github.refs import secret_refs
from auditor.reading.edits import EditOp, InsertKey, RemoveKey, RenameKey
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Mapping, Scalar
from auditor.upload.publish import Credential, PublishStep

# Where a new job key goes: right after `runs-on:` (or what usually precedes the steps).
_JOB_KEY_AFTER = ("runs-on", "needs", "if", "name")
_JOB_KEY_BEFORE = ("steps", "uses", "with", "secrets")


def id_token_ops(ctx: Context, workflow: Workflow, job: Job
                 ) -> tuple[tuple[EditOp, ...], bool] | None:
    """Grant ``id-token: write`` to ``job``: into its own block (safe); as a new job block
    that copies the workflow's grants it relied on (safe: the same scopes plus one); as a
    new block where neither exists (unsafe: the repository's default grants, which the job
    may use, are replaced by `contents: read`)."""
    perms = ctx.effective_permissions(workflow, job)
    job_anchor = Anchor(workflow.path, job.anchor.route, node=job.node)
    own = job.node.get("permissions")
    if job.permissions is not None:
        if job.permissions.kind != "map" or not isinstance(own, Mapping) or not own.pairs:
            return None  # read-all/write-all/{} or an expression: a person decides
        return (InsertKey(Anchor(workflow.path, (*job.anchor.route, "permissions"),
                                 node=own), "id-token", "write"),), True
    top = workflow.anchor.node.get("permissions") if isinstance(workflow.anchor.node,
                                                                  Mapping) else None
    if perms.block is not None and perms.block.kind == "map" and isinstance(top, Mapping):
        lines = [f"{key.value}: {value.value}" for key, value in top.pairs
                 if isinstance(value, Scalar) and key.value != "id-token"]
        return (InsertKey(job_anchor, "permissions", "\n".join([*lines, "id-token: write"]),
                          after=_JOB_KEY_AFTER, before=_JOB_KEY_BEFORE),), True
    if perms.block is None:
        return (InsertKey(job_anchor, "permissions", "contents: read\nid-token: write",
                          after=_JOB_KEY_AFTER, before=_JOB_KEY_BEFORE),), False
    return None


def _owner(step: PublishStep, credential: Credential) -> tuple[Mapping | None, Anchor]:
    """The mapping that holds ``credential`` and the anchor of the node that owns it."""
    workflow, job, s = step.workflow, step.job, step.step
    if credential.where == "input":
        return s.with_, Anchor(workflow.path, s.anchor.route, node=s.node)
    if credential.where == "step env":
        return s.env, Anchor(workflow.path, s.anchor.route, node=s.node)
    if credential.where == "job env":
        return job.env, Anchor(workflow.path, job.anchor.route, node=job.node)
    if credential.where == "workflow env":
        return workflow.env, Anchor(workflow.path, (), node=workflow.anchor.node)
    return None, Anchor(workflow.path, ())


# What a migrated upload reports until its publisher is declared or registered: the
# checklist's first step, not a fault of the edit.
REGISTRATION_RULES = ("undeclared-publisher", "publisher-missing-for-index",
                      "publisher-workflow-mismatch", "publisher-environment-mismatch",
                      "publisher-repository-mismatch", "publisher-project-mismatch")
_USER_NAMES = ("user", "username", "TWINE_USERNAME", "UV_PUBLISH_USERNAME",
               "PDM_PUBLISH_USERNAME")


def token_removal(ctx: Context, step: PublishStep) -> FixHint | None:
    """Remove the upload's stored credentials (and the user name and `attestations: false`
    that go with them) and grant `id-token: write` if the job lacks it: the migration to
    trusted publishing. Always unsafe: until a publisher is registered on PyPI the upload
    fails, so it is applied only with ``--unsafe`` and ends with the checklist."""
    if step.method not in ("gh-action-pypi-publish", "twine", "pdm") or not step.secrets:
        return None
    ops: list[EditOp] = []
    doomed: dict[int, tuple[Mapping, Anchor, str, list[str]]] = {}
    for credential in step.secrets:
        if credential.origin != "static":
            continue
        mapping, owner = _owner(step, credential)
        if mapping is None:
            return None  # on the command line: an edit inside a shell string, not automatic
        key = "with" if credential.where == "input" else "env"
        _, _, _, names = doomed.setdefault(id(mapping), (mapping, owner, key, []))
        extra = [n for n in _USER_NAMES if n in mapping.index]
        if credential.where == "input" and "attestations" in mapping.index:
            extra.append("attestations")
        names.extend(n for n in (credential.name, *extra) if n not in names)
    for mapping, owner, key, names in doomed.values():
        if {k.value for k, _ in mapping.pairs} <= set(names):
            # nothing else is left: the whole `with:`/`env:` goes
            ops.append(RemoveKey(owner, key))
            continue
        where = Anchor(owner.path, (*owner.route, key), node=mapping)
        ops.extend(RemoveKey(where, name) for name in names if name in mapping.index)
    if not ops:
        return None
    if not ctx.effective_permissions(step.workflow, step.job).id_token:
        grant = id_token_ops(ctx, step.workflow, step.job)
        if grant is None:
            return None
        ops.extend(grant[0])
    retired = tuple(dict.fromkeys(
        (name, step.index) for credential in step.secrets if credential.origin == "static"
        for name in secret_refs(credential.value)))
    return FixHint("Remove the stored token and publish with trusted publishing", False,
                   tuple(ops), retires=retired, expects=REGISTRATION_RULES)


def _with_anchor(step: Step, workflow_path: str) -> Anchor:
    return Anchor(workflow_path, (*step.anchor.route, "with"), node=step.with_)


def _step_anchor(step: Step, workflow_path: str) -> Anchor:
    return Anchor(workflow_path, step.anchor.route, node=step.node)


def remove_input(step: Step, workflow_path: str, name: str, title: str, safe: bool
                 ) -> FixHint | None:
    """Remove the input ``name`` (and ``with:`` when it was the only one)."""
    if step.with_ is None or name not in step.with_.index:
        return None
    return FixHint(title, safe, (RemoveKey(_with_anchor(step, workflow_path), name,
                                           _step_anchor(step, workflow_path), "with"),))


def rename_input(step: Step, workflow_path: str, old: str, new: str) -> FixHint | None:
    """Rename a deprecated input to its kebab-case spelling, or drop it when both are set
    (the action reads the kebab-case one first, so that value already wins): safe."""
    if step.with_ is None or old not in step.with_.keys:
        return None
    if new in step.with_.index:
        return remove_input(step, workflow_path, old, f"Remove `{old}`: `{new}` is set and wins",
                            True)
    key = Anchor(workflow_path, (*step.anchor.route, "with", old), node=step.with_.keys[old])
    return FixHint(f"Rename `{old}` to `{new}`", True, (RenameKey(key, new),))


def checkout_credentials(step: Step, workflow_path: str) -> FixHint:
    """`persist-credentials: false` on a checkout step: unsafe, because a later step that
    pushes a tag or calls `gh` relies on the stored token."""
    return FixHint("Set `persist-credentials: false` on the checkout", False,
                   (InsertKey(_step_anchor(step, workflow_path), "persist-credentials", "false",
                              child="with"),))


def add_environment(workflow: Workflow, job: Job, name: str) -> FixHint:
    """`environment: <name>` on the publish job: unsafe, because the first run creates the
    environment unprotected and an existing one's branch policy or a publisher registered
    without it may stop matching."""
    return FixHint(f"Add `environment: {name}` to the job", False,
                   (InsertKey(Anchor(workflow.path, job.anchor.route, node=job.node),
                              "environment", name, after=_JOB_KEY_AFTER,
                              before=_JOB_KEY_BEFORE),))


def move_id_token(ctx: Context, workflow: Workflow, jobs: list[Job]) -> FixHint | None:
    """Take `id-token: write` out of the workflow's block (leaving `permissions: {}` when
    nothing else is granted, never deleting the block) and grant it in each job of ``jobs``
    (the uploading ones that inherit it): unsafe, another job may use OIDC for something
    else."""
    block = workflow.permissions
    top = workflow.anchor.node.get("permissions") if isinstance(workflow.anchor.node,
                                                                  Mapping) else None
    if block is None or block.kind != "map" or not isinstance(top, Mapping) or \
            "id-token" not in top.index:
        return None
    root = Anchor(workflow.path, (), node=workflow.anchor.node)
    ops: list[EditOp] = [RemoveKey(Anchor(workflow.path, ("permissions",), node=top),
                                   "id-token", root, "permissions", empty="{}")]
    for job in jobs:
        grant = id_token_ops(ctx, workflow, job)
        if grant is None:
            return None
        ops.extend(grant[0])
    return FixHint("Move `id-token: write` into the job that uploads", False, tuple(ops))
