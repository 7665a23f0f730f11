"""Recognise uploads in GitLab jobs: the ``script:`` lines parsed like GitHub ``run:``.

The command classification and the target/credential analysis are the GitHub ones
(``auditor.upload.publish``); what differs on GitLab is where values come from and how the OIDC
token reaches the tool:

- variables come from the script itself (``export TWINE_PASSWORD=...`` on an earlier line,
  since a job's lines share one shell), the job's ``variables:`` and the global ones;
- ``${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/pypi`` is GitLab's own package
  registry: index "other", and its ``$CI_JOB_TOKEN`` is the normal credential there;
- the token is exported by GitLab as the variable an ``id_tokens:`` entry names. twine
  (through ``id``) and uv (through ``ambient-id``) read ``<AUDIENCE>_ID_TOKEN``, the audience
  upper-cased with non-alphanumerics replaced by ``_``: ``PYPI_ID_TOKEN`` or
  ``TESTPYPI_ID_TOKEN`` (research §1.4; astral-sh/ambient-id ``src/gitlab.rs``);
- before twine 6.1 the exchange was done by hand: ``python -m id PYPI`` or a ``curl`` to
  ``/_/oidc/mint-token``, then ``twine upload -p "$token"``. That password is minted in the
  job from the ID token, not a stored secret: it counts as trusted publishing.

pdm and maturin only do trusted publishing on GitHub Actions, so on GitLab an upload without
credentials counts as trusted publishing for twine and uv only. An upload that names a user
but no password gets the password from a CI/CD variable set in the project settings, which
YAML cannot show: that is a token upload, not trusted publishing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from auditor.gitlab.model import GitlabEnvironment, GitlabJob, IdToken, Pipeline, ScriptLine
from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.positions import scalar_span
from auditor.reading.source import Anchor
from auditor.upload.publish import (
    CREDENTIAL_HINTS,
    PYTHON_INDEXES,
    WRAPPER_HINT_RE,
    Credential,
    UploadCommand,
    analyse_upload,
    classify_command,
    credential_kind,
    resolve_tool,
    url_target_of,
)
from auditor.upload.shell import Command, split_commands, strip_prefixes
from auditor.upload.wrappers import may_wrap

if TYPE_CHECKING:
    from auditor.upload.wrappers import WrapperReader

# Tools that exchange a GitLab ID token for a PyPI token by themselves.
SELF_EXCHANGING = frozenset({"twine", "uv"})
_GITLAB_REGISTRY_RE = lazy_re(r"(CI_API_V4_URL|/api/v4/)\S*/packages/pypi", re.I)
_MINT_MARKER = "/_/oidc/"
_ASSIGNED_RE = lazy_re(r"(?:^|[\s;&|(])(?:export\s+|local\s+|declare\s+(?:-\w+\s+)*)?"
                          r"([A-Za-z_][A-Za-z0-9_]*)=", re.M)
_VARIABLE_REF_RE = lazy_re(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def id_token_variable(audience: str) -> str:
    """The variable ``id``/``ambient-id`` read for ``audience`` on GitLab."""
    return re.sub(r"[^A-Za-z0-9]", "_", audience).upper() + "_ID_TOKEN"


def gitlab_url_target(method: str, value: str,
                      uv_indexes: dict[str, str]) -> tuple[str, str | None]:
    """As for GitHub, plus GitLab's own package registry written with CI variables."""
    if _GITLAB_REGISTRY_RE.search(value):
        return "other", value
    if "://" in value and "$" in value.split("://", 1)[1].split("/", 1)[0]:
        return "unknown", None  # the host is a variable
    return url_target_of(method, value, uv_indexes)


