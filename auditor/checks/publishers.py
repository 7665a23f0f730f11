"""Publishers: the declared trusted-publisher settings against the repository.

Each publish job is paired with the declaration it matches or comes closest to (fewest
differing fields, then declaration order), so one mistaken field is reported once, at the
declared value, with the job as a related location. Values PyPI would refuse are reported
by ``publisher-malformed`` and not compared again.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.findings import Problem
from auditor.facts.context import Context
from auditor.publishers.expected import Expected
from auditor.publishers.matching import (
    Assignment,
    Mismatch,
    declaration_key,
    form_link,
    publisher_audit,
)
from auditor.reading.declarations import INDEX_HOSTS, INDEX_NAMES, Declaration, normalize_project
from auditor.reading.source import Anchor


def _values(exp: Expected) -> str:
    gitlab = exp.provider == "gitlab"
    owner = exp.owner or "<owner: no git remote origin found>"
    repository = exp.repository or "<repository: no git remote origin found>"
    env = ("the value of its expression" if exp.dynamic_environment
           else f"`{exp.environment}`" if exp.environment else "(empty: any)")
    if gitlab:
        return (f"provider GitLab, namespace `{owner}`, project `{repository}`, top-level "
                f"pipeline file `{exp.workflow}`, environment {env}")
    return (f"provider GitHub, owner `{owner}`, repository `{repository}`, workflow "
            f"`{exp.workflow}`, environment {env}")


def _toml(exp: Expected, project: str | None) -> str:
    parts = [f'index = "{exp.index}"']
    if project:
        parts.append(f'project = "{project}"')
    parts.append(f'provider = "{exp.provider}"')
    if exp.owner:
        parts.append(f'owner = "{exp.owner}"')
    if exp.repository:
        parts.append(f'repository = "{exp.repository}"')
    parts.append(f'workflow = "{exp.workflow}"')
    if exp.environment and not exp.dynamic_environment:
        parts.append(f'environment = "{exp.environment}"')
    return ", ".join(parts)


def _job(exp: Expected) -> str:
    return f"job `{exp.job}` in `{exp.path}`"


def undeclared_publisher(ctx: Context) -> Iterator[Problem]:
    if ctx.config.publishers:
        return
    project = ctx.identity.project.name if ctx.identity.project else None
    for exp in publisher_audit(ctx).expected:
        index = INDEX_NAMES[exp.index]
        link = form_link(exp, project)
        pending = form_link(exp, project, pending=True)
        yield Problem(
            exp.upload_anchor,
            f"{_job(exp)} uploads to {index} with trusted publishing, and no publisher is "
            "declared, so pubaudit cannot check the one registered on "
            f"{INDEX_HOSTS[exp.index]} (where a mismatch ends in `invalid-publisher`). "
            f"Register, or check, this publisher: {_values(exp)}"
            + (f" for project `{project}`" if project else "") + f". Form: {link}"
            + (f" (for a project that does not exist yet, add a pending publisher at "
               f"{pending})" if link != pending else "")
            + ". Then declare it in `[[tool.pubaudit.publishers]]`: "
            f"{_toml(exp, project)} (`pubaudit publishers --format toml` prints it).",
            related=(("the publish job", exp.job_anchor),))


def _grouped(ctx: Context, fields: tuple[str, ...]) -> Iterator[
        tuple[Declaration, Mismatch, list[Assignment]]]:
    """Mismatches of ``fields``, one per (declaration, field, values), with their jobs."""
    groups: dict[tuple[int, str, str | None, str | None],
                 tuple[Declaration, Mismatch, list[Assignment]]] = {}
    for assignment in publisher_audit(ctx).assignments:
        decl = assignment.declaration
        if decl is None:
            continue
        for mismatch in assignment.mismatches:
            if mismatch.field not in fields:
                continue
            key = (decl.number, mismatch.field, mismatch.declared, mismatch.expected)
            groups.setdefault(key, (decl, mismatch, []))[2].append(assignment)
    yield from groups.values()


def _job_related(assignments: list[Assignment]) -> tuple[tuple[str, Anchor], ...]:
    return tuple(("the publish job", a.expected.job_anchor) for a in assignments)


def publisher_workflow_mismatch(ctx: Context) -> Iterator[Problem]:
    for decl, mismatch, assignments in _grouped(ctx, ("workflow",)):
        exp = assignments[0].expected
        if exp.provider == "gitlab" and mismatch.declared in exp.included_files:
            continue  # `gitlab-publisher-path` explains this one
        hint = f" ({mismatch.hint})" if mismatch.hint else ""
        where = ("the top-level pipeline file" if exp.provider == "gitlab"
                 else "the file that defines the publish job")
        yield Problem(
            decl.at("workflow"),
            f"PyPI will answer `invalid-publisher`: {decl.describe()} names workflow "
            f"`{mismatch.declared}`, but {where} for {_job(exp)} is `{mismatch.expected}`, "
            f"and PyPI compares that name exactly{hint}. Add a publisher with workflow "
            f"`{mismatch.expected}` on {INDEX_HOSTS[exp.index]} (a publisher cannot be "
            "edited: add the corrected one, then remove the old one) and set "
            f'`workflow = "{mismatch.expected}"` here.',
            related=_job_related(assignments))


def gitlab_publisher_path(ctx: Context) -> Iterator[Problem]:
    for decl, mismatch, assignments in _grouped(ctx, ("workflow",)):
        exp = assignments[0].expected
        if exp.provider != "gitlab" or mismatch.declared not in exp.included_files:
            continue
        defines = (f" (it defines job `{exp.job}`)" if exp.included_from == mismatch.declared
                   else "")
        yield Problem(
            decl.at("workflow"),
            f"PyPI will answer `invalid-publisher`: {decl.describe()} names "
            f"`{mismatch.declared}`, a file included by the pipeline{defines}, but GitLab's "
            "token names the top-level pipeline file in `ci_config_ref_uri`, and PyPI matches "
            f"that: `{mismatch.expected}`. Add a publisher with top-level pipeline file path "
            f"`{mismatch.expected}` on {INDEX_HOSTS[exp.index]}, remove the old one, and set "
            f'`workflow = "{mismatch.expected}"` here.',
            related=_job_related(assignments))


def publisher_environment_mismatch(ctx: Context) -> Iterator[Problem]:
    for decl, mismatch, assignments in _grouped(ctx, ("environment",)):
        exp = assignments[0].expected
        related = _job_related(assignments)
        if mismatch.expected is None:
            yield Problem(
                decl.at("environment"),
                f"PyPI will answer `invalid-publisher`: {decl.describe()} accepts only "
                f"environment `{mismatch.declared}`, but {_job(exp)} has no `environment:`, "
                "so its token carries no environment claim. Add `environment: "
                f"{mismatch.declared}` to the job (and protect that environment with "
                "required reviewers and a tag rule in the repository settings).",
                related=related)
            continue
        if exp.environment_anchor is not None:
            related = (*related, ("the job's environment", exp.environment_anchor))
        if mismatch.case_only:
            yield Problem(
                decl.at("environment"),
                f"PyPI will answer `invalid-publisher`: {decl.describe()} names environment "
                f"`{mismatch.declared}` and {_job(exp)} runs in `{mismatch.expected}`; "
                "PyPI compares GitLab environment names case-sensitively. Spell them the "
                "same on both sides: change the job's `environment:` or add a corrected "
                "publisher on PyPI and update this declaration.",
                related=related)
            continue
        yield Problem(
            decl.at("environment"),
            f"PyPI will answer `invalid-publisher`: {decl.describe()} accepts only "
            f"environment `{mismatch.declared}`, but {_job(exp)} runs in environment "
            f"`{mismatch.expected}`. Make them the same, keeping an environment on both sides: "
            f"either set the job's environment to `{mismatch.declared}`, or add a publisher "
            f"with environment `{mismatch.expected}` on {INDEX_HOSTS[exp.index]}, remove the "
            f'old one and set `environment = "{mismatch.expected}"` here.',
            related=related)


def publisher_repository_mismatch(ctx: Context) -> Iterator[Problem]:
    for assignment in publisher_audit(ctx).assignments:
        decl = assignment.declaration
        found = [m for m in assignment.mismatches if m.field in ("owner", "repository")]
        if decl is None or not found:
            continue
        exp = assignment.expected
        first = found[0]
        declared = f"{decl.owner}/{decl.repository}"
        remote = f"{exp.owner}/{exp.repository}"
        if all(m.case_only for m in found):
            yield Problem(
                decl.at(first.field),
                f"{decl.describe()} names `{declared}` and the git remote `origin` is "
                f"`{remote}`: only the letter case differs. PyPI compares owner and "
                "repository exactly with the canonical spelling GitHub puts in the token, "
                "while a remote URL works in any case, so one of the two may be wrong. Check "
                "the spelling on the repository's GitHub page: if the declaration has it, "
                "nothing fails (fix the remote URL); otherwise PyPI will answer "
                "`invalid-publisher`: add a publisher with the canonical spelling on "
                f"{INDEX_HOSTS[exp.index]}, remove the old one and update this declaration.",
                related=_job_related([assignment]), severity="medium")
            continue
        hint = "; ".join(dict.fromkeys(m.hint for m in found))
        yield Problem(
            decl.at(first.field),
            f"PyPI will answer `invalid-publisher`: {decl.describe()} names `{declared}`, but "
            f"this repository's git remote `origin` is `{remote}` ({exp.host}), which is what "
            f"the token's `repository` claim will carry ({hint}). Add a publisher for "
            f"`{remote}` on {INDEX_HOSTS[exp.index]}, remove the stale one, and set "
            "`owner`/`repository` here to match.",
            related=_job_related([assignment]))


def publisher_project_mismatch(ctx: Context) -> Iterator[Problem]:
    ident = ctx.identity.project
    for decl, mismatch, assignments in _grouped(ctx, ("project",)):
        source = ident.source if ident else "the project metadata"
        related = _job_related(assignments)
        if ident is not None:
            related = (("the project name", ident.anchor), *related)
        if decl.pending:
            text = (f"{decl.describe()} will create PyPI project `{mismatch.declared}` on "
                    f"first use, but this repository builds `{mismatch.expected}` ({source}; "
                    f"normalised `{normalize_project(mismatch.expected or '')}` vs "
                    f"`{normalize_project(mismatch.declared or '')}`): the upload is refused "
                    "with \"Non-user identities cannot create new projects\" after an empty, "
                    "wrongly named project was created. Make the names agree: replace the "
                    f"pending publisher by one for `{mismatch.expected}` (or fix the "
                    "project name) and update this declaration.")
        else:
            text = (f"{decl.describe()} is registered on project `{mismatch.declared}`, but "
                    f"this repository uploads `{mismatch.expected}` ({source}): the token "
                    "PyPI mints is valid only for the publisher's projects, so the upload is "
                    f"refused. Add the publisher on project `{mismatch.expected}`'s publishing "
                    f"settings and set `project = \"{mismatch.expected}\"` here.")
        yield Problem(decl.at("project") if decl.has("project") else decl.anchor, text,
                      related=related)


def publisher_missing_for_index(ctx: Context) -> Iterator[Problem]:
    valid = publisher_audit(ctx).valid
    if not valid:
        return  # nothing declared (undeclared-publisher), or only malformed declarations
    project = ctx.identity.project.name if ctx.identity.project else None
    for assignment in publisher_audit(ctx).assignments:
        if assignment.declaration is not None:
            continue
        exp = assignment.expected
        index = INDEX_NAMES[exp.index]
        provider = "GitLab" if exp.provider == "gitlab" else "GitHub"
        same_provider = [d for d in valid if d.provider == exp.provider]
        declared = ", ".join(sorted({f"{d.provider} on {d.index}" for d in valid}))
        separate = (f" {INDEX_HOSTS[exp.index]} has its own accounts and publishers, separate "
                    f"from {INDEX_HOSTS['pypi' if exp.index == 'testpypi' else 'testpypi']}."
                    if same_provider else "")
        yield Problem(
            exp.upload_anchor,
            f"{_job(exp)} uploads to {index} with trusted publishing, but no {provider} "
            f"publisher is declared for {index} (declared: {declared}).{separate} The "
            "exchange fails with `invalid-publisher` unless this publisher is registered "
            f"there: {_values(exp)} ({form_link(exp, project)}). Then declare it: "
            f"{_toml(exp, project)}.",
            related=(("publishers declared here", (same_provider or list(valid))[0].anchor),
                     ("the publish job", exp.job_anchor)))


def publisher_malformed(ctx: Context) -> Iterator[Problem]:
    by_number = {d.number: d for d in ctx.config.publishers}
    for bad in publisher_audit(ctx).malformed:
        decl = by_number[bad.number]
        yield Problem(bad.anchor, f"{decl.describe()}: {bad.message}. Fix the declaration "
                      "(and the publisher on PyPI if it was registered this way).")


def publisher_unused(ctx: Context) -> Iterator[Problem]:
    if ctx.repo.partial:
        return  # only some files were loaded: other jobs may use it
    audit = publisher_audit(ctx)
    malformed = {m.number for m in audit.malformed}
    for decl in audit.declarations:
        if decl.number in audit.used or decl.number in malformed:
            continue
        if decl.provider not in ("github", "gitlab"):
            continue  # Google and ActiveState publish from outside the repository
        same_index = [e for e in audit.expected if e.index == decl.index]
        reason = (f"no job of this repository uploads to {INDEX_NAMES.get(decl.index, decl.index)}"
                  " with trusted publishing" if not same_index else
                  "the jobs that upload there are paired with other declarations")
        host = INDEX_HOSTS.get(decl.index, decl.index)
        page = (f"your account's publishing page on {host} (pending publishers)"
                if decl.pending else f"the project's publishing settings on {host}")
        yield Problem(
            decl.anchor,
            f"{decl.describe()} matches no publish job: {reason}. A publisher left behind "
            "after a rename or a move still lets that workflow publish: remove it from "
            f"{page} and from this configuration (or fix it if a job should use it).")


def pending_publisher_collision(ctx: Context) -> Iterator[Problem]:
    project = ctx.identity.project.name if ctx.identity.project else None
    first: dict[tuple[str, ...], Declaration] = {}
    for decl in ctx.config.publishers:
        if not decl.pending or decl.provider not in ("github", "gitlab"):
            continue
        key = declaration_key(decl)
        earlier = first.get(key)
        if earlier is None:
            first[key] = decl
            continue
        a, b = earlier.project(project), decl.project(project)
        if a and b and normalize_project(a) != normalize_project(b):
            yield Problem(
                decl.anchor,
                f"{decl.describe()} and {earlier.describe()} are pending publishers with the "
                f"same owner, repository, workflow and environment for different projects "
                f"(`{b}`, `{a}`): PyPI refuses the second (\"already been registered for a "
                "different project name\"). Register the second only after the first has "
                "created its project (a used pending publisher stops being pending), or give "
                "the second project its own workflow file or environment.",
                related=(("the first pending publisher", earlier.anchor),))
