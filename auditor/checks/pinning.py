"""Pinning: what code runs in publishing workflows, and whether the pin can work."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from auditor.checks.findings import FixHint, Problem
from auditor.facts.context import Context
from auditor.facts.upload_distance import APART, CREDENTIAL, upload_distance
from auditor.github.model import ActionRef, Step, Workflow
from auditor.github.releases import Release, parse_version, release_table
from auditor.reading.edits import EditOp, ReplaceScalar, SetComment
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Scalar
from auditor.upload.publish import PYPI_ACTION


def _uses_in_publishing_workflows(ctx: Context) -> Iterator[tuple[ActionRef, Anchor, Step | None]]:
    publishing = ctx.publishing_workflows()
    for workflow in ctx.repo.workflows:
        if workflow.path not in publishing:
            continue
        for job in workflow.jobs:
            if job.uses is not None and job.uses_node is not None:
                yield job.uses, job.anchor.child("uses", node=job.uses_node), None
            for step in job.steps:
                if step.uses is not None and step.uses_node is not None:
                    yield step.uses, step.anchor.child("uses", node=step.uses_node), step


def _pypa_release_for_ref(ref: str) -> Release | None:
    """The release a tag or branch of the pypi action resolves to, when the table knows."""
    table = release_table()
    if ref in ("release/v1", "v1", "master", "main", "unstable/v1"):
        return table.newest
    version = parse_version(ref.removeprefix("release/"))
    if version is None:
        return None
    exact = table.by_tag(ref.removeprefix("release/"))
    if exact is not None and ref.count(".") == 2:
        return exact
    newest_in_series = [r for r in table.releases
                        if r.version[: ref.count(".") + 1] == version[: ref.count(".") + 1]]
    return max(newest_in_series, key=lambda r: r.version) if newest_in_series else exact


def _pin_text(ref: ActionRef, release: Release) -> str:
    name = ref.raw.split("@")[0]
    return f"{name}@{release.commit} # {release.tag}"


def _pin_ops(ref: ActionRef, anchor: Anchor, release: Release) -> tuple[EditOp, ...]:
    """The `uses:` value pinned to the release commit, with the tag as its comment."""
    return (ReplaceScalar(anchor, f"{ref.raw.split('@')[0]}@{release.commit}"),
            SetComment(anchor, release.tag))


# Owners whose movable refs weigh less next to the upload credential: GitHub's own `actions/`
# (GitHub already runs the runner and issues the token) and the upload action, which receives
# the credential whichever way it is pinned. Both still fire; see rules/unpinned-action.toml.
_FIRST_PARTY = ("actions/", PYPI_ACTION + "/")


def _malformed_sha(ref: str) -> bool:
    """A ref that looks like a SHA but is not 40 characters: GitHub cannot resolve it.

    Longer than 40 hex digits is no object name at all; shorter, with a letter among the
    digits, GitHub reads as a shortened SHA and refuses ("the provided ref ... is the
    shortened version of a commit SHA, which is not supported"). All-digit refs such as
    `20240101` stay plausible tags.
    """
    value = ref.lower()
    if len(value) == 40 or len(value) < 7 or value.strip("0123456789abcdef"):
        return False
    return len(value) > 40 or any(c in "abcdef" for c in value)


def _malformed_problem(ref: ActionRef, anchor: Anchor) -> Problem:
    length = len(ref.ref)
    shape = (f"{length} hexadecimal characters, more than a commit SHA has" if length > 40
             else f"a shortened commit SHA ({length} of 40 characters)")
    return Problem(
        anchor,
        f"`{ref.raw}` pins {shape}: GitHub cannot resolve it (\"Unable to resolve action\"), "
        "so the run fails before any step runs and nothing is published. Pin the full "
        f"40-character commit SHA with the version as a comment: "
        f"`{ref.raw.split('@')[0]}@<commit-sha> # vX.Y.Z`.", severity="high")


def _movable_message(ref: ActionRef) -> tuple[str, str | None, FixHint | None, Release | None]:
    """What a movable pin of ``ref`` risks; (message, severity, fix, release)."""
    if not ref.is_action(PYPI_ACTION):
        kind = "branch" if not parse_version(ref.ref or "x") else "tag"
        return (f"`{ref.raw}` is pinned to a {kind}, which can be moved to other code", None,
                None, None)
    release = _pypa_release_for_ref(ref.ref)
    pin = (f"`{_pin_text(ref, release)}`" if release else
           "the full commit SHA of the release with a `# vX.Y.Z` comment")
    if ref.ref in ("master", "main"):
        return (f"`{ref.raw}` follows the sunset `master` branch of the pypi action: it "
                "receives no fixes (not even security ones) and its old twine rejects current "
                f"metadata. Pin the release commit: {pin}.", "high", None, release)
    return (f"`{ref.raw}` follows a movable ref: whoever moves it decides what runs with your "
            f"upload token. Pin the release's commit SHA (not the tag object's): {pin}.", None,
            None, release)


def _allowed(ref: ActionRef, patterns: list[str]) -> bool:
    name = ref.raw.split("@")[0].lower() if ref.kind == "remote" else ref.raw.lower()
    return any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(ref.slug, p)
               for p in patterns)


def unpinned_action(ctx: Context) -> Iterator[Problem]:
    allow = ctx.config.option("unpinned-action", "allow")
    patterns = [str(p).lower() for p in allow] if isinstance(allow, list) else []
    publishing = ctx.publishing_workflows()
    for workflow in ctx.repo.workflows:
        if workflow.path not in publishing:
            continue
        distance = upload_distance(ctx, workflow)
        apart: list[tuple[ActionRef, Anchor, str]] = []
        for ref, anchor, job_id in _uses_of(workflow):
            if ref.kind == "local" or ref.is_sha_pinned or _allowed(ref, patterns):
                continue
            if ref.kind == "docker":
                yield Problem(anchor, f"`{ref.raw}` names a Docker image by tag: whoever can "
                              "push that tag decides what runs in this publishing workflow. "
                              "Pin it by digest: `docker://image@sha256:<digest>`.")
                continue
            if ref.kind == "remote" and _malformed_sha(ref.ref):
                yield _malformed_problem(ref, anchor)
                continue
            where = distance[job_id]
            if where.kind == APART and not ref.is_action(PYPI_ACTION):
                apart.append((ref, anchor, where.reason))
                continue
            yield _near_problem(ref, anchor, where.kind == CREDENTIAL, where.reason)
        if apart:
            yield _grouped_problem(apart)


def _uses_of(workflow: Workflow) -> Iterator[tuple[ActionRef, Anchor, str]]:
    """Every ``uses:`` of ``workflow``, with the id of the job it runs in."""
    for job in workflow.jobs:
        if job.uses is not None and job.uses_node is not None:
            yield job.uses, job.anchor.child("uses", node=job.uses_node), job.job_id
        for step in job.steps:
            if step.uses is not None and step.uses_node is not None:
                yield step.uses, step.anchor.child("uses", node=step.uses_node), job.job_id


def _near_problem(ref: ActionRef, anchor: Anchor, holds_credential: bool,
                  reason: str) -> Problem:
    """A movable ref in the job that holds the credential, or in one that feeds the upload."""
    message, severity, _fix, release = _movable_message(ref)
    first_party = ref.full_name.startswith(_FIRST_PARTY) or ref.slug == PYPI_ACTION
    if severity is None:
        severity = "high" if holds_credential and not first_party else "medium"
    if not ref.is_action(PYPI_ACTION):
        stake = ("so whoever moves the tag runs code next to the upload credential"
                 if holds_credential else
                 "so whoever moves it can change the files that get uploaded")
        message = (f"{message}. It {reason}, {stake}. Pin the full 40-character commit SHA "
                   f"with the version as a comment: "
                   f"`{ref.raw.split('@')[0]}@<commit-sha> # {ref.ref or 'vX.Y.Z'}`.")
    else:
        message = f"{message} It {reason}."
    fix = None
    if release is not None and isinstance(anchor.node, Scalar):
        # An exact tag names its commit: pinning it changes nothing that runs. A moving ref
        # (`release/v1`, `master`) makes pubaudit choose a release: unsafe, for review.
        exact = (ref.ref or "").removeprefix("release/") == release.tag
        fix = FixHint(f"Pin {release.tag} by its commit SHA" if exact else
                      f"Pin the newest known release, {release.tag}, by its commit SHA "
                      f"(`{ref.ref}` moves; this chooses a version)", exact,
                      _pin_ops(ref, anchor, release))
    return Problem(anchor, message, fix=fix, severity=severity)


def _grouped_problem(apart: list[tuple[ActionRef, Anchor, str]]) -> Problem:
    """One low finding per workflow for movable refs in jobs the upload does not depend on."""
    (ref, anchor, reason), others = apart[0], apart[1:]
    related = tuple((f"also movable: `{r.raw}` ({why.removeprefix('runs in ').split(',')[0]})",
                     a) for r, a, why in others)
    subject = (f"`{ref.raw}` and {len(others)} other `uses:` in jobs that share nothing with "
               "the upload (the related locations) are" if others else f"`{ref.raw}` is")
    return Problem(
        anchor,
        f"{subject} pinned to tags or branches, which can be moved to other code. The first "
        f"{reason}: a moved tag there reaches neither the upload token nor the uploaded "
        "files, but it runs in a workflow that publishes, and a later `needs:` or artifact "
        "would change that. Pin each to its full 40-character commit SHA with the version as "
        f"a comment, e.g. `{ref.raw.split('@')[0]}@<commit-sha> # {ref.ref or 'vX.Y.Z'}`.",
        related, severity="low")


def tag_object_pin(ctx: Context) -> Iterator[Problem]:
    table = release_table()
    for ref, anchor, _step in _uses_in_publishing_workflows(ctx):
        if not ref.is_action(PYPI_ACTION) or not ref.is_sha_pinned:
            continue
        release = table.by_tag_object(ref.ref)
        if release is None:
            continue
        fix = FixHint(f"Pin the commit of {release.tag}, not its tag object", True,
                      _pin_ops(ref, anchor, release)) \
            if isinstance(anchor.node, Scalar) else None
        yield Problem(
            anchor,
            f"`{ref.ref}` is the SHA of the annotated tag object {release.tag}, not of its "
            f"commit: the action looks for a container image named after the SHA and the run "
            f"fails with \"docker: Error response from daemon: manifest unknown\". Pin the "
            f"commit instead: `{_pin_text(ref, release)}`.", fix=fix)


def pin_without_version(ctx: Context) -> Iterator[Problem]:
    table = release_table()
    for ref, anchor, _step in _uses_in_publishing_workflows(ctx):
        if ref.kind != "remote" or not ref.is_sha_pinned:
            continue
        comment_version = ref.comment_version
        if ref.is_action(PYPI_ACTION):
            known = table.by_commit(ref.ref) or table.by_tag_object(ref.ref)
            if known is not None and comment_version is not None:
                wanted = parse_version(comment_version)
                if wanted is not None and wanted[: comment_version.count(".") + 1] != \
                        known.version[: comment_version.count(".") + 1]:
                    yield Problem(
                        anchor,
                        f"The comment says {comment_version} but `{ref.ref[:12]}…` is "
                        f"{known.tag}: reviewers and Dependabot read the comment. Make the "
                        f"comment `# {known.tag}`, or pin the commit of {comment_version}.")
                continue
            if known is None and comment_version is not None:
                claimed = table.by_tag(comment_version)
                if claimed is not None and comment_version.count(".") == 2:
                    yield Problem(
                        anchor,
                        f"The comment says {comment_version}, whose commit is "
                        f"`{claimed.commit}`, but the pin is `{ref.ref}`: either the comment "
                        f"is stale or the SHA is not that release (if it is the release's tag "
                        f"object, the run fails with \"manifest unknown\"). Pin "
                        f"`{_pin_text(ref, claimed)}`.", severity="medium")
                continue
        if comment_version is not None:
            continue
        known = table.by_commit(ref.ref) if ref.is_action(PYPI_ACTION) else None
        suggestion = f"`# {known.tag}`" if known else "the version, e.g. `# v4.2.2`"
        yield Problem(
            anchor,
            f"`{ref.slug}` is pinned to a SHA with no version comment: reviewers cannot tell "
            f"which release runs, and Dependabot cannot keep the comment current. Add "
            f"{suggestion} after the SHA on the same line.")


def outdated_publish_action(ctx: Context) -> Iterator[Problem]:
    table = release_table()
    newest = table.newest
    needs_24 = bool(ctx.repo.project and ctx.repo.project.needs_metadata_2_4)
    for ref, anchor, _step in _uses_in_publishing_workflows(ctx):
        if not ref.is_action(PYPI_ACTION):
            continue
        if ref.is_sha_pinned:
            release = table.by_commit(ref.ref) or table.by_tag_object(ref.ref)
            version = release.version if release else (
                parse_version(ref.comment_version) if ref.comment_version else None)
        elif ref.ref in ("master", "main"):
            continue  # unpinned-action reports the sunset branch
        else:
            version = parse_version(ref.ref.removeprefix("release/"))
            if ref.ref in ("release/v1", "v1") or (version and version[1] == 0 and
                                                     ref.ref.count(".") == 0):
                continue  # floats to the newest release
        if version is None:
            continue
        shown = "v" + ".".join(str(v) for v in version)
        pin = _pin_text(ref, newest)
        if needs_24 and version < (1, 12, 0):
            project = ctx.repo.project
            yield Problem(
                anchor,
                f"The pinned pypi action {shown} bundles a twine that predates Metadata-Version "
                "2.4, but `pyproject.toml` declares the license as an SPDX expression or "
                "`license-files`: the upload fails with \"InvalidDistribution: Invalid "
                f"distribution metadata\". Update to `{pin}` (v1.12 or newer is required).",
                (("license metadata that needs Metadata-Version 2.4",
                  Anchor(project.source.path, ("project", "license"))),) if project else ())
            continue
        if version < (newest.version[0], newest.version[1] - 1, 0):
            yield Problem(
                anchor,
                f"The pinned pypi action {shown} is more than one minor release behind "
                f"{newest.tag}: it misses fixes for newer metadata, attestations and PyPI "
                f"changes, and uploads may fail once build backends move on. Update to `{pin}`.")