@record
class GitlabPublishStep:
    """One upload command in a GitLab job."""

    line: ScriptLine
    method: str
    anchor: Anchor  # the command inside its script line
    index: str  # pypi | testpypi | other | unknown
    registry: str
    url: str | None
    url_anchor: Anchor | None
    credentials: tuple[Credential, ...]  # static: stored secrets, user names
    minted: tuple[Credential, ...]  # passwords minted in the job from its ID token
    argv: tuple[str, ...]
    uv_trusted_mode: str | None
    uv_trusted_anchor: Anchor | None
    exchange: str  # who swaps the ID token for a PyPI token: twine | uv | id | script | none
    exchange_audience: str | None  # the audience whose variable the exchange reads
    exchange_anchor: Anchor | None  # the `python -m id` command, for exchange "id"
    wrapper: Anchor | None = None  # the upload inside a repository file the line runs
    wrapper_label: str | None = None  # how the line reaches it: "make publish"

    @property
    def secrets(self) -> tuple[Credential, ...]:
        return tuple(c for c in self.credentials if not c.is_username)

    @property
    def targets_python_index(self) -> bool:
        return self.index in PYTHON_INDEXES

    @property
    def trusted_publishing(self) -> bool:
        """Relies on trusted publishing: PyPI/TestPyPI, no stored credential, and a tool
        (or a hand-written exchange) that turns the ID token into an upload token."""
        if not self.targets_python_index or self.secrets:
            return False
        if self.minted:
            return True
        if any(c.is_username for c in self.credentials):
            return False  # the password comes from a project CI/CD variable
        if self.method == "uv" and (self.uv_trusted_mode or "").strip().lower() == "never":
            return False
        return self.method in SELF_EXCHANGING

    @property
    def credential(self) -> str:
        """How the upload authenticates, as the inventory names it (``credential_kind``)."""
        return credential_kind(self.secrets, self.minted, self.trusted_publishing)

    @property
    def via(self) -> str | None:
        """GitLab ``script:`` lines are not followed into wrapper files (yet)."""
        return None

    @property
    def token_variable(self) -> str | None:
        """The ``id_tokens`` variable the exchange reads, when the tool fixes its name."""
        if self.exchange in ("twine", "uv", "id") and self.exchange_audience:
            return id_token_variable(self.exchange_audience)
        return None

    @property
    def tool(self) -> str:
        return {"id": "`python -m id`", "script": "the token exchange in this job"}.get(
            self.exchange, self.method)


@record
class GitlabPublishJob:
    """A GitLab job with at least one upload, and what decides whether it can publish."""

    pipeline: Pipeline
    job: GitlabJob
    steps: tuple[GitlabPublishStep, ...]

    @property
    def trusted_publishing(self) -> bool:
        return any(s.trusted_publishing for s in self.steps)

    @property
    def environment(self) -> GitlabEnvironment | None:
        return self.job.environment

    @property
    def id_tokens(self) -> tuple[IdToken, ...]:
        return self.job.id_tokens

    @property
    def tag_only(self) -> bool:
        return self.job.condition.tag_only

    @property
    def included_from(self) -> str | None:
        """The include file that defines the job, or ``None`` for the top-level file."""
        return None if self.job.path == self.pipeline.path else self.job.path


class _Variables:
    """Variables an upload command inherits: shell assignments on earlier lines, then the
    job's ``variables:``, then the global ones (nearest definition wins)."""

    def __init__(self, job: GitlabJob) -> None:
        self.job = job
        self.shell: dict[str, tuple[str, Anchor]] = {}

    def assign(self, name: str, value: str, anchor: Anchor) -> None:
        self.shell[name] = (value, anchor)

    def lookup(self, prefix: str) -> list[tuple[str, str, str, Anchor]]:
        out: list[tuple[str, str, str, Anchor]] = []
        seen: set[str] = set()

        def matches(name: str) -> bool:
            return name.startswith(prefix) if prefix.endswith("_") else name == prefix

        for name, (value, anchor) in self.shell.items():
            if matches(name) and value.strip() not in ("", "''", '""'):
                seen.add(name)
                out.append((name, value, "script", anchor))
        for variable in self.job.variables:
            if matches(variable.name) and variable.name not in seen and \
                    variable.value.strip() not in ("", "''", '""'):
                seen.add(variable.name)
                out.append((variable.name, variable.value, variable.level, variable.anchor))
        return out


def _command_anchor(pipeline: Pipeline, line: ScriptLine, command: Command) -> Anchor:
    source = pipeline.source(line.anchor.path)
    span = scalar_span(source, line.node, command.start, command.end) if source else None
    if span is None:
        return line.anchor
    return Anchor(line.anchor.path, (*line.anchor.route, " ".join(command.argv[:3])),
                  line.node, span)


