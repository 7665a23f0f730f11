"""The publisher fields of a run (from its logged claims) against the declared publishers
and the repository's publish jobs, compared the way PyPI compares them.

PyPI's lookup (``research/pypi-trusted-publishing.md`` §1.3-1.4): on GitHub the owner, the
repository name and the workflow file named in ``job_workflow_ref`` exactly, the environment
case-insensitively and only when the publisher names one; on GitLab the namespace and
project case-insensitively, the top-level pipeline path and the environment exactly. Each
difference PyPI acts on becomes a ``Mismatch`` with the exact change; differences it
ignores (a case-only environment on GitHub) become notes saying they are not the cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from auditor.explainlog.parse import ClaimSet
from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.publishers.expected import Expected
from auditor.reading.declarations import INDEX_HOSTS, Declaration, normalize_project

WORKFLOW_FILE_RE = lazy_re(r"([^/]+\.(?:yml|yaml))(?=@)")  # PyPI's own extraction
REF_RE = lazy_re(r"^(?P<repo>[^/]+/[^/]+)/(?P<path>.+?)@(?P<ref>.+)$")
_GITLAB_PATH_RE = lazy_re(r"(?<=//)(.*[^/]\.(?:yml|yaml))(?=@)")


@record
class Mismatch:
    """One publisher field whose value in the run differs from the declared or expected one."""

    field: str  # owner | repository | workflow | environment | index | project | pending
    claim: str | None  # the run's value (from the log); None when the log does not say
    declared: str | None  # the declaration's value
    expected: str | None  # the repository's value (the publish job)
    fix: str
    line: int | None = None  # the claim's line in the log
    publisher: str | None = None  # the declaration compared (``describe()``)


# ----------------------------------------------------------------- the run's identity


@record
class Identity:
    """The publisher fields of one side: the run (from its claims) or a publish job."""

    source: str  # how to name this side in a sentence: "the run", "the job publish in ..."
    provider: str  # github | gitlab
    owner: str | None
    repository: str | None
    workflow: str | None  # GitHub: file name; GitLab: the top-level pipeline path
    environment: str | None
    environment_known: bool
    workflow_repo: str | None = None  # GitHub: owner/repo that holds the job's workflow
    workflow_ref: str | None = None  # GitHub: the ref the job's workflow was taken at
    caller: str | None = None  # GitHub: the top-level workflow file (workflow_ref)
    lines: tuple[tuple[str, int], ...] = ()

    def line(self, name: str) -> int | None:
        return next((n for key, n in self.lines if key == name), None)


def run_identity(claims: ClaimSet) -> Identity:
    """The publisher fields PyPI reads from the claims (§1.3 lookup, §1.4 for GitLab)."""
    lines: dict[str, int] = {c.name: c.line for c in claims.claims}
    if claims.provider == "gitlab":
        path = claims.value("project_path") or ""
        namespace, _, project = path.rpartition("/")
        uri = claims.value("ci_config_ref_uri") or ""
        found = _GITLAB_PATH_RE.search(uri)
        env_claim = claims.get("environment")
        return Identity("the run", "gitlab", namespace or None, project or None,
                        found.group(1) if found else None,
                        env_claim.value if env_claim else None, env_claim is not None,
                        lines=tuple({"owner": lines.get("project_path", claims.line),
                                     "repository": lines.get("project_path", claims.line),
                                     "workflow": lines.get("ci_config_ref_uri", claims.line),
                                     "environment": lines.get("environment", claims.line)}
                                    .items()))
    repository = claims.value("repository") or ""
    owner = claims.value("repository_owner") or repository.partition("/")[0] or None
    name = repository.partition("/")[2] or None
    jwr = claims.value("job_workflow_ref") or ""
    workflow = WORKFLOW_FILE_RE.search(jwr)
    parts = REF_RE.match(jwr)
    caller_ref = claims.value("workflow_ref") or ""
    caller = WORKFLOW_FILE_RE.search(caller_ref)
    environment: str | None = None
    known = False
    env_line = lines.get("environment", lines.get("sub", claims.line))
    if claims.has("environment"):
        environment, known = claims.value("environment"), True
    else:  # uv's older claims struct has no environment: read it from the default `sub`
        sub = claims.value("sub") or ""
        if sub.startswith("repo:") and ":environment:" in sub:
            environment, known = sub.split(":environment:", 1)[1], True
        elif sub.startswith("repo:") and (":ref:" in sub or ":pull_request" in sub):
            known = True
    return Identity(
        "the run", "github", owner, name, workflow.group(1) if workflow else None,
        environment, known,
        workflow_repo=parts.group("repo") if parts else None,
        workflow_ref=parts.group("ref") if parts else None,
        caller=caller.group(1) if caller else None,
        lines=tuple((key, line) for key, line in (
            ("owner", lines.get("repository_owner", lines.get("repository", 0))),
            ("repository", lines.get("repository", 0)),
            ("workflow", lines.get("job_workflow_ref", 0)),
            ("environment", env_line)) if line))


def job_identity(exp: Expected) -> Identity:
    """A publish job's side, for logs without claims (twine): what the job would present."""
    return Identity(f"the job `{exp.job}` in {exp.path}", exp.provider, exp.owner,
                    exp.repository, exp.workflow, exp.environment,
                    not exp.dynamic_environment)


