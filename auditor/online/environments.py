"""``unprotected-environment``: the publish job's GitHub environment, as GitHub has it.

PyPI never checks the ref a run came from, so the environment is the only gate on who can
publish and from which branch or tag. Asked: the repository (is it private?), its list of
environments, and each policy list of an environment limited to selected branches and tags.
An environment missing from a list that answered 200 does not exist (GitHub creates it on
the first run, unprotected); a list that could not be read gives a notice. On a private
repository reviewers, wait timers and the bypass setting may not exist on the owner's plan,
so their absence is not reported as an omission.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.findings import Problem
from auditor.facts.context import PublishJob
from auditor.online.session import Session, Slug
from auditor.output.records import record

RULE = "unprotected-environment"


def _pattern(policy: str) -> re.Pattern[str]:
    """A deployment policy pattern (Ruby ``File.fnmatch``: ``*`` stops at ``/``)."""
    out, i = [], 0
    while i < len(policy):
        char = policy[i]
        if policy.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = policy.find("]", i + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = policy[i + 1:end].replace("\\", "\\\\")
                out.append(f"[{'^' + body[1:] if body.startswith('!') else body}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


_GLOB = re.compile(r"[*?\[\]+!]")


def _samples(trigger: str) -> tuple[str, ...]:
    """Refs a trigger pattern matches, to try against the policies: the pattern itself,
    and its wildcards filled with a typical version (``v*`` → ``v1.2.3``, ``v1``)."""
    out = [trigger]
    for fill in ("1.2.3", "1"):
        text = re.sub(r"\[([^\]]*)\]", lambda m: (m.group(1).lstrip("!^") or "1")[0], trigger)
        text = text.replace("**", fill).replace("*", fill).replace("?", "1").replace("+", "")
        out.append(text)
    return tuple(out)


@record
class Refs:
    """The refs a publish job runs on for a push or a release: per kind (``branch``/``tag``)
    the trigger's patterns, ``None`` meaning any ref of that kind."""

    patterns: dict[str, tuple[str, ...] | None]


def publishing_refs(session: Session, pj: PublishJob) -> Refs:
    """Refs of push and release runs that reach the job (manual and scheduled runs are
    left out: a policy narrower than ``workflow_dispatch`` is a choice, not a mistake)."""
    found: dict[str, tuple[str, ...] | None] = {}
    for reach in session.ctx.reaches(pj.workflow, pj.job):
        trigger = reach.trigger
        if trigger.event == "release" and reach.ref == "tag":
            found["tag"] = None
        elif trigger.event == "push" and reach.ref in ("branch", "tag"):
            values = trigger.filter_values("tags" if reach.ref == "tag" else "branches")
            if values is None or (reach.ref in found and found[reach.ref] is None):
                found[reach.ref] = None
            else:
                found[reach.ref] = (*(found.get(reach.ref) or ()), *values)
    return Refs(found)


def _uncovered(refs: Refs, policies: list[dict[str, object]]) -> tuple[list[str], bool]:
    """The publishing refs no policy lets deploy, and whether that is certain (a trigger
    pattern with wildcards compared with a policy pattern is only a guess)."""
    by_kind: dict[str, list[re.Pattern[str]]] = {"branch": [], "tag": []}
    for policy in policies:
        name = policy.get("name")
        if isinstance(name, str):
            kind = policy.get("type") if policy.get("type") in ("branch", "tag") else "branch"
            by_kind[str(kind)].append(_pattern(name))
    missing: list[str] = []
    certain = True
    for kind, patterns in sorted(refs.patterns.items()):
        if not by_kind[kind]:
            missing.append(f"every {kind}" if patterns is None else
                           f"{kind}s {', '.join(f'`{p}`' for p in patterns)}")
            continue
        if patterns is None:
            continue  # some refs of the kind can deploy: narrowing is a choice
        lost = [p for p in patterns
                if not any(rx.match(sample) for rx in by_kind[kind] for sample in _samples(p))]
        if lost:
            missing.append(f"{kind}s {', '.join(f'`{p}`' for p in lost)}")
            certain = certain and not any(_GLOB.search(p) for p in lost)
    return missing, certain