def step_word_anchor(pipeline: Pipeline, line: ScriptLine, command: Command, index: int,
                 base: Anchor) -> Anchor:
    source = pipeline.source(line.anchor.path)
    word = command.words[index]
    span = scalar_span(source, line.node, word.start, word.end) if source else None
    if span is None:
        return base
    return Anchor(base.path, (*base.route, index), line.node, span)


def _exchanges(job: GitlabJob, pipeline: Pipeline) -> tuple[str | None, Anchor | None, bool]:
    """``(audience of python -m id, its anchor, whether the job mints a token by hand)``."""
    audience: str | None = None
    anchor: Anchor | None = None
    mints = False
    for line in job.script:
        text = line.node.value
        if _MINT_MARKER in text:
            mints = True
        if " id" not in text and "id " not in text:
            continue
        for command in split_commands(text):
            words, _ = strip_prefixes(command.argv)
            resolved = resolve_tool(words) if words else None
            if resolved is None or resolved[0] != "id":
                continue
            positional = [a for a in resolved[1] if not a.startswith("-")]
            if positional:
                audience = positional[0]
                anchor = _command_anchor(pipeline, line, command)
                mints = True
    return audience, anchor, mints


def _script_variables(job: GitlabJob) -> set[str]:
    names: set[str] = set()
    for line in job.script:
        names.update(_ASSIGNED_RE.findall(line.node.value))
    return names


def _is_minted(credential: Credential, minted_names: set[str], exchanging: bool) -> bool:
    """The credential's value is computed in the job that exchanges its ID token: a shell
    variable the script assigns, or a command substitution (``$(...)``, which the shell
    splitter leaves as a bare ``$``)."""
    if not exchanging:
        return False
    value = credential.value.strip()
    if value == "$" or value.startswith(("$(", "`")):
        return True
    return any(name in minted_names for name in _VARIABLE_REF_RE.findall(value))


_RELEASE_JOB_RE = lazy_re(r"release|publish|upload|deploy|pypi|dist", re.I)


def _release_job(job: GitlabJob) -> bool:
    """Whether a job looks like a release: its name, stage or environment says so, or its
    variables hold a PyPI credential. Only such jobs have their wrapper files read: a test
    job's `tox -e py312` or `make test` is not followed (it would cost every pipeline the
    parse of its tox.ini and Makefile)."""
    named = " ".join(filter(None, (job.name, job.stage,
                                   job.environment.name if job.environment else None)))
    if _RELEASE_JOB_RE.search(named):
        return True
    return any(hint in f"{v.name}={v.value}".upper() for v in job.variables
               for hint in CREDENTIAL_HINTS)


def _hinted(words: list[str]) -> bool:
    """A command worth following into a file: it names a wrapper or a release."""
    text = " ".join(words)
    return WRAPPER_HINT_RE.search(text) is not None or \
        _RELEASE_JOB_RE.search(text) is not None


def _wraps(job: GitlabJob) -> bool:
    """Whether a script line may run a repository file (``make publish``, ``tox -e
    release``, ``./release.sh``...), before any file is read."""
    return _release_job(job) and any(WRAPPER_HINT_RE.search(line.node.value)
                                     for line in job.script)


