"""``tag-object-pin`` and ``impostor-commit`` online: what a pinned SHA is in the action's
repository.

For each SHA-pinned remote action of a publishing workflow (each repository and SHA once,
at most :data:`MAX_ACTIONS`): ``git/commits/{sha}`` says whether it is a commit; if not,
``git/tags/{sha}`` whether it is an annotated tag object, peeled to its commit (a pin of a
tag object fails for container actions such as the PyPI one). SHAs the shipped table knows
for ``pypa/gh-action-pypi-publish`` are left to the offline rule.

A commit is then checked to be reachable from the action's own branches or tags, with a
few calls: the tag the version comment names (``git/ref/tags/<tag>``, peeled), a comparison
with the default branch and with that tag, and GitHub's ``branch_commits`` page (the only
call to ``GITHUB_SERVER_URL``, without a token). A commit that page shows on no branch and no
tag is an impostor (a fork's commit served through the parent repository); when the page
cannot be read the result is a notice ("indeterminate"), never a finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.findings import FixHint, Problem
from auditor.engine.notices import Notice
from auditor.github.model import ActionRef
from auditor.github.releases import release_table
from auditor.online.github import seg
from auditor.online.session import Session
from auditor.output.records import record
from auditor.reading.edits import EditOp, ReplaceScalar, SetComment
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Scalar

TAG_OBJECT = "tag-object-pin"
IMPOSTOR = "impostor-commit"
MAX_ACTIONS = 20
_MAX_PEEL = 3
_REACHABLE = ("behind", "identical")


@record
class Pin:
    """One action and SHA, and every ``uses:`` that pins it."""

    ref: ActionRef
    anchors: tuple[Anchor, ...]


@record
class Resolved:
    """What a pinned SHA is: a commit, or a tag object and the commit it tags."""

    kind: str  # "commit" | "tag"
    commit: str
    tag: str | None = None


def pins(session: Session) -> list[Pin]:
    found: dict[tuple[str, str], tuple[ActionRef, list[Anchor]]] = {}
    for workflow in session.publishing_workflows():
        for job in workflow.jobs:
            uses = [(job.uses, job.anchor.child("uses", node=job.uses_node))] \
                if job.uses is not None and job.uses_node is not None else []
            uses += [(s.uses, s.anchor.child("uses", node=s.uses_node)) for s in job.steps
                     if s.uses is not None and s.uses_node is not None]
            for ref, anchor in uses:
                if ref.kind == "remote" and ref.is_sha_pinned:
                    found.setdefault((ref.slug.lower(), ref.ref.lower()), (ref, []))[1].append(
                        anchor)
    return [Pin(ref, tuple(anchors)) for ref, anchors in found.values()]


def _known_offline(ref: ActionRef) -> bool:
    if not ref.is_action("pypa/gh-action-pypi-publish"):
        return False
    table = release_table()
    return table.by_commit(ref.ref) is not None or table.by_tag_object(ref.ref) is not None


def _peel(session: Session, owner: str, name: str, sha: str, rule: str
          ) -> Resolved | None:
    """A tag object's commit (following tags of tags); None when ``sha`` is no tag object."""
    tag_name = None
    current = sha
    for _ in range(_MAX_PEEL):
        found = session.once(("git-tag", owner.lower(), name.lower(), current),
                             lambda c=current: session.github.git_object(
                                 owner, name, "tags", c, rule))
        if not isinstance(found, dict):
            return None
        tag_name = tag_name or (found.get("tag") if isinstance(found.get("tag"), str) else None)
        target = found.get("object")
        if not isinstance(target, dict) or not isinstance(target.get("sha"), str):
            return None
        if target.get("type") == "commit":
            return Resolved("tag", str(target["sha"]), tag_name)
        current = str(target["sha"])
    return None


def resolve(session: Session, pin: Pin, rule: str) -> Resolved | None:
    """What the pinned SHA is, asked once per run for both rules; None: a notice says."""
    ref = pin.ref
    owner, name = ref.owner, ref.repo

    def fetch() -> object:
        commit = session.github.git_object(owner, name, "commits", ref.ref, rule)
        if isinstance(commit, Notice):
            return commit
        if commit is not None:
            return Resolved("commit", ref.ref.lower())
        peeled = _peel(session, owner, name, ref.ref, rule)
        if peeled is not None:
            return peeled
        return Notice(f"`{ref.slug}@{ref.ref[:12]}…` is neither a commit nor a tag object "
                      f"that GitHub shows in {owner}/{name} (a private repository, or a SHA "
                      "that does not exist there)", None, None, rule)

    value = session.once(("pin", ref.slug.lower(), ref.ref.lower()), fetch)
    return value if isinstance(value, Resolved) else None


