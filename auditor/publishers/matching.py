"""Both sides of a trusted publisher, compared the way PyPI compares them.

``expected_publishers`` derives, from the publish jobs, what each job needs registered on
each index; ``compare`` says which fields of a declaration differ from it (with the likely
cause), and ``assign`` pairs every job with the declaration it matches or comes closest to.
Everything here is shared by the publisher rules, the ``publishers`` command, the JSON
inventory and ``explain-log``.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode
from weakref import WeakKeyDictionary

from auditor.facts.context import Context, PublishJob
from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.publishers.expected import Expected
from auditor.reading.declarations import (
    INDEX_HOSTS,
    INDEXES,
    PROVIDERS,
    Declaration,
    normalize_project,
)
from auditor.reading.identity import Identity, ProjectName
from auditor.reading.source import Anchor
from auditor.upload.publish import PublishStep

FIELDS = ("owner", "repository", "workflow", "environment", "project")


@record
class Mismatch:
    """A declared field that differs from what the job needs, with the likely cause."""

    field: str  # owner | repository | workflow | environment | project
    declared: str | None
    expected: str | None
    hint: str  # the likely cause, a sentence; "" when nothing specific is known
    case_only: bool = False


@record
class Malformed:
    """A declared value PyPI would refuse or that can never match a token."""

    number: int  # the declaration's
    field: str
    anchor: Anchor
    message: str


@record
class Assignment:
    """A publish job's need on one index, and the declaration it meets or comes closest to."""

    expected: Expected
    declaration: Declaration | None
    mismatches: tuple[Mismatch, ...]

    @property
    def satisfied(self) -> bool:
        return self.declaration is not None and not self.mismatches


# ----------------------------------------------------------------- the repository's side


def expected_publishers(ctx: Context, ident: Identity, include_tokens: bool = False,
                        indexes: tuple[str, ...] = INDEXES) -> list[Expected]:
    """One ``Expected`` per (GitHub publish job, index, project: a monorepo's job may
    upload several) that relies on trusted publishing;
    with ``include_tokens``, also for token uploads to PyPI/TestPyPI (what to register
    when migrating)."""
    project = ident.project.name if ident.project else None
    out: list[Expected] = []
    for pj in ctx.publish_jobs:
        workflow = pj.workflow
        if workflow.is_composite:
            continue
        nested = workflow.repository_prefix != ""  # a tree of repositories: no remote known
        callers = tuple(sorted({caller.file_name for caller, _ in ctx.callers_of(workflow)}))
        seen: set[tuple[str, str | None]] = set()
        for step in pj.steps:
            for index in step.indexes:
                if index not in indexes:
                    continue
                same = [s for s in pj.steps if index in s.indexes]
                trusted = all(s.trusted_publishing for s in same)
                if not include_tokens and not trusted:
                    continue
                for name in (None,) if nested else ctx.projects_of(step):
                    if (index, name) in seen:
                        continue
                    seen.add((index, name))
                    out.append(_github_expected(ident, pj, step, index, name, trusted,
                                                callers))
    out.extend(_gitlab_expected(ctx, ident, project, include_tokens, indexes))
    return out


def _github_expected(ident: Identity, pj: PublishJob, step: PublishStep, index: str,
                     project: str | None, trusted: bool, callers: tuple[str, ...]
                     ) -> Expected:
    """The publisher one GitHub upload needs for ``project``."""
    workflow, job = pj.workflow, pj.job
    nested = workflow.repository_prefix != ""  # a tree of repositories: no remote known
    remote = None if nested else ident.origin
    if remote is not None and remote.host != "github.com":
        remote = None  # a mirror elsewhere says nothing of the GitHub owner
    env = job.environment
    environment = env.name if env is not None and not env.is_expression else None
    env_anchor = None
    if env is not None:
        env_anchor = env.anchor.child("name", node=env.name_node) \
            if env.name_node is not None else env.anchor
    return Expected(
        provider="github", index=index, project=project,
        owner=remote.owner if remote else None,
        repository=remote.repository if remote else None,
        host=remote.host if remote else None, workflow=workflow.file_name,
        environment=environment, dynamic_environment=bool(env and env.is_expression),
        path=workflow.path, job=job.job_id, job_anchor=job.anchor,
        environment_anchor=env_anchor, upload_anchor=step.anchor,
        method=step.method, trusted=trusted, callers=callers)