# ----------------------------------------------------------------- field by field


def declaration_where(decl: Declaration, key: str) -> str:
    """``pyproject.toml:12``: where to edit the declaration's ``key``."""
    anchor = decl.at(key)
    if anchor.span is not None:
        return f"{anchor.path}:{anchor.span[0] + 1}"
    return anchor.path


def publisher_page(index: str, project: str | None, pending: bool = False) -> str:
    """The page where a publisher is added: the project's, or the account's for pending."""
    host = INDEX_HOSTS.get(index, "pypi.org")
    if pending or not project:
        return f"https://{host}/manage/account/publishing/"
    return f"https://{host}/manage/project/{normalize_project(project)}/settings/publishing/"


def _replace(decl: Declaration, label: str, value: str, key: str, project: str | None) -> str:
    """PyPI cannot edit a publisher: add the right one, remove the stale one."""
    page = publisher_page(decl.index, decl.project(project), decl.pending)
    return (f"on {page} add the publisher again with {label} `{value}` and remove the old "
            f"one (PyPI cannot edit a publisher), and set `{key} = \"{value}\"` in "
            f"{declaration_where(decl, key)}")


@dataclass
class Comparison:
    """Field differences between two sides: the causes (PyPI refuses) and notes (it
    does not)."""

    causes: list[Mismatch] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rule: str | None = None
    fix: str | None = None  # when no single field is the cause

    def cause(self, mismatch: Mismatch, rule: str) -> None:
        self.causes.append(mismatch)
        self.rule = self.rule or rule


def compare_with_declaration(run: Identity, decl: Declaration, project: str | None,
                             expected: Sequence[Expected] = ()) -> Comparison:
    """The fields of ``decl`` that make PyPI refuse ``run`` (its causes), and the differences
    that PyPI ignores (notes), each with the exact change."""
    out = Comparison()
    gitlab = run.provider == "gitlab"
    who = decl.describe()
    owner_label = "Namespace" if gitlab else "Owner"
    repo_label = "Project name" if gitlab else "Repository name"
    for key, label, have, want in (("owner", owner_label, run.owner, decl.owner),
                                   ("repository", repo_label, run.repository,
                                    decl.repository)):
        if have is None or want is None or have == want:
            continue
        case_only = have.lower() == want.lower()
        if gitlab and case_only:
            continue  # GitLab namespaces and projects are compared case-insensitively
        if case_only and key == "owner":
            out.notes.append(
                f"The declared owner `{want}` differs from the run's `{have}` only in case: "
                "PyPI stores the owner as GitHub's canonical login and looks it up exactly, "
                f"so this is not the cause; correct the declaration (`owner = \"{have}\"` in "
                f"{declaration_where(decl, 'owner')}).")
            continue
        if case_only:
            why = (f"{run.source} is in `{run.owner}/{have}`; {who} names `{want}`, and "
                   "PyPI stores the repository name as typed and compares it exactly")
        else:
            why = (f"{run.source} comes from `{run.owner}/{run.repository}`; {who} names "
                   f"`{decl.owner}/{decl.repository}`: the repository was renamed or "
                   "transferred (GitHub's redirects hide it), or this is a typo")
        out.cause(Mismatch(key, have if run.source == "the run" else None, want,
                           None if run.source == "the run" else have,
                           f"{why}; {_replace(decl, label, have, key, project)}",
                           run.line(key), who), "publisher-repository-mismatch")
    _compare_workflow(run, decl, project, out, expected)
    _compare_environment(run, decl, project, out, expected)
    return out