def publish_steps(pipeline: Pipeline, job: GitlabJob, uv_indexes: dict[str, str],
                  wrappers: WrapperReader | None = None) -> list[GitlabPublishStep]:
    """Every upload command of ``job``, in script order; with ``wrappers``, also the
    uploads inside the repository files a script line runs (the step keeps the script
    command as its anchor and the wrapper line as ``wrapper``)."""
    if wrappers is not None and not _wraps(job):
        wrappers = None
    if wrappers is None and not any(w in line.node.value for line in job.script
                                    for w in ("upload", "publish", "push")):
        return []  # the same fast pre-filter as for GitHub `run:`
    id_audience, id_anchor, mints = _exchanges(job, pipeline)
    has_pypi_token = any(a in PYTHON_INDEXES for t in job.id_tokens for a in t.audiences)
    exchanging = mints or has_pypi_token
    minted_names = _script_variables(job) if exchanging else set()
    variables = _Variables(job)
    found: list[GitlabPublishStep] = []
    for line in job.script:
        for command in split_commands(line.node.value):
            words, assigned = strip_prefixes(command.argv)
            if not words:
                anchor = _command_anchor(pipeline, line, command)
                for name, value in assigned.items():
                    variables.assign(name, value, anchor)
                continue
            if words[0] == "export":
                anchor = _command_anchor(pipeline, line, command)
                for word in words[1:]:
                    name, sep, value = word.partition("=")
                    if sep:
                        variables.assign(name, value, anchor)
                continue
            classified = classify_command(words)
            if classified is None:
                if wrappers is not None and may_wrap(words) and _hinted(words):
                    found.extend(_wrapped(pipeline, line, command, words, wrappers, variables,
                                          uv_indexes, minted_names, exchanging, id_audience,
                                          id_anchor))
                continue
            method, args = classified
            anchor = _command_anchor(pipeline, line, command)
            upload = analyse_upload(
                command, method, args, assigned, variables.lookup, anchor,
                functools.partial(step_word_anchor, pipeline, line, command, base=anchor),
                uv_indexes, gitlab_url_target)
            found.append(_step(line, method, anchor, upload, minted_names, exchanging,
                               id_audience, id_anchor))
    return found


def _step(line: ScriptLine, method: str, anchor: Anchor, upload: UploadCommand,
          minted_names: set[str], exchanging: bool, id_audience: str | None,
          id_anchor: Anchor | None,
          wrapper: Anchor | None = None, label: str | None = None) -> GitlabPublishStep:
    """A recognised upload as a step: its credentials split into stored and minted, and
    who exchanges the ID token."""
    minted = tuple(c for c in upload.credentials
                   if not c.is_username and _is_minted(c, minted_names, exchanging))
    static = tuple(c for c in upload.credentials if c not in minted)
    if minted:
        exchange, audience = ("id", id_audience) if id_audience else ("script", None)
    elif method in SELF_EXCHANGING and upload.index in PYTHON_INDEXES and \
            all(c.is_username for c in static):
        exchange, audience = method, upload.index
    else:
        exchange, audience = "none", None
    return GitlabPublishStep(
        line, method, anchor, upload.index, upload.registry, upload.url,
        upload.url_anchor, static, minted, upload.argv, upload.uv_trusted_mode,
        upload.uv_trusted_anchor, exchange, audience,
        id_anchor if exchange == "id" else None, wrapper, label)


def _wrapped(pipeline: Pipeline, line: ScriptLine, command: Command, words: list[str],
             wrappers: WrapperReader, variables: _Variables, uv_indexes: dict[str, str],
             minted_names: set[str], exchanging: bool, id_audience: str | None,
             id_anchor: Anchor | None) -> Iterator[GitlabPublishStep]:
    """The uploads a script line makes through repository files, with the job's variables
    (the credentials that reach the wrapper)."""
    from auditor.upload.wrapped import inner_uploads  # only lines that run a file

    command_anchor = functools.partial(_command_anchor, pipeline, line, command)
    outer: Anchor | None = None  # built on the first upload found
    for inner in inner_uploads(words, wrappers, command_anchor, []):
        if outer is None:
            outer = command_anchor()

        def word_anchor(_index: int, where: Anchor = inner.where) -> Anchor:
            return where

        upload = analyse_upload(inner.command, inner.method, inner.args, inner.assigned,
                                variables.lookup, inner.where, word_anchor, uv_indexes,
                                gitlab_url_target)
        yield _step(line, upload.method, outer, upload, minted_names, exchanging,
                    id_audience, id_anchor, inner.where, inner.label)


def publish_jobs(pipeline: Pipeline, uv_indexes: dict[str, str],
                 wrappers: WrapperReader | None = None) -> list[GitlabPublishJob]:
    """The jobs of ``pipeline`` that upload, in pipeline order."""
    out: list[GitlabPublishJob] = []
    for job in pipeline.jobs:
        steps = publish_steps(pipeline, job, uv_indexes, wrappers)
        if steps:
            out.append(GitlabPublishJob(pipeline, job, tuple(steps)))
    return out
