"""GitLab CI: the ID token a trusted-publishing job needs, and what gates the job.

GitLab hands a job an OIDC token only when the job asks for one in ``id_tokens:``, exports
it under the variable name the entry chooses, and signs it for the ``aud`` the entry gives.
PyPI accepts exactly one audience, ``pypi`` (``testpypi`` on TestPyPI), and twine (through
``id``) and uv (through ``ambient-id``) read the token from ``PYPI_ID_TOKEN`` /
``TESTPYPI_ID_TOKEN`` (``research/pypi-trusted-publishing.md`` §1.4, failure mode 23).
Only uploads to PyPI/TestPyPI that rely on trusted publishing are judged here: a token
upload to GitLab's own package registry or to Artifactory needs no ID token.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.findings import FixHint, Problem
from auditor.facts.context import Context
from auditor.gitlab.model import IdToken
from auditor.reading.declarations import INDEX_NAMES
from auditor.reading.edits import InsertKey
from auditor.reading.source import Anchor
from auditor.upload.gitlab import GitlabPublishJob, GitlabPublishStep, id_token_variable


def _trusted_steps(pj: GitlabPublishJob) -> list[GitlabPublishStep]:
    """One trusted-publishing upload per index, the first of each."""
    seen: set[str] = set()
    out: list[GitlabPublishStep] = []
    for step in pj.steps:
        if step.trusted_publishing and step.index not in seen:
            seen.add(step.index)
            out.append(step)
    return out


def _token_yaml(index: str) -> str:
    return f"`id_tokens: {{{id_token_variable(index)}: {{aud: {index}}}}}`"


def _failure(step: GitlabPublishStep, variable: str) -> str:
    """What the exchange says when the variable it reads is not set."""
    if step.exchange == "twine":
        return ("twine will fail: \"Unable to retrieve an OIDC token from the CI platform for "
                f"trusted publishing\" (GitLab: Environment variable {variable} not found)")
    if step.exchange == "uv":
        return (f"uv finds no OIDC token (it reads {variable}: \"ID token variable not found\")"
                " and the upload fails for lack of credentials")
    if step.exchange == "id":
        return (f"`python -m id` will fail: \"GitLab: Environment variable {variable} not "
                "found\", so there is no token to exchange")
    return "the token exchange in this job has no GitLab ID token to send to PyPI"


def _tokens_read(pj: GitlabPublishJob, step: GitlabPublishStep) -> list[IdToken]:
    """The ID tokens the exchange of ``step`` reads."""
    variable = step.token_variable
    if variable is not None:
        return [t for t in pj.id_tokens if t.name == variable]
    script = "\n".join(line.node.value for line in pj.job.script)
    return [t for t in pj.id_tokens if f"${t.name}" in script or f"${{{t.name}}}" in script]


def _for_index(token: IdToken, index: str) -> bool:
    return index in token.audiences or token.aud_is_expression


def _id_tokens_fix(pj: GitlabPublishJob, variable: str, index: str) -> FixHint | None:
    """`id_tokens:` with the token the exchange reads, in a job defined by one mapping of
    its own (a job built from `extends:` or overridden elsewhere is edited by a person):
    safe, since the exchange fails today for want of it."""
    job = pj.job
    if job.node is None or job.id_tokens_anchor is not None or pj.id_tokens:
        return None
    return FixHint(f"Add `id_tokens: {variable}: {{aud: {index}}}` to the job", True,
                   (InsertKey(Anchor(job.path, (job.name,), node=job.node), "id_tokens",
                              f"{variable}:\n  aud: {index}",
                              before=("before_script", "script")),))


def missing_id_token(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.gitlab_publish_jobs:
        for step in _trusted_steps(pj):
            if _tokens_read(pj, step) or any(_for_index(t, step.index) for t in pj.id_tokens):
                continue  # present: its name and audience are judged by the other rules
            variable = step.token_variable or id_token_variable(step.index)
            name = INDEX_NAMES[step.index]
            related: list[tuple[str, Anchor]] = [("the upload", step.anchor)]
            if pj.job.id_tokens_anchor is not None:
                anchor = pj.job.id_tokens_anchor
                what = (f"`id_tokens:` of {pj.job.label} has no token with `aud: {step.index}`")
            else:
                anchor = step.anchor
                what = f"{pj.job.label} has no `id_tokens:`"
                related.insert(0, ("the job, where `id_tokens:` belongs", pj.job.anchor))
            settings = ""
            if step.exchange in ("twine", "uv"):
                settings = (f" (If the upload is meant to use a token from the project's CI/CD "
                            "variables instead, it is not trusted publishing: register a "
                            f"GitLab trusted publisher on {name} and delete the variable.)")
            yield Problem(
                anchor,
                f"{what}, but it uploads to {name} with trusted publishing: {_failure(step, variable)}. "  # noqa: E501
                "GitLab creates an OIDC token only for a job that asks for one. Add "
                f"{_token_yaml(step.index)} to {pj.job.label}.{settings}",
                tuple(related), fix=_id_tokens_fix(pj, variable, step.index))


def wrong_audience(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.gitlab_publish_jobs:
        reported: set[str] = set()
        for step in _trusted_steps(pj):
            name = INDEX_NAMES[step.index]
            read = _tokens_read(pj, step)
            candidates = read + [t for t in pj.id_tokens if t not in read and t.aud_is_list
                                 and step.index in t.audiences]
            for token in candidates:
                if token.name in reported or token.aud_is_expression:
                    continue
                if token.aud_is_list and len(token.audiences) != 0:
                    reported.add(token.name)
                    yield Problem(
                        token.aud_anchor,
                        f"The `aud` of ID token `{token.name}` in {pj.job.label} is a list "
                        f"({', '.join(token.audiences)}): GitLab signs every entry into the "
                        "token's `aud` claim, and PyPI verifies tokens with a strict audience "
                        "check that accepts exactly one, so the exchange fails with "
                        "`invalid-token` (\"malformed or invalid token\"). Use "
                        f"`aud: {step.index}` alone, and a separate ID token for any other "
                        "service.",
                        (("the upload", step.anchor),))
                elif step.index not in token.audiences:
                    reported.add(token.name)
                    given = token.audiences[0] if token.audiences else "nothing"
                    yield Problem(
                        token.aud_anchor,
                        f"ID token `{token.name}` of {pj.job.label} is signed for `aud: "
                        f"{given}`, but the job uploads to {name}, which accepts only "
                        f"`aud: {step.index}`: the exchange fails with `invalid-token` "
                        f"(\"malformed or invalid token\"). Change it to `aud: {step.index}`.",
                        (("the upload", step.anchor),))


def id_token_name(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.gitlab_publish_jobs:
        for step in _trusted_steps(pj):
            variable = step.token_variable
            if variable is None or _tokens_read(pj, step):
                continue
            misnamed = [t for t in pj.id_tokens if _for_index(t, step.index)]
            if not misnamed:
                continue  # no token for this index at all: gitlab-missing-id-token
            token = misnamed[0]
            yield Problem(
                token.anchor,
                f"{pj.job.label} exports its ID token for {INDEX_NAMES[step.index]} as "
                f"`{token.name}`, but {step.tool} looks for `{variable}` (the audience "
                f"upper-cased, then `_ID_TOKEN`): {_failure(step, variable)}. Rename the "
                f"entry: `id_tokens: {{{variable}: {{aud: {step.index}}}}}`.",
                (("the upload", step.anchor),))


def unprotected_publish(ctx: Context) -> Iterator[Problem]:
    for pj in ctx.gitlab_publish_jobs:
        steps = _trusted_steps(pj)
        if not steps:
            continue
        to_pypi = any(s.index == "pypi" for s in steps)
        missing: list[str] = []
        fixes: list[str] = []
        if pj.environment is None:
            index = "pypi" if to_pypi else "testpypi"
            missing.append("no `environment:` (no protected environment can gate it, and the "
                           "PyPI publisher cannot be bound to one)")
            fixes.append(f"`environment: {{name: {index}}}` (protected in Settings > CI/CD > "
                         "Protected environments, and registered on the publisher)")
        if to_pypi and not pj.tag_only:
            how = "it is started by hand, but on any ref" if pj.job.condition.manual else \
                "it can run in pipelines that are not for a tag"
            missing.append(f"no tag-only rule ({how})")
            fixes.append("`rules: [{if: $CI_COMMIT_TAG}]` (with protected tags)")
        if not missing:
            continue
        anchor = pj.job.anchor
        if pj.environment is not None and pj.job.condition.anchor is not None:
            anchor = pj.job.condition.anchor
        yield Problem(
            anchor,
            f"{pj.job.label} publishes with trusted publishing, but it has "
            f"{', and '.join(missing)}. PyPI binds a GitLab token to the top-level pipeline "
            f"file, not to a branch or tag: anyone who can run this pipeline (a pushed branch, "
            "a merge request from the project) can mint an upload token. Add "
            f"{' and '.join(fixes)} to {pj.job.label}.",
            (("the upload", steps[0].anchor),))
