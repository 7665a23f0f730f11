"""``pubaudit explain-log``: what failed in a publish run, which value differs, what to change.

The log (``logparse``) says what happened and, after a refused token exchange, which claims
the run presented. The repository says what was declared as registered on PyPI
(``Declaration``) and what its publish jobs need (``Expected``). PyPI compares them as
``research/pypi-trusted-publishing.md`` §1.3-1.4 describe: GitHub owner, repository and
workflow file name exactly, the environment case-insensitively (GitLab: namespace and
project case-insensitively, the environment exactly); the workflow file is the one that
*defines* the job (``job_workflow_ref``), not the caller. Each diagnosis names the field,
both values and the change; failures that are not a publisher mismatch map to the pubaudit
rule that predicts them from the repository.

Advice never weakens the setup: no branch instead of a SHA pin, no removing an environment,
no token instead of trusted publishing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from auditor.explainlog.claims import (
    REF_RE,
    WORKFLOW_FILE_RE,
    Mismatch,
    Sides,
    declaration_where,
    explain_claims,
    explain_repository,
    publisher_page,
)
from auditor.explainlog.parse import Failure, LogFacts
from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.publishers.expected import Expected
from auditor.reading.declarations import INDEX_HOSTS, Declaration, normalize_project

# Rules that need ``--online`` to see the cause (RULES.md tier O).
ONLINE_RULES = frozenset({"pending-project-exists", "unprotected-environment", "leftover-secret",
                          "missing-secret", "impostor-commit", "provenance-mismatch",
                          "missing-provenance"})
_SHA_RE = lazy_re(r"^[0-9a-f]{40}$")


@record
class Diagnosis:
    """One kind of failure found in the log, explained: what, why, the change, the rule."""

    kind: str
    lines: tuple[int, ...]
    excerpt: str
    summary: str  # what failed, one line
    why: str  # the rule PyPI (or GitHub/GitLab) applies
    fix: str
    rule: str | None  # the pubaudit rule that reports the cause from the repository
    mismatches: tuple[Mismatch, ...] = ()
    notes: tuple[str, ...] = ()
    warning: bool = False  # a warning of the run, not the failure itself

    @property
    def line(self) -> int:
        return self.lines[0]


def scan_hint(rule: str) -> str:
    online = " --online" if rule in ONLINE_RULES else ""
    if rule == "undeclared-publisher":
        return (f"run `pubaudit scan`: rule `{rule}` prints the values to register, and "
                "`pubaudit publishers --format toml` the declarations to paste")
    return f"run `pubaudit scan{online}`: rule `{rule}` reports the cause in the repository"

# ----------------------------------------------------------------- per failure kind


@record
class _Context:
    """What a diagnosis needs besides the log: both publisher sides."""

    facts: LogFacts
    sides: Sides

    def index(self, line: int) -> str:
        return self.facts.index_near(line) or "pypi"

    def job_words(self, index: str | None = None) -> str:
        jobs = [e for e in self.sides.expected if index is None or e.index == index]
        if not jobs:
            return ""
        return " (" + ", ".join(f"`{e.job}` in {e.path}" for e in jobs[:3]) + ")"


_Handler = Callable[[_Context, list[Failure]], Diagnosis]


def _diag(kind: str, failures: list[Failure], summary: str, why: str, fix: str,
          rule: str | None, mismatches: Sequence[Mismatch] = (), notes: Sequence[str] = (),
          warning: bool = False) -> Diagnosis:
    first = failures[0]
    return Diagnosis(kind, tuple(sorted({f.line for f in failures})), first.excerpt, summary,
                     why, fix, rule, tuple(mismatches), tuple(notes), warning)


def _mismatch_diagnosis(ctx: _Context, failures: list[Failure], kind: str,
                        summary: str) -> Diagnosis:
    first = failures[0]
    index = ctx.index(first.line)
    claims = ctx.facts.claims_near(first.line)
    why = ("PyPI looks the publisher up by the repository owner and name, the workflow file "
           "that defines the job (from job_workflow_ref, compared exactly: `.yml` is not "
           "`.yaml`) and, when the publisher names one, the environment (case-insensitively "
           "on GitHub, exactly on GitLab); each index (pypi.org, test.pypi.org) has its own "
           "publishers.")
    notes: list[str] = []
    if ctx.facts.index_near(first.line) is None:
        notes.append("No upload URL in the log: assuming pypi.org.")
    compared = explain_claims(claims, index, ctx.sides) if claims is not None else \
        explain_repository(ctx.sides, index)
    if claims is None and not ctx.sides.declarations:
        compared.rule = compared.rule or "undeclared-publisher"
    fixes = [m.fix for m in compared.causes]
    fix = ("; ".join(f"({n}) {f}" for n, f in enumerate(fixes, 1)) if len(fixes) > 1 else
           fixes[0] if fixes else compared.fix or "see the notes: the log alone does not "
           "show which value differs")
    return _diag(kind, failures, summary, why, fix, compared.rule, compared.causes,
                 notes + compared.notes)


def _invalid_publisher(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    reason = next((f.get("reason") for f in failures if f.get("reason")), None) or ""
    if "job_workflow_ref claim does not match" in reason:
        return _job_workflow_ref(ctx, failures, reason)
    if "issuer" in reason:
        return _unknown_issuer(ctx, failures)
    return _mismatch_diagnosis(
        ctx, failures, "invalid-publisher",
        "PyPI refused the token exchange: no trusted publisher matches this run")


def _job_workflow_ref(ctx: _Context, failures: list[Failure], reason: str) -> Diagnosis:
    wanted = re.findall(r"'([^']+)'", reason.split("got", 1)[0])
    got = re.search(r"got '([^']*)'", reason)
    got_ref = got.group(1) if got else ""
    got_parts = REF_RE.match(got_ref)
    want_parts = REF_RE.match(wanted[0]) if wanted else None
    why = ("PyPI requires job_workflow_ref to be exactly `<owner>/<repo>/.github/workflows/"
           "<file>@<the run's ref or sha>`: a reusable workflow from another repository, or "
           "one called at another ref than the run's, never matches.")
    if got_parts and want_parts and got_parts.group("repo").lower() != \
            want_parts.group("repo").lower():
        fix = (f"the job comes from `{got_parts.group('repo')}`'s reusable workflow: move the "
               f"publish job into a workflow of `{want_parts.group('repo')}` itself")
    elif got_parts and want_parts:
        fix = (f"the reusable workflow `{got_parts.group('path')}` was called at "
               f"`{got_parts.group('ref')}`, the run is at `{want_parts.group('ref')}`: call "
               f"it as `uses: ./{got_parts.group('path')}` (same ref as the run), or better "
               "move the publish job into the top-level workflow")
    else:
        fix = "call the reusable workflow locally (`uses: ./.github/workflows/...`) or move the " \
              "publish job into the top-level workflow"
    registered = " or ".join(f"`{w}`" for w in wanted)
    fix += f" (the publisher accepts {registered})" if registered else ""
    mismatch = Mismatch("workflow", got_ref or None, None, None, fix, failures[0].line)
    return _diag("invalid-publisher", failures,
                 "PyPI refused the token: the job's workflow reference does not match the "
                 "publisher", why, fix, "reusable-workflow-publish", [mismatch])


def _pending_exists(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    index = ctx.index(failures[0].line)
    pending = [d for d in ctx.sides.declarations if d.pending and d.index == index]
    project = (pending[0].project(ctx.sides.project) if pending else None) or ctx.sides.project
    page = publisher_page(index, project)
    fix = (f"the project exists on {INDEX_HOSTS[index]}, so a pending publisher cannot create "
           f"it: add the publisher on the project's own page ({page}), as an owner of the "
           "project; if the name belongs to someone else, choose another project name")
    mismatches = []
    for decl in pending:
        mismatches.append(Mismatch(
            "pending", None, "true", "false",
            f"{fix}, and set `pending = false` in {declaration_where(decl, 'pending')}", None,
            decl.describe()))
    if mismatches:
        fix = mismatches[0].fix
    return _diag("invalid-pending-publisher", failures,
                 "PyPI refused the token: it matched a pending publisher, but the project "
                 "already exists",
                 "A pending publisher only creates a new project; once the project exists, "
                 "publishers are added on the project's settings page.", fix,
                 "pending-project-exists", mismatches)


def _dist_project(ctx: _Context) -> str | None:
    for _, name in ctx.facts.distributions:
        if name.endswith(".whl"):
            return name.partition("-")[0]
        if name.endswith((".tar.gz", ".zip")):
            return name.rsplit("-", 1)[0]
    return None


def _non_user_identity(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    index = ctx.index(failures[0].line)
    uploaded = _dist_project(ctx) or ctx.sides.project
    if uploaded and ctx.sides.project and \
            normalize_project(uploaded) == normalize_project(ctx.sides.project):
        uploaded = ctx.sides.project  # the wheel's file name spells it with underscores
    pending = [d for d in ctx.sides.declarations if d.pending and d.index == index]
    mismatches: list[Mismatch] = []
    for decl in pending:
        name = decl.project(ctx.sides.project)
        if name and uploaded and normalize_project(name) != normalize_project(uploaded):
            mismatches.append(Mismatch(
                "project", uploaded, name, ctx.sides.project,
                f"the pending publisher was registered for project `{name}`, the "
                f"distributions are `{uploaded}`: PyPI created an empty project `{name}` and "
                f"refused `{uploaded}`. Register a pending publisher for `{uploaded}` on "
                f"{publisher_page(index, None, pending=True)}, delete the stray project "
                f"`{name}` on its settings page if you do not want it, and set "
                f"`project = \"{uploaded}\"` in {declaration_where(decl, 'project')}", None,
                decl.describe()))
    if ctx.sides.project and uploaded and \
            normalize_project(ctx.sides.project) != normalize_project(uploaded):
        mismatches.append(Mismatch(
            "project", uploaded, None, ctx.sides.project,
            f"the uploaded distributions are `{uploaded}` but [project].name is "
            f"`{ctx.sides.project}`: the job built or downloaded another project's files",
            None))
    fix = mismatches[0].fix if mismatches else (
        "the project name of the pending publisher on PyPI differs from the distributions' "
        f"name{f' (`{uploaded}`)' if uploaded else ''}: PyPI created an empty project under "
        "the pending name. Register a pending publisher with the distributions' exact name "
        f"({publisher_page(index, None, pending=True)}) and delete the stray project if you do not "
        "want it")
    return _diag("non-user-identity", failures,
                 "PyPI refused the upload: the pending publisher created a project of another "
                 "name",
                 "A pending publisher creates the project named in the publisher; the upload "
                 "then looks up the name in the distributions' metadata (PEP 503-normalised) "
                 "and a trusted-publishing token may not create a second project.", fix,
                 "publisher-project-mismatch", mismatches)


def _project_not_allowed(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    project = next((f.get("project") for f in failures if f.get("project")), None) or "?"
    if any("The user '" in f.excerpt for f in failures):
        page = publisher_page(ctx.index(failures[0].line), project)
        return _diag("project-not-allowed", failures,
                     f"PyPI refused the upload: the account is not allowed to upload to "
                     f"`{project}`",
                     "A password or user token was used, and that account is not an owner or "
                     "maintainer of the project (or the name belongs to someone else).",
                     "use trusted publishing from the project's repository (remove the "
                     "token, grant `id-token: write`, register the publisher on the "
                     f"project's page {page}); if the name is someone else's, choose another "
                     "project name",
                     "leftover-token")
    index = ctx.index(failures[0].line)
    declared = [d for d in ctx.sides.declarations if d.index == index and
                normalize_project(d.project(ctx.sides.project) or "") ==
                normalize_project(project)]
    notes = []
    if ctx.sides.declarations and not declared:
        notes.append(f"No publisher for `{project}` on {INDEX_HOSTS[index]} is declared in "
                     "[[tool.pubaudit.publishers]].")
    elif declared:
        notes.append(f"{declared[0].describe()} is declared for `{project}`: check that it is "
                     "registered on that project's page, not only on another project.")
    return _diag("project-not-allowed", failures,
                 f"PyPI refused the upload: the trusted-publishing token is not valid for "
                 f"project `{project}`",
                 "A token minted by trusted publishing is scoped to the projects whose "
                 "publisher matched the run; every project needs its own publisher, even when "
                 "several are published from one workflow.",
                 f"on {publisher_page(index, project)} add a publisher for this workflow (the same "
                 f"owner, repository, workflow file and environment), and declare it with "
                 f"`project = \"{project}\"`; if another project's publisher for the same "
                 "workflow has no environment, give each one its job's environment",
                 "publisher-project-mismatch", notes=notes)


def _missing_id_token(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    if ctx.facts.platform == "gitlab":
        return _gitlab_id_token(ctx, failures, "PYPI_ID_TOKEN" if ctx.index(failures[0].line)
                                == "pypi" else "TESTPYPI_ID_TOKEN")
    notes = []
    if ctx.facts.tool == "gh-action-pypi-publish":
        notes.append("If the publish step sets `password:` from a secret, that secret is empty "
                     "or missing, and an empty password means trusted publishing: remove the "
                     "`password:` input (rule `leftover-token`) and keep this fix.")
    if ctx.facts.tool == "pdm":
        notes.append("pdm falls back to asking for a password when this fails: later "
                     "authentication errors are a consequence.")
    return _diag("missing-id-token", failures,
                 "The job could not get an OIDC token: it lacks the `id-token: write` "
                 "permission",
                 "GitHub gives a job an OIDC token only when its effective permissions "
                 "include `id-token: write`; a job-level `permissions:` block replaces the "
                 "workflow-level one, so a workflow-level grant is lost once the job lists "
                 "its own permissions.",
                 "add `id-token: write` to the `permissions:` of the publishing job"
                 f"{ctx.job_words()} (job level, not workflow level)", "missing-id-token",
                 notes=notes)


def _uv_missing_credentials(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    url = next((f.get("url") for f in failures if f.get("url")), None) or ""
    if "upload.test.pypi.org" in url:
        return _diag("uv-missing-credentials", failures,
                     f"uv found no credentials for `{url}`, a host that does not exist",
                     "TestPyPI's upload URL is https://test.pypi.org/legacy/; trusted "
                     "publishing asks that host for its audience first.",
                     "set the upload URL to `https://test.pypi.org/legacy/` (`--publish-url`, "
                     "or `publish-url` of the `[[tool.uv.index]]` entry)", "wrong-index-url")
    return _UV_FALLBACK(ctx, failures)


def _gitlab_id_token(ctx: _Context, failures: list[Failure], variable: str | None = None
                     ) -> Diagnosis:
    variable = variable or next((f.get("variable") for f in failures if f.get("variable")),
                                None) or "PYPI_ID_TOKEN"
    audience = "testpypi" if variable.startswith("TESTPYPI") else "pypi"
    return _diag("gitlab-id-token-missing", failures,
                 f"The GitLab job has no ID token in `{variable}`",
                 "twine (through `id`) reads the token from the variable named after the "
                 "audience (`PYPI_ID_TOKEN` for pypi, `TESTPYPI_ID_TOKEN` for testpypi), and "
                 "GitLab creates it only from the job's `id_tokens:`.",
                 f"add to the publishing job: `id_tokens: {{{variable}: {{aud: {audience}}}}}`"
                 f" (if the job already has `id_tokens:` under another name, rename it to "
                 f"`{variable}`)", "gitlab-missing-id-token",
                 notes=["Rule `gitlab-id-token-name` reports an id_tokens variable of another "
                        "name."])


def _image_not_found(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    from auditor.github.releases import release_table

    image = next((f.get("image") for f in failures if f.get("image")), None) or ""
    repository, _, tag = image.partition(":")
    why = ("Since v1.12 the action runs a prebuilt image `ghcr.io/pypa/gh-action-pypi-publish:"
           "<ref>` keyed by the ref it is used at; there is an image for the commit of each "
           "release, none for the SHA of an annotated tag object.")
    if repository and repository != "ghcr.io/pypa/gh-action-pypi-publish":
        return _diag("image-not-found", failures,
                     f"The action's image `{image}` does not exist: the action runs inside "
                     "another (composite) action",
                     "The action derives its image from the repository it is called from; "
                     "wrapped in another composite action, that is the wrapper's repository.",
                     "call `pypa/gh-action-pypi-publish` directly in the workflow's publishing "
                     "job, not from a composite action", "non-linux-publish-runner")
    table = release_table()
    newest = table.newest
    if _SHA_RE.match(tag):
        release = table.by_tag_object(tag)
        if release is not None:
            fix = (f"pin the commit of {release.tag}: `uses: pypa/gh-action-pypi-publish@"
                   f"{release.commit} # {release.tag}` (never `@release/v1`)")
            summary = (f"The action's image does not exist: it is pinned to the tag object "
                       f"of {release.tag}, not its commit")
        elif table.by_commit(tag) is not None:
            fix = (f"pin the commit of a newer release: `uses: pypa/gh-action-pypi-publish@"
                   f"{newest.commit} # {newest.tag}` (never `@release/v1`)")
            summary = "The action's image does not exist for the pinned release commit"
        else:
            fix = ("pin the commit the release tag points to, with its version comment: "
                   "`git ls-remote https://github.com/pypa/gh-action-pypi-publish "
                   "'refs/tags/vX.Y.Z^{}'` prints it (the line ending in `^{}`); e.g. "
                   f"`@{newest.commit} # {newest.tag}` (never `@release/v1`)")
            summary = (f"The action's image does not exist: `{tag[:12]}…` is probably the SHA "
                       "of an annotated tag object, not of a commit")
    else:
        fix = ("pin `pypa/gh-action-pypi-publish` to the commit SHA of a release with a "
               f"version comment, e.g. `@{newest.commit} # {newest.tag}`")
        summary = "Docker could not pull the publish action's image (`manifest unknown`)"
    return _diag("image-not-found", failures, summary, why, fix, "tag-object-pin")


def _metadata_too_new(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    from auditor.github.releases import release_table

    newest = release_table().newest
    return _diag("metadata-too-new", failures,
                 "The action's bundled twine cannot read the distributions' metadata",
                 "Build backends now write metadata 2.4/2.5 (license expressions, "
                 "License-File); the twine inside older action releases rejects it.",
                 f"pin a current release: `uses: pypa/gh-action-pypi-publish@{newest.commit} "
                 f"# {newest.tag}`", "outdated-publish-action")


def _attestation_identity(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    uri = next((f.get("uri") for f in failures if f.get("uri")), None) or ""
    expected = next((f.get("expected") for f in failures if f.get("expected")), None) or ""
    top = WORKFLOW_FILE_RE.search(uri)
    top_file = top.group(1) if top else "the top-level workflow"
    registered = expected.split(" @ ")[0].strip() or "the reusable workflow"
    mismatch = Mismatch("workflow", top_file, registered, None,
                        f"move the publish job from `{registered}` into `{top_file}` and "
                        f"register `{top_file}` as the publisher's workflow: then the token "
                        "and the attestations name the same file", failures[0].line)
    return _diag("attestation-identity-mismatch", failures,
                 "PyPI refused the attestations: they were signed by another workflow than "
                 "the publisher's",
                 "The token matched the publisher through the reusable workflow that defines "
                 "the job (job_workflow_ref), but attestations are verified against the "
                 "top-level workflow of the run (its Build Config URI).", mismatch.fix,
                 "reusable-workflow-publish", [mismatch])


def _simple(summary: str, why: str, fix: str, rule: str | None, warning: bool = False
            ) -> _Handler:
    def handler(ctx: _Context, failures: list[Failure]) -> Diagnosis:
        values = {k: v for f in failures for k, v in f.data}
        values.setdefault("jobs", ctx.job_words())
        return _diag(failures[0].kind, failures, summary.format_map(_Missing(values)),
                     why, fix.format_map(_Missing(values)), rule, warning=warning)
    return handler


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _unknown_issuer(ctx: _Context, failures: list[Failure]) -> Diagnosis:
    return _diag(
        "unknown-issuer", failures, "PyPI does not accept the token's issuer",
        "PyPI accepts tokens from github.com (https://token.actions.githubusercontent.com), "
        "gitlab.com, Google and ActiveState, plus custom issuers registered by PyPI "
        "organizations; GitHub Enterprise Server, enterprise-customised issuers and "
        "self-managed GitLab are refused otherwise.",
        "publish from a workflow on github.com or gitlab.com; an organization on PyPI can "
        "register its own issuer", None)


_UV_FALLBACK = _simple(
    "uv found no credentials: trusted publishing was not available and uv moved on",
    "`uv publish` defaults to `--trusted-publishing automatic`, which silently skips "
    "trusted publishing when the job cannot get an OIDC token.",
    "give the publishing job `id-token: write`{jobs} (rule `missing-id-token`) and run "
    "`uv publish --trusted-publishing always`, so the real cause shows in the log",
    "uv-publish-fallback")

_HANDLERS: dict[str, _Handler] = {
    "invalid-publisher": _invalid_publisher,
    "invalid-pending-publisher": _pending_exists,
    "non-user-identity": _non_user_identity,
    "project-not-allowed": _project_not_allowed,
    "missing-id-token": _missing_id_token,
    "gitlab-id-token-missing": _gitlab_id_token,
    "image-not-found": _image_not_found,
    "metadata-too-new": _metadata_too_new,
    "attestation-identity-mismatch": _attestation_identity,
    "unknown-issuer": _unknown_issuer,
    "pull-request-target": _simple(
        "PyPI refused the token: the run was triggered by `pull_request_target`",
        "PyPI rejects tokens from `pull_request_target` runs: they run with the base "
        "repository's privileges on behalf of pull requests, including forks'.",
        "publish only from tag pushes or `release: published`, never from a pull-request "
        "trigger", "dangerous-publish-trigger"),
    "fork-pull-request": _simple(
        "The run was a pull request from a fork, and GitHub gives those no OIDC token",
        "GitHub withholds OIDC tokens from pull requests of forks even with `id-token: "
        "write`; publishing from pull requests would also publish unreviewed code.",
        "publish only on tag pushes or `release: published` (e.g. `on: push: tags: ['v*']`); "
        "do not switch to `pull_request_target`, which PyPI refuses and which runs fork code "
        "with the repository's privileges", "dangerous-publish-trigger"),
    "caller-denies-id-token": _simple(
        "The workflow did not start: the caller does not grant `id-token: write` to the "
        "reusable workflow's job `{job}`",
        "A called workflow's permissions are capped by those of the calling job.",
        "give the job that calls the reusable workflow `permissions: {{contents: read, "
        "id-token: write}}`", "caller-denies-id-token"),
    "invalid-reuse-token": _simple(
        "PyPI refused the token: it was already exchanged once",
        "Each OIDC token can be exchanged only once.",
        "re-run the job; if it happens again, two steps exchange the same OIDC token (a manual "
        "mint step plus the upload tool, for instance): let one tool do the exchange", None),
    "invalid-token": _simple(
        "PyPI could not verify the OIDC token (expired, malformed or for another audience)",
        "PyPI accepts only a fresh token whose single audience is `pypi` (or `testpypi` on "
        "TestPyPI).",
        "let the upload tool request the token itself; on GitLab set `aud: pypi` (or "
        "`testpypi`) as a single string in `id_tokens`", None),
    "invalid-payload": _simple(
        "PyPI refused the token exchange request as malformed",
        "The mint-token endpoint expects `{{\"token\": \"<OIDC JWT>\"}}` with a well-formed "
        "JWT.",
        "let the upload tool (pypa/gh-action-pypi-publish, twine ≥ 6.1, uv) do the exchange "
        "instead of a hand-written request", None),
    "not-enabled": _simple(
        "Trusted publishing is disabled on the index right now",
        "PyPI's administrators can switch trusted publishing (or one provider) off.",
        "nothing to change in the repository: retry later (https://status.python.org/)",
        None),
    "audience-not-supported": _simple(
        "The upload URL's host `{host}` does not offer trusted publishing",
        "Trusted publishing exists only on pypi.org and test.pypi.org; the tool asks "
        "`/_/oidc/audience` on the upload URL's host first.",
        "use `https://upload.pypi.org/legacy/` (the default) or "
        "`https://test.pypi.org/legacy/`", "wrong-index-url"),
    "uv-missing-credentials": _uv_missing_credentials,
    "uv-no-oidc": _simple(
        "uv found no OIDC token: `--trusted-publishing always` outside a supported CI",
        "uv does trusted publishing in GitHub Actions and GitLab CI only.",
        "run the upload in the GitHub Actions or GitLab CI publishing job", None),
    "twine-no-credentials": _simple(
        "twine found neither a credential nor an OIDC token",
        "twine does trusted publishing from version 6.1 on, in GitHub Actions (with "
        "`id-token: write`) and GitLab CI (with `id_tokens: PYPI_ID_TOKEN`).",
        "install `twine>=6.1` and give the publishing job its OIDC token{jobs}",
        "missing-id-token"),
    "non-linux-runner": _simple(
        "The publish action ran on a runner that is not Linux",
        "pypa/gh-action-pypi-publish runs in a container and only on Linux runners.",
        "upload from a separate job on `runs-on: ubuntu-latest` that downloads the built "
        "distributions with `actions/download-artifact`; build on Windows/macOS, publish once "
        "from Linux", "non-linux-publish-runner"),
    "container-job": _simple(
        "The publish action could not start: it ran in a job `container:` or inside a "
        "composite action",
        "The action creates a Docker action next to itself, which fails inside a job "
        "container or when wrapped in another composite action.",
        "publish from a job without `container:`, calling `pypa/gh-action-pypi-publish` "
        "directly", "non-linux-publish-runner"),
    "caller-environment-protection": _simple(
        "GitHub refused to run the job in environment `{environment}` for this ref",
        "The environment's deployment branch and tag policy does not allow the ref the run "
        "was on.",
        "publish from a ref the policy allows (a release tag), or add the release tag pattern "
        "(e.g. `v*`) to the environment's deployment tag rules; keep the protection rules",
        None),
    "password-login": _simple(
        "The upload used a user name and password, which PyPI no longer accepts",
        "PyPI requires two-factor authentication, so uploads need trusted publishing or an "
        "API token; the action exits when `user` is not `__token__`.",
        "remove `user:` and `password:` from the publish step, give the job `id-token: "
        "write`{jobs} and register the trusted publisher", "password-login"),
    "invalid-auth": _simple(
        "PyPI rejected the credential that was sent instead of a trusted-publishing token",
        "A password or token disables trusted publishing (the action uses it only when "
        "`password` is empty; twine and uv only without TWINE_PASSWORD or UV_PUBLISH_TOKEN); "
        "this one is empty, revoked, mistyped or for the other index.",
        "remove the `password:` input (or TWINE_PASSWORD, UV_PUBLISH_TOKEN, `--token`), give "
        "the job `id-token: write`{jobs}, register the trusted publisher, then delete the "
        "secret and revoke the token on PyPI", "leftover-token"),
    "token-scope": _simple(
        "PyPI rejected the API token: it is scoped to another project than `{project}`",
        "A project-scoped API token is valid for its project only.",
        "replace the token by trusted publishing: remove the token input, give the job "
        "`id-token: write`{jobs}, register a publisher on `{project}`'s page, then revoke the "
        "token", "leftover-token"),
    "attestations-need-trusted-publishing": _simple(
        "PyPI refused the attestations: the upload used a token, not trusted publishing",
        "PyPI accepts attestations only on uploads authenticated by trusted publishing.",
        "remove the token (password input, TWINE_PASSWORD, UV_PUBLISH_TOKEN) so the upload "
        "uses trusted publishing, and keep the attestations", "leftover-token"),
    "file-exists": _simple(
        "PyPI refused a file that is already uploaded",
        "A file name can be uploaded only once, ever (deleting or yanking does not free it): "
        "the version was already published by this run's earlier attempt, another matrix "
        "leg or another job.",
        "upload once, from one publish job that runs after all builds and downloads every "
        "distribution; for a new release, bump the version. Do not set `skip-existing` on "
        "PyPI: it hides double publishes", "matrix-publish"),
    "duplicate-attestation": _simple(
        "A second publish step found the attestations of the first one",
        "The action writes `*.publish.attestation` files next to the distributions; a second "
        "run over the same directory refuses them.",
        "publish to TestPyPI and to PyPI from separate jobs, each downloading the "
        "distributions itself", "duplicate-attestation"),
    "invalid-attestations": _simple(
        "PyPI refused the attestations supplied with the upload",
        "PyPI verifies each attestation against the trusted publisher that minted the "
        "upload's token.",
        "publish from the top-level workflow registered as the publisher (not a reusable "
        "workflow), with the token minted by trusted publishing", "reusable-workflow-publish"),
    "no-distributions": _simple(
        "The publish step found no distributions to upload",
        "The action uploads `packages-dir` (default `dist/`); the download put the files "
        "elsewhere, or a later checkout wiped them.",
        "download the build artifact into the directory the step reads (name the artifact, "
        "or use `merge-multiple: true`), and do not run `actions/checkout` after the "
        "download", "artifact-path-mismatch"),
    "exchange-failed": _simple(
        "The trusted-publishing token exchange failed (the log does not show PyPI's reason)",
        "PyPI answers a refused exchange with an error code; without it the cause cannot be "
        "told from the log.",
        "look for the lines after the failure in the full log (`gh run view RUN_ID --log`), "
        "or run `pubaudit scan` on the repository", None),
    "reusable-workflow-warning": _simple(
        "The publish job runs in a reusable workflow",
        "PyPI matches the token against the reusable workflow that defines the job, but "
        "checks attestations against the top-level workflow: publishing from a reusable "
        "workflow is unsupported and breaks.",
        "move the publish job into the top-level workflow and register that file",
        "reusable-workflow-publish", warning=True),
    "master-branch-sunset": _simple(
        "The publish action is used at its sunset `master` branch",
        "`master` receives no updates, not even security fixes.",
        "pin the commit SHA of a release with a version comment (e.g. "
        "`@<commit> # v1.14.2`), not a branch", "unpinned-action", warning=True),
}

# A failure kind made moot by another one found in the same log.
_SUPERSEDED = {
    "exchange-failed": ("invalid-publisher", "invalid-pending-publisher", "invalid-reuse-token",
                        "invalid-token", "unknown-issuer", "invalid-payload", "not-enabled",
                        "audience-not-supported", "missing-id-token", "fork-pull-request",
                        "gitlab-id-token-missing", "pull-request-target"),
    "missing-id-token": ("fork-pull-request", "gitlab-id-token-missing"),
    "invalid-attestations": ("attestation-identity-mismatch",
                             "attestations-need-trusted-publishing"),
    "twine-no-credentials": ("missing-id-token", "gitlab-id-token-missing"),
}


def diagnose(facts: LogFacts, declarations: Sequence[Declaration], expected: Sequence[Expected],
             project_name: str | None) -> list[Diagnosis]:
    """One diagnosis per kind of failure found in the log: failures in log order, then
    the warnings (a reusable workflow, a sunset branch)."""
    ctx = _Context(facts, Sides(tuple(declarations), tuple(expected), project_name))
    groups: dict[str, list[Failure]] = {}
    for failure in facts.failures:
        groups.setdefault(failure.kind, []).append(failure)
    kinds = [k for k in groups if not any(other in groups for other in _SUPERSEDED.get(k, ()))]
    if "exchange-failed" in kinds and facts.claim_sets:
        groups["invalid-publisher"] = groups.pop("exchange-failed")
        kinds[kinds.index("exchange-failed")] = "invalid-publisher"
    out = []
    for kind in kinds:
        handler = _HANDLERS.get(kind)
        if handler is not None:
            out.append(handler(ctx, groups[kind]))
    mismatch_found = any(d.rule == "reusable-workflow-publish" and not d.warning for d in out)
    if mismatch_found:
        out = [d for d in out if d.kind != "reusable-workflow-warning"]
    out.sort(key=lambda d: (d.warning, d.line))
    return out