def _gitlab_expected(ctx: Context, ident: Identity, project: str | None,
                     include_tokens: bool, indexes: tuple[str, ...]) -> list[Expected]:
    """GitLab: the namespace/project of the remote, the *top-level* pipeline path (PyPI
    matches ``ci_config_ref_uri``, never an included file) and the job's environment."""
    out: list[Expected] = []
    for pj in ctx.gitlab_publish_jobs:
        pipeline, job = pj.pipeline, pj.job
        nested = pipeline.prefix != ""
        remote = None if nested else ident.origin
        if remote is not None and remote.host == "github.com":
            remote = None  # a GitHub mirror says nothing of the GitLab namespace
        env = job.environment
        environment = env.name if env is not None and not env.is_expression else None
        seen: set[str] = set()
        for step in pj.steps:
            if step.index not in indexes or step.index in seen:
                continue
            trusted = all(s.trusted_publishing for s in pj.steps if s.index == step.index)
            if not trusted and not include_tokens:
                continue
            seen.add(step.index)
            out.append(Expected(
                provider="gitlab", index=step.index, project=None if nested else project,
                owner=remote.owner if remote else None,
                repository=remote.repository if remote else None,
                host=remote.host if remote else None, workflow=pipeline.ci_config_path,
                environment=environment, dynamic_environment=bool(env and env.is_expression),
                path=job.path, job=job.name, job_anchor=job.anchor,
                environment_anchor=env.name_anchor if env is not None else None,
                upload_anchor=step.anchor, method=step.method, trusted=trusted,
                included_from=pj.included_from,
                included_files=tuple(f[len(pipeline.prefix):]
                                     for f in pipeline.included_files)))
    return out


# ----------------------------------------------------------------- validation of declarations