def _tag_rule(refs: Refs) -> str:
    tags = refs.patterns.get("tag")
    return tags[0] if tags else "v*"


def _gaps(session: Session, slug: Slug, private: bool, env: dict[str, object],
          refs: Refs) -> tuple[list[str], list[str], bool]:
    """What the environment lacks, the change for each, and whether all are certain."""
    gaps: list[str] = []
    changes: list[str] = []
    certain = True
    listed = env.get("protection_rules")
    rules = [r for r in listed if isinstance(r, dict)] if isinstance(listed, list) else []
    reviewers = [r for r in rules if r.get("type") == "required_reviewers"]
    name = str(env.get("name", ""))
    if not private:
        if not reviewers:
            gaps.append("no required reviewers")
            changes.append("add at least one required reviewer (one approval releases the "
                           "job) and tick \"Prevent self-review\"")
        elif not any(r.get("prevent_self_review") is True for r in reviewers):
            gaps.append("whoever starts the run may approve it (self-review allowed)")
            changes.append("tick \"Prevent self-review\"")
        if env.get("can_admins_bypass") is not False:
            gaps.append("administrators can bypass its rules")
            changes.append("untick \"Allow administrators to bypass configured protection "
                           "rules\"")
    policy = env.get("deployment_branch_policy")
    tag = _tag_rule(refs)
    if not isinstance(policy, dict):
        certain = certain and not private  # environments of private repositories need a plan
        gaps.append("any branch or tag can deploy to it")
        changes.append("under \"Deployment branches and tags\" choose \"Selected branches "
                       f"and tags\" and add a tag rule `{tag}`")
    elif policy.get("custom_branch_policies") is True:
        policies = session.branch_policies(slug, name, private, RULE)
        if policies is not None:
            missing, sure = _uncovered(refs, policies)
            if missing:
                certain = certain and sure
                gaps.append("its deployment rules let none of the refs this job publishes "
                            f"from deploy ({'; '.join(missing)}), so GitHub rejects the job "
                            "before it starts")
                changes.append("add a deployment rule for the refs you release from (for "
                               f"tags `{tag}`)")
    elif policy.get("protected_branches") is True and "tag" in refs.patterns:
        gaps.append("only protected branches may deploy, so runs from tags are rejected "
                    "whenever the repository has a branch protection rule")
        changes.append("choose \"Selected branches and tags\" with a tag rule "
                       f"`{tag}` instead of \"Protected branches only\"")
        certain = False
    return gaps, changes, certain


def unprotected_environment(session: Session) -> Iterator[Problem]:
    jobs = [pj for pj in session.github_publish_jobs()
            if pj.job.environment is not None and pj.job.environment.name and
            not pj.job.environment.is_expression]
    if not jobs:
        return
    scanned = session.scanned(RULE)
    if scanned is None:
        return
    slug, repo = scanned
    environments = session.environments(slug, repo.private, RULE)
    if environments is None:
        return
    for pj in jobs:
        env = pj.job.environment
        assert env is not None and env.name is not None
        anchor = env.anchor.child("name", node=env.name_node) \
            if env.name_node is not None else env.anchor
        found = environments.get(env.name.lower())
        if found is None:
            yield Problem(anchor, (
                f"environment `{env.name}` does not exist in {repo.full_name}: GitHub creates "
                "it on this job's first run with no protection at all, so any run that "
                "reaches the job can publish. Create it under Settings → Environments before "
                "the next release and give it a required reviewer and a deployment tag rule "
                f"`{_tag_rule(publishing_refs(session, pj))}`"))
            continue
        refs = publishing_refs(session, pj)
        gaps, changes, certain = _gaps(session, slug, repo.private, found, refs)
        if not gaps:
            continue
        where = f"Settings → Environments → {found.get('name', env.name)}"
        plan = (" (on a private repository, reviewers and the bypass setting depend on the "
                "owner's plan and were not judged)" if repo.private else "")
        yield Problem(anchor, (
            f"environment `{env.name}` of {repo.full_name}: {'; '.join(gaps)}{plan}. In "
            f"{where}: {'; '.join(changes)}"), undecided=not certain)