def _compare_workflow(run: Identity, decl: Declaration, project: str | None, out: Comparison,
                      expected: Sequence[Expected]) -> None:
    have, want = run.workflow, decl.workflow
    who = decl.describe()
    from_log = run.source == "the run"
    claim, exp_value = (have, None) if from_log else (None, have)
    if run.provider == "github" and run.workflow_repo and run.owner and run.repository and \
            run.workflow_repo.lower() != f"{run.owner}/{run.repository}".lower():
        out.cause(Mismatch(
            "workflow", claim, want, exp_value,
            f"the publishing job is defined in a reusable workflow of another repository "
            f"(`{run.workflow_repo}`), and PyPI accepts only workflows of the repository "
            f"itself: move the publish job into a workflow of `{run.owner}/{run.repository}` "
            "and register that file", run.line("workflow"), who), "reusable-workflow-publish")
        return
    if have is None or want is None or have == want:
        return
    label = "Top-level pipeline file path" if run.provider == "gitlab" else "Workflow name"
    change = _replace(decl, label, have, "workflow", project)
    stem_have, _, ext_have = have.rpartition(".")
    stem_want, _, ext_want = want.rpartition(".")
    rule = "publisher-workflow-mismatch"
    if run.provider == "gitlab":
        hint = (f"{who} names `{want}`, {run.source} ran from the top-level pipeline file "
                f"`{have}`; PyPI compares the path exactly and only the top-level file "
                "counts, not an `include:`d one")
        if any(want in e.included_files for e in expected):
            rule = "gitlab-publisher-path"
    elif stem_have == stem_want and {ext_have, ext_want} == {"yml", "yaml"}:
        hint = (f"{who} names `{want}`, {run.source}'s workflow file is `{have}`: the "
                "extension is compared exactly (`.yml` is not `.yaml`)")
        change += f"; or rename the workflow file back to `{want}`"
    elif have.lower() == want.lower():
        hint = (f"{who} names `{want}`, {run.source}'s workflow file is `{have}`: file "
                "names are compared exactly, letter case included")
    elif "/" in want and want.rsplit("/", 1)[-1] == have:
        hint = (f"{who} names the path `{want}`; PyPI wants the file name only (`{have}`)")
    elif run.caller and run.caller != have and want == run.caller:
        out.cause(Mismatch(
            "workflow", claim, want, exp_value,
            f"{who} names `{want}`, the top-level workflow; the publishing job is defined in "
            f"the reusable workflow `{have}` that it calls, and PyPI matches that file "
            "(job_workflow_ref), not the caller (workflow_ref). Move the publish job from "
            f"`{have}` into `{want}`: then the token and the upload's attestations (checked "
            f"against `{want}`) both match the publisher as declared. Registering `{have}` "
            f"instead gets a token, but the attestations then fail at upload",
            run.line("workflow"), who), "reusable-workflow-publish")
        return
    elif not want.endswith((".yml", ".yaml")):
        hint = (f"{who} names `{want}`, which is not a file name (a workflow's `name:`?); "
                f"PyPI wants the file name: {run.source}'s is `{have}`")
    else:
        files = {e.workflow for e in expected}
        hint = (f"{who} names `{want}`, {run.source}'s workflow file is `{have}`: " + (
            f"`{want}` is another publishing workflow of this repository" if want in files
            else "the workflow was probably renamed after the publisher was registered"))
        change += f"; or, if `{want}` is the workflow meant to publish, publish from it"
    out.cause(Mismatch("workflow", claim, want, exp_value, f"{hint}; {change}",
                       run.line("workflow"), who), rule)


def _job_of(run: Identity, expected: Sequence[Expected], index: str | None) -> Expected | None:
    fitting = [e for e in expected if e.provider == run.provider and
               (run.workflow is None or e.workflow == run.workflow)]
    on_index = [e for e in fitting if index is None or e.index == index]
    chosen = on_index or fitting
    return chosen[0] if chosen else None


def _job_words(exp: Expected | None) -> str:
    return f" (`{exp.job}` in {exp.path})" if exp else ""


