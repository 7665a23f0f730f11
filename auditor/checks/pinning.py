"""Pinning: what code runs in publishing workflows, and whether the pin can work."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from auditor.facts import Context
from auditor.findings import FixHint, Problem
from auditor.model import ActionRef, Step
from auditor.publish import PYPI_ACTION
from auditor.releases import Release, parse_version, release_table
from auditor.source import Anchor
from auditor.yamlsource import Scalar


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


def unpinned_action(ctx: Context) -> Iterator[Problem]:
    allow = ctx.config.option("unpinned-action", "allow")
    patterns = [str(p).lower() for p in allow] if isinstance(allow, list) else []
    for ref, anchor, _step in _uses_in_publishing_workflows(ctx):
        if ref.kind == "local" or ref.is_sha_pinned:
            continue
        name = ref.raw.split("@")[0].lower() if ref.kind == "remote" else ref.raw.lower()
        if any(fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(ref.slug, p)
               for p in patterns):
            continue
        if ref.kind == "docker":
            yield Problem(anchor, f"`{ref.raw}` names a Docker image by tag: whoever can push "
                          "that tag decides what runs in this publishing workflow. Pin it by "
                          "digest: `docker://image@sha256:<digest>`.")
            continue
        severity = None
        fix = None
        if ref.is_action(PYPI_ACTION):
            release = _pypa_release_for_ref(ref.ref)
            pin = (f"`{_pin_text(ref, release)}`" if release else
                   "the full commit SHA of the release with a `# vX.Y.Z` comment")
            if ref.ref in ("master", "main"):
                severity = "high"
                message = (f"`{ref.raw}` follows the sunset `master` branch of the pypi action: "
                           "it receives no fixes (not even security ones) and its old twine "
                           f"rejects current metadata. Pin the release commit: {pin}.")
            else:
                message = (f"`{ref.raw}` follows a movable ref: whoever moves it decides what "
                           f"runs with your upload token. Pin the release's commit SHA (not the "
                           f"tag object's): {pin}.")
            if release is not None and isinstance(anchor.node, Scalar):
                fix = FixHint(f"Pin to {release.tag}", True, anchor,
                              f"{ref.raw.split('@')[0]}@{release.commit} # {release.tag}")
        else:
            kind = "branch" if not parse_version(ref.ref or "x") else "tag"
            message = (f"`{ref.raw}` is pinned to a {kind}, which can be moved to other code; "
                       "this workflow publishes, so that code runs next to the upload. Pin the "
                       f"full 40-character commit SHA with the version as a comment: "
                       f"`{ref.raw.split('@')[0]}@<commit-sha> # {ref.ref or 'vX.Y.Z'}`.")
        yield Problem(anchor, message, fix=fix, severity=severity)


def tag_object_pin(ctx: Context) -> Iterator[Problem]:
    table = release_table()
    for ref, anchor, _step in _uses_in_publishing_workflows(ctx):
        if not ref.is_action(PYPI_ACTION) or not ref.is_sha_pinned:
            continue
        release = table.by_tag_object(ref.ref)
        if release is None:
            continue
        fix = FixHint(f"Pin the commit of {release.tag}", True, anchor, _pin_text(ref, release)) \
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
                        f"is stale or the SHA is not that release. Pin `{_pin_text(ref, claimed)}`"
                        ".")
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