def _selected(session: Session, rule: str) -> list[Pin]:
    found = [p for p in pins(session) if not _known_offline(p.ref)]
    if len(found) > MAX_ACTIONS:
        session.note(Notice(f"{len(found)} pinned actions in publishing workflows: only the "
                            f"first {MAX_ACTIONS} were checked", None, None, rule))
    return found[:MAX_ACTIONS]


def tag_object_pin(session: Session) -> Iterator[Problem]:
    for pin in _selected(session, TAG_OBJECT):
        resolved = resolve(session, pin, TAG_OBJECT)
        if resolved is None or resolved.kind != "tag":
            continue
        name = pin.ref.raw.split("@")[0]
        tag = resolved.tag or "its tag"
        for anchor in pin.anchors:
            ops: tuple[EditOp, ...] = (ReplaceScalar(anchor, f"{name}@{resolved.commit}"),)
            if resolved.tag:
                ops += (SetComment(anchor, resolved.tag),)
            fix = FixHint(f"Pin the commit of {tag}, not its tag object", True, ops) \
                if isinstance(anchor.node, Scalar) else None
            yield Problem(anchor, (
                f"`{pin.ref.ref}` is the SHA of the annotated tag object {tag} in "
                f"{pin.ref.owner}/{pin.ref.repo}, not of its commit `{resolved.commit}`: "
                "tools and actions that look things up by commit (a container image named "
                "after the SHA, `manifest unknown`) fail, and the pin reads as an unknown "
                f"commit. Pin the commit instead: `{name}@{resolved.commit} # {tag}`"),
                fix=fix)


def _tag_commit(session: Session, pin: Pin, tag: str) -> str | None:
    owner, name = pin.ref.owner, pin.ref.repo
    ref = session.github.tag_ref(owner, name, tag, IMPOSTOR)
    if not isinstance(ref, dict):
        if isinstance(ref, Notice):
            session.note(ref)
        return None
    target = ref.get("object")
    if not isinstance(target, dict) or not isinstance(target.get("sha"), str):
        return None
    if target.get("type") == "tag":
        peeled = _peel(session, owner, name, str(target["sha"]), IMPOSTOR)
        return peeled.commit if peeled is not None else None
    return str(target["sha"])


def _contains(session: Session, pin: Pin, base: str) -> bool:
    status = session.github.compare(pin.ref.owner, pin.ref.repo, base, pin.ref.ref, IMPOSTOR)
    if isinstance(status, Notice):
        session.note(status)
        return False
    return status in _REACHABLE


def impostor_commit(session: Session) -> Iterator[Problem]:
    for pin in _selected(session, IMPOSTOR):
        resolved = resolve(session, pin, IMPOSTOR)
        if resolved is None or resolved.kind != "commit":
            continue
        ref = pin.ref
        tag = ref.comment_version
        if tag is not None and _tag_commit(session, pin, tag) == ref.ref.lower():
            continue
        repo = session.repository_of(ref.owner, ref.repo, IMPOSTOR)
        if repo is not None and _contains(session, pin, repo.default_branch):
            continue
        if tag is not None and _contains(session, pin, f"refs/tags/{tag}"):
            continue
        verdict = _branch_commits(session, pin)
        if verdict is None:
            session.note(Notice(
                f"`{ref.slug}@{ref.ref[:12]}…`: indeterminate — not the commit of "
                f"{tag or 'the tag in its comment'} and not on the default branch, and "
                "GitHub's list of branches and tags containing it could not be read",
                None, None, IMPOSTOR))
            continue
        if verdict:
            continue
        yield from (Problem(anchor, (
            f"`{ref.ref}` is on no branch and no tag of {ref.owner}/{ref.repo}: GitHub "
            "serves a fork's commits through the parent repository, so this pin can run code "
            f"the owners of {ref.owner}/{ref.repo} never published — next to the upload. Pin "
            "a commit of a release of the action (peel its tag: `git ls-remote "
            f"https://github.com/{ref.owner}/{ref.repo} 'refs/tags/<tag>^{{}}'`) and check "
            "how this SHA got here")) for anchor in pin.anchors)


def _branch_commits(session: Session, pin: Pin) -> bool | None:
    """Whether GitHub's ``branch_commits`` page lists a branch or tag containing the
    commit; None when it could not be read."""
    if session.server_client is None:
        return None
    ref = pin.ref
    answer = session.server_client().get(
        f"/{seg(ref.owner)}/{seg(ref.repo)}/branch_commits/{ref.ref}",
        accept="application/json", rule=IMPOSTOR)
    if isinstance(answer, Notice):
        session.note(answer)
        return None
    if answer.status != 200 or not isinstance(answer.data, dict):
        return None
    branches, tags = answer.data.get("branches"), answer.data.get("tags")
    if not isinstance(branches, list) or not isinstance(tags, list):
        return None
    return bool(branches or tags)