def _compare_environment(run: Identity, decl: Declaration, project: str | None,
                         out: Comparison, expected: Sequence[Expected]) -> None:
    want = decl.environment
    if not want or not run.environment_known:
        return  # "" on PyPI accepts any environment, or none
    have = run.environment
    who = decl.describe()
    from_log = run.source == "the run"
    claim, exp_value = (have, None) if from_log else (None, have)
    job = _job_of(run, expected, decl.index)
    if have is None:
        key = "environment:" if run.provider == "github" else "environment: name:"
        out.cause(Mismatch(
            "environment", claim, want, exp_value,
            f"{who} requires environment `{want}`, and {run.source} had none (the token "
            f"carries an `environment` claim only when the job names one): add "
            f"`{key} {want}` to the publishing job{_job_words(job)}; keep the environment's "
            "protection rules on "
            f"{'GitHub' if run.provider == 'github' else 'GitLab'}",
            run.line("environment"), who), "publisher-environment-mismatch")
        return
    if run.provider == "github" and have.lower() == want.lower():
        if have != want:
            out.notes.append(
                f"The environment differs only in case (`{have}` in the run, `{want}` "
                "declared): PyPI compares GitHub environments case-insensitively, so this is "
                "not the cause.")
        return
    if run.provider == "gitlab" and have == want:
        return
    rule_words = (" (GitLab environments are compared case-sensitively)"
                  if have.lower() == want.lower() else "")
    out.cause(Mismatch(
        "environment", claim, want, exp_value,
        f"{who} requires environment `{want}`, {run.source} ran in `{have}`{rule_words}: "
        f"{_replace(decl, 'Environment name', have, 'environment', project)}; or, if `{want}`"
        f" is the environment that carries the protection rules, set it on the publishing "
        f"job{_job_words(job)} instead of `{have}`",
        run.line("environment"), who), "publisher-environment-mismatch")


# ----------------------------------------------------------------- claims against the sides


@record
class Sides:
    """What the repository says: declarations, publish jobs, project name."""

    declarations: tuple[Declaration, ...]
    expected: tuple[Expected, ...]
    project: str | None


def _registration(run: Identity, index: str, job: Expected | None = None) -> str:
    """The values of PyPI's form for ``run``. A run without environment gets one suggested
    (the job's in this checkout, else the index name), never "any": the environment is
    where GitHub's reviewers and tag rules gate the upload."""
    gitlab = run.provider == "gitlab"
    values = [f"{'Namespace' if gitlab else 'Owner'} `{run.owner}`",
              f"{'Project name' if gitlab else 'Repository name'} `{run.repository}`",
              f"{'Top-level pipeline file path' if gitlab else 'Workflow name'} "
              f"`{run.workflow}`"]
    if run.environment:
        values.append(f"Environment name `{run.environment}`")
    else:
        suggested = (job.environment if job and job.environment else index)
        key = "environment:" if not gitlab else "environment: name:"
        values.append(f"Environment name `{suggested}` after adding `{key} {suggested}` to "
                      f"the publishing job{_job_words(job)} (the run had none)")
    return f"{', '.join(values)} on {INDEX_HOSTS.get(index, index)}"


def _against_repository(run: Identity, sides: Sides, index: str) -> Comparison:
    """Notes (and, without declarations, causes) from the repository's publish jobs."""
    out = Comparison()
    jobs = [e for e in sides.expected if e.provider == run.provider]
    if not jobs:
        return out
    files = sorted({e.workflow for e in jobs} | {c for e in jobs for c in e.callers})
    if run.workflow and run.workflow not in files:
        out.notes.append(
            f"The run's workflow `{run.workflow}` defines no publish job in this checkout "
            f"(publishing workflows here: {', '.join(files)}): the run used another branch "
            "or commit, or the file was renamed since.")
        return out
    job = _job_of(run, jobs, index)
    if job is None:
        return out
    if job.owner and job.repository and run.owner and run.repository and \
            (job.owner, job.repository) != (run.owner, run.repository):
        same = f"{job.owner}/{job.repository}".lower() == f"{run.owner}/{run.repository}".lower()
        out.notes.append(
            f"The git remote `origin` is `{job.owner}/{job.repository}`, the run came from "
            f"`{run.owner}/{run.repository}`" + (
                ": only the letter case differs; PyPI needs GitHub's canonical spelling, "
                "the one in the run." if same else
                ": a fork, or the repository was renamed or transferred (update the remote "
                "with `git remote set-url origin ...`)."))
    if job.environment is not None and run.environment_known and \
            (run.environment or "").lower() != job.environment.lower():
        had = f"`{run.environment}`" if run.environment else "none"
        out.notes.append(
            f"The job `{job.job}` in {job.path} uses environment `{job.environment}` in this "
            f"checkout, the run had {had}: the run used another version of the workflow.")
    return out