_GITHUB_OWNER_RE = lazy_re(r"^[a-zA-Z0-9][a-zA-Z0-9-]*$")
_GITHUB_REPO_RE = lazy_re(r"^[a-zA-Z0-9-_.]+$")
_GITLAB_NAMESPACE_RE = lazy_re(r"^[a-zA-Z0-9][a-zA-Z0-9-_./+]*[a-zA-Z0-9]$")
_GITLAB_PROJECT_RE = lazy_re(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*[a-zA-Z0-9]$")
_GITLAB_ENV_RE = lazy_re(r"^[a-zA-Z0-9\-_/${} ]+$")
_PROJECT_RE = lazy_re(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.I)
_GITHUB_ENV_FORBIDDEN = set("'\"`,;\\")
_REQUIRED = {"github": ("owner", "repository", "workflow"),
             "gitlab": ("owner", "repository", "workflow"),
             "google": ("email",), "activestate": ("organization", "actor")}
_RELEVANT = {"github": ("owner", "repository", "workflow", "environment"),
             "gitlab": ("owner", "repository", "workflow", "environment"),
             "google": ("email", "subject"), "activestate": ("organization", "actor")}
_FIELD_LABEL = {"owner": "owner", "repository": "repository", "workflow": "workflow",
                "environment": "environment", "project": "project"}


def _odd_characters(value: str) -> str | None:
    """A description of the first invisible or non-ASCII character, or ``None``."""
    for char in value:
        if not char.isprintable() and char != " ":
            return f"a control or invisible character (U+{ord(char):04X})"
        if ord(char) > 127:
            import unicodedata  # a C extension to load; only a declaration like this needs it

            name = unicodedata.name(char, "unnamed character")
            return f"U+{ord(char):04X} {name}"
    return None


def malformed(decl: Declaration, project: str | None) -> list[Malformed]:
    """Values PyPI's registration form would refuse, or that can never match a token."""
    out: list[Malformed] = []

    def bad(field: str, message: str) -> None:
        out.append(Malformed(decl.number, field, decl.at(field), message))

    raw_provider = (decl.text("provider") or "github")
    if decl.provider not in PROVIDERS:
        bad("provider", f"provider {raw_provider!r} is not one PyPI offers "
            f"({', '.join(PROVIDERS)})")
        return out
    if decl.index not in INDEXES:
        bad("index", f"index {decl.text('index')!r} is not `pypi` or `testpypi`: trusted "
            "publishers exist only on pypi.org and test.pypi.org")
    provider = decl.provider
    for key in ("owner", "repository", "workflow", "environment", "project", "email",
                "subject", "organization", "actor"):
        value = decl.text(key)
        if value is None:
            continue
        if key not in _RELEVANT[provider] and key != "project":
            bad(key, f"`{key}` has no meaning for a {provider} publisher (it takes "
                f"{', '.join(_RELEVANT[provider])})")
            continue
        odd = _odd_characters(value)
        if odd:
            bad(key, f"`{key}` = {value!r} contains {odd}: PyPI compares the exact characters, "
                "so a look-alike or invisible character never matches; retype it in plain "
                "ASCII")
            continue
        if value != value.strip():
            bad(key, f"`{key}` = {value!r} has leading or trailing whitespace: the value "
                "was pasted with it; PyPI strips or refuses it, and the claim never has it")
            continue
    odd_fields = {m.field for m in out}
    for key in _REQUIRED[provider]:
        if not (decl.text(key) or "").strip() and key not in odd_fields:
            bad(key, f"a {provider} publisher needs `{key}`; PyPI's form requires it")
    declared_project = decl.project(None)
    if declared_project is not None and "project" not in odd_fields and \
            not _PROJECT_RE.match(declared_project):
        bad("project", f"project {declared_project!r} is not a valid project name "
            "(letters, digits, `.`, `_`, `-`; starting and ending with a letter or digit)")
    if decl.pending and declared_project is None and project is None:
        bad("project", "a pending publisher is registered for a project name, and none is "
            "declared here or found in pyproject.toml, setup.cfg or setup.py; add `project`")
    skip = {m.field for m in out}
    owner, repository, workflow = decl.owner, decl.repository, decl.workflow
    environment = decl.environment
    if provider == "github":
        if owner and "owner" not in skip and not _GITHUB_OWNER_RE.match(owner):
            bad("owner", f"owner {owner!r} is not a GitHub user or organization name "
                "(letters, digits and `-` only)" + (
                    "; give the owner and the repository name separately" if "/" in owner
                    else ""))
        if repository and "repository" not in skip and not _GITHUB_REPO_RE.match(repository):
            bad("repository", f"repository {repository!r} is not a GitHub repository name "
                "(letters, digits, `-`, `_`, `.`)" + (
                    "; give only the name, the owner goes in `owner`" if "/" in repository
                    else ""))
        if workflow and "workflow" not in skip:
            if "/" in workflow:
                base = workflow.rsplit("/", 1)[-1]
                bad("workflow", f"workflow {workflow!r} is a path: PyPI wants the file name "
                    f"only (`{base}`) and refuses directories")
            elif not workflow.endswith((".yml", ".yaml")):
                bad("workflow", f"workflow {workflow!r} has no `.yml`/`.yaml` extension: PyPI "
                    "wants the workflow's file name, not its `name:`")
        if environment and "environment" not in skip and (
                len(environment) > 255 or any(c in _GITHUB_ENV_FORBIDDEN for c in environment)):
            bad("environment", f"environment {environment!r} contains characters PyPI "
                "refuses (quotes, backquote, `,`, `;`, `\\`) or is over 255 characters")
    elif provider == "gitlab":
        if owner and "owner" not in skip and not _GITLAB_NAMESPACE_RE.match(owner):
            bad("owner", f"namespace {owner!r} is not a GitLab namespace path")
        if repository and "repository" not in skip and (
                not _GITLAB_PROJECT_RE.match(repository) or
                repository.endswith((".git", ".atom")) or
                re.search(r"[._-]{2}", repository)):
            bad("repository", f"project {repository!r} is not a GitLab project path (no "
                "`.git`/`.atom` suffix, no doubled `.`, `_` or `-`)")
        if workflow and "workflow" not in skip:
            if not workflow.endswith((".yml", ".yaml")):
                bad("workflow", f"workflow {workflow!r} must be the path of the top-level "
                    "pipeline file, ending in `.yml` or `.yaml` (e.g. `.gitlab-ci.yml`)")
            elif workflow.startswith("/") or workflow.endswith("/"):
                bad("workflow", f"workflow {workflow!r} must be relative to the repository "
                    "root, without a leading `/`")
        if environment and "environment" not in skip and not _GITLAB_ENV_RE.match(environment):
            bad("environment", f"environment {environment!r} has characters PyPI refuses "
                "for GitLab environments")
    return out


# ----------------------------------------------------------------- comparison


def _workflow_hint(declared: str, exp: Expected, names: dict[str, str],
                   files: set[str]) -> str:
    actual = exp.workflow
    stem_d, _, ext_d = declared.rpartition(".")
    stem_a, _, ext_a = actual.rpartition(".")
    if stem_d == stem_a and {ext_d, ext_a} == {"yml", "yaml"}:
        return f"the extension differs: `.{ext_d}` declared, `.{ext_a}` on disk"
    if declared.lower() == actual.lower():
        return "only the letter case differs"
    if declared.rsplit("/", 1)[-1] == actual:
        return "a path was entered where PyPI wants the file name only"
    if declared in exp.callers:
        return (f"`{declared}` is the caller; PyPI matches the reusable workflow that "
                f"defines the publish job (`{actual}`), named by the token's job_workflow_ref")
    if names.get(actual) and declared.strip() in (names[actual],
                                                  names[actual].strip() + ".yml"):
        return (f"`{names[actual]}` is the workflow's display `name:`, but PyPI wants its "
                "file name")
    if declared in files:
        return f"`{declared}` is another workflow of this repository"
    return "the workflow file was probably renamed after the publisher was registered"


def compare(decl: Declaration, exp: Expected, *, skip: frozenset[str] = frozenset(),
            names: dict[str, str] | None = None, files: set[str] | None = None,
            compare_project: bool = True, other_remotes: tuple[tuple[str, str], ...] = ()
            ) -> list[Mismatch]:
    """The fields of ``decl`` that make PyPI refuse ``exp``'s token (or its upload)."""
    out: list[Mismatch] = []
    gitlab = exp.provider == "gitlab"
    if "owner" not in skip and "repository" not in skip and exp.owner and exp.repository \
            and (decl.owner, decl.repository) in other_remotes:
        pass  # declared for another remote of this clone (a fork's upstream): accepted
    else:
        for field, declared, actual in (("owner", decl.owner, exp.owner),
                                        ("repository", decl.repository, exp.repository)):
            if field in skip or declared is None or actual is None:
                continue
            if declared == actual or (gitlab and declared.lower() == actual.lower()):
                continue
            case_only = declared.lower() == actual.lower()
            hint = ("only the letter case differs: PyPI stores GitHub's canonical spelling and "
                    "compares it exactly; the remote URL may use another case, so check the "
                    "spelling GitHub shows" if case_only else
                    "the repository was probably renamed or transferred, or this is a typo")
            out.append(Mismatch(field, declared, actual, hint, case_only))
    if "workflow" not in skip and decl.workflow is not None and decl.workflow != exp.workflow:
        hint = _workflow_hint(decl.workflow, exp, names or {}, files or set()) if not gitlab \
            else ""
        out.append(Mismatch("workflow", decl.workflow, exp.workflow, hint))
    declared_env = decl.environment
    if "environment" not in skip and declared_env and not exp.dynamic_environment:
        if exp.environment is None:
            out.append(Mismatch("environment", declared_env, None,
                                "the job has no `environment:`, so its token has no "
                                "environment claim"))
        elif gitlab and declared_env != exp.environment:
            case_only = declared_env.lower() == exp.environment.lower()
            out.append(Mismatch("environment", declared_env, exp.environment,
                                "GitLab environments are compared case-sensitively"
                                if case_only else "", case_only))
        elif not gitlab and declared_env.lower() != exp.environment.lower():
            out.append(Mismatch("environment", declared_env, exp.environment, ""))
    declared_project = decl.text("project")
    if compare_project and "project" not in skip and declared_project and exp.project and \
            normalize_project(declared_project.strip()) != normalize_project(exp.project):
        out.append(Mismatch("project", declared_project.strip(), exp.project, ""))
    return out


@record
class Audit:
    """Declarations against expectations, computed once per scan."""

    declarations: tuple[Declaration, ...]
    expected: tuple[Expected, ...]
    project: ProjectName | None
    malformed: tuple[Malformed, ...]
    assignments: tuple[Assignment, ...]
    satisfied: frozenset[int]  # declarations some job matches exactly

    @property
    def used(self) -> set[int]:
        """Declarations a job matches, or that are the closest to a job's needs."""
        return {a.declaration.number for a in self.assignments
                if a.declaration is not None} | self.satisfied

    @property
    def valid(self) -> tuple[Declaration, ...]:
        """Declarations whose provider and index PyPI knows."""
        bad = {m.number for m in self.malformed if m.field in ("provider", "index")}
        return tuple(d for d in self.declarations if d.number not in bad)


def declaration_key(decl: Declaration) -> tuple[str, ...]:
    """What PyPI keeps unique for a publisher: GitLab names compared without case, GitHub's
    environment stored lower-cased."""
    if decl.provider == "gitlab":
        return ("gitlab", decl.index, (decl.owner or "").lower(),
                (decl.repository or "").lower(), decl.workflow or "", decl.environment)
    return (decl.provider, decl.index, decl.owner or "", decl.repository or "",
            decl.workflow or "", decl.environment.lower())


def audit(ctx: Context, ident: Identity, declarations: tuple[Declaration, ...],
          expected: list[Expected] | None = None) -> Audit:
    project = ident.project.name if ident.project else None
    bad = tuple(m for d in declarations for m in malformed(d, project))
    bad_fields = {decl.number: frozenset(m.field for m in bad if m.number == decl.number)
                  for decl in declarations}
    expected = expected if expected is not None else expected_publishers(ctx, ident)
    names = {w.file_name: w.name for w in ctx.repo.workflows if w.name}
    files = {w.file_name for w in ctx.repo.workflows}
    others = tuple((r.owner, r.repository) for _, r in ident.others)
    projects_by_index: dict[str, set[str]] = {}
    for decl in declarations:
        name = decl.project(project)
        if name:
            projects_by_index.setdefault(decl.index, set()).add(normalize_project(name))
    assignments: list[Assignment] = []
    satisfied: set[int] = set()
    valid = [d for d in declarations
             if not bad_fields[d.number] & {"provider", "index"}]
    for exp in expected:
        candidates = [d for d in valid if d.index == exp.index and d.provider == exp.provider]
        if not candidates:
            assignments.append(Assignment(exp, None, ()))
            continue
        monorepo = len(projects_by_index.get(exp.index, set())) > 1
        scored = []
        for decl in candidates:
            # In a repository declaring several projects, which job uploads which project
            # is not visible in the workflow: the project is neither scored nor reported.
            found = compare(decl, exp, skip=bad_fields[decl.number], names=names,
                            files=files, compare_project=not monorepo,
                            other_remotes=others)
            scored.append((len(found), decl.number, decl, found))
            if not found:
                satisfied.add(decl.number)
        scored.sort(key=lambda item: (item[0], item[1]))
        _, _, best, found = scored[0]
        assignments.append(Assignment(exp, best, tuple(found)))
    return Audit(declarations, tuple(expected), ident.project, bad, tuple(assignments),
                 frozenset(satisfied))



# ----------------------------------------------------------------- what to register


def form_link(exp: Expected, project: str | None, pending: bool = False) -> str:
    """The page where the publisher is added, pre-filled where PyPI accepts parameters."""
    host = INDEX_HOSTS[exp.index]
    if pending or not project:
        return f"https://{host}/manage/account/publishing/"
    params: dict[str, str] = {"provider": exp.provider}
    if exp.provider == "github":
        params |= {"owner": exp.owner or "", "repository": exp.repository or "",
                   "workflow_filename": exp.workflow}
    else:
        params |= {"namespace": exp.owner or "", "project": exp.repository or "",
                   "workflow_filepath": exp.workflow}
    if exp.environment:
        params["environment"] = exp.environment
    query = urlencode({k: v for k, v in params.items() if v})
    return f"https://{host}/manage/project/{quote(normalize_project(project))}/settings/" \
           f"publishing/?{query}"


def registration_lines(exp: Expected, project: str | None) -> list[str]:
    """The values of PyPI's form, as ``label: value`` lines."""
    gitlab = exp.provider == "gitlab"
    unknown = "(unknown: no git remote `origin`; use the repository's canonical spelling)"
    lines = [f"Publisher: {'GitLab' if gitlab else 'GitHub'}",
             f"{'Namespace' if gitlab else 'Owner'}: {exp.owner or unknown}",
             f"{'Project name' if gitlab else 'Repository name'}: {exp.repository or unknown}",
             f"{'Top-level pipeline file path' if gitlab else 'Workflow name'}: {exp.workflow}"]
    if exp.dynamic_environment:
        lines.append("Environment name: (an expression in the workflow: register the value it "
                     "takes for releases)")
    else:
        lines.append(f"Environment name: {exp.environment or '(none: any environment)'}")
    if project:
        site = "TestPyPI" if exp.index == "testpypi" else "PyPI"
        lines.insert(0, f"{site} project name: {project}")
    return lines


# ----------------------------------------------------------------- for other commands


@record
class Sides:
    """Both sides of a repository's publishers, for ``explain-log`` and friends."""

    project: ProjectName | None
    declarations: tuple[Declaration, ...]
    expected: tuple[Expected, ...]
    config_errors: tuple[str, ...]


def sides_of(ctx: Context) -> Sides:
    errors = tuple(f"{e.path}:{e.line}:{e.column}: {e.message}" for e in ctx.config.errors)
    return Sides(ctx.identity.project, ctx.config.publishers,
                 tuple(expected_publishers(ctx, ctx.identity, include_tokens=True)), errors)


_AUDITS: WeakKeyDictionary[Context, Audit] = WeakKeyDictionary()


def publisher_audit(ctx: Context) -> Audit:
    """Declared publishers against what the publish jobs need, once per scan: the rules,
    the inventory and ``publishers`` all ask for it. Kept beside the context rather than on
    it, so the facts stage does not import the stage built on it."""
    found = _AUDITS.get(ctx)
    if found is None:
        found = _AUDITS[ctx] = audit(ctx, ctx.identity, ctx.config.publishers)
    return found