def explain_claims(claims: ClaimSet, index: str, sides: Sides) -> Comparison:
    """Why PyPI found no publisher for these claims, field by field."""
    run = run_identity(claims)
    out = Comparison()
    declared = [d for d in sides.declarations if d.provider == run.provider]
    repo_side = _against_repository(run, sides, index)
    if not declared:
        job = _job_of(run, sides.expected, index)
        out.fix = (
            f"make the publisher on PyPI exactly: {_registration(run, index, job)} (the "
            "run's values: use them if this is the repository, workflow and environment "
            f"meant to publish); it is on {publisher_page(index, sides.project)}, or on "
            f"{publisher_page(index, None, pending=True)} as a pending publisher if the "
            "project does not exist yet. Then declare it in [[tool.pubaudit.publishers]] so that "
            "`pubaudit scan` checks it before the next release")
        others = sorted({d.provider for d in sides.declarations})
        out.notes.append(
            f"No {'GitLab' if run.provider == 'gitlab' else 'GitHub'} publisher is declared "
            "in [[tool.pubaudit.publishers]]"
            + (f" (only {', '.join(others)} ones)" if others else "")
            + ", so pubaudit cannot tell which value PyPI has differently.")
        out.notes.extend(repo_side.notes)
        out.rule = "undeclared-publisher"
        return out
    on_index = [d for d in declared if d.index == index]
    if not on_index:
        others = sorted({d.index for d in declared})
        out.cause(Mismatch(
            "index", index, ", ".join(others), None,
            f"the run uploads to {INDEX_HOSTS.get(index, index)}, and publishers are declared "
            f"only for {', '.join(others)}: TestPyPI and PyPI are separate sites with separate "
            f"accounts and publishers. Register a publisher on {INDEX_HOSTS.get(index, index)} "
            f"({publisher_page(index, sides.project, pending=True)} for a project that does "
            f"not exist there yet) with {_registration(run, index)}, and declare it with "
            f"`index = \"{index}\"`", None, None), "publisher-missing-for-index")
        out.notes.extend(repo_side.notes)
        return out
    scored = []
    for decl in on_index:
        compared = compare_with_declaration(run, decl, sides.project, sides.expected)
        scored.append((len(compared.causes), decl.number, decl, compared))
    scored.sort(key=lambda item: (item[0], item[1]))
    _, _, best, compared = scored[0]
    out.causes.extend(compared.causes)
    out.notes.extend(compared.notes)
    out.rule = compared.rule
    if not compared.causes:
        out.fix = (
            f"{best.describe()} matches every claim PyPI checks, so the publisher on PyPI is "
            "not what is declared: compare it on "
            f"{publisher_page(index, best.project(sides.project), best.pending)} (typos, invisible "
            "characters, registered on the other index); if the GitHub account or "
            "organization was deleted and re-created, its numeric id (repository_owner_id) "
            "changed: remove the publisher and add it again" + (
                "; a pending publisher expires after 30 days and is dropped when someone else "
                "creates the project first: register it again" if best.pending else ""))
    if len(on_index) > 1 and compared.causes:
        out.notes.append(f"Compared with the closest of {len(on_index)} declared "
                         f"{index} publishers: {best.describe()}.")
    out.notes.extend(repo_side.notes)
    return out


def explain_repository(sides: Sides, index: str) -> Comparison:
    """Without claims in the log (twine prints none): the declarations against the publish
    jobs, which is where the mismatch must be."""
    out = Comparison()
    jobs = [e for e in sides.expected if e.index == index]
    declared = [d for d in sides.declarations if d.index == index]
    if not jobs or not declared:
        out.notes.append(
            "The log shows no claims (twine does not print them), and "
            + ("no publisher is declared for this index" if not declared else
               "no publish job for this index was found in the repository")
            + ": compare the project's Publishing page on PyPI with the repository's owner, "
            "repository name, workflow file name and job environment (`pubaudit publishers` "
            "prints the values to register).")
        return out
    best: tuple[int, Comparison] | None = None
    for job in jobs:
        for decl in declared:
            compared = compare_with_declaration(job_identity(job), decl, sides.project,
                                                sides.expected)
            if best is None or len(compared.causes) < best[0]:
                best = (len(compared.causes), compared)
    assert best is not None
    out = best[1]
    out.notes.append("The log shows no claims (twine does not print them): the comparison is "
                     "between the declarations and the publish jobs of this checkout.")
    if not out.causes:
        page = publisher_page(index, declared[0].project(sides.project), declared[0].pending)
        out.fix = ("the declarations match the publish jobs, so the publisher on PyPI differs "
                   f"from what is declared: compare it field by field on {page} (owner, "
                   "repository, workflow file name, environment; pending or not)")
    return out
