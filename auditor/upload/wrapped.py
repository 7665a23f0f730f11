"""Uploads a workflow step makes through a repository file, and uploads it hides.

A step that runs ``tox -e release`` uploads wherever ``[testenv:release]`` runs ``twine
upload``: the commands of the wrapper file go through the same classifier as ``run:``
lines, with the step's ``env:`` (the credentials that reach the wrapper), and the publish
step keeps the workflow command as its anchor and the wrapper line as ``wrapper``. When the
wrapper cannot be read and the step's ``env:`` (or, for a wrapper it could not read, the
job's or workflow's) hands it a PyPI credential, the step is an upload of method ``other``
that pubaudit could not see (``unseen``): rules still apply, at lower confidence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from auditor.github.model import Job, Step, Workflow
from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Mapping, Scalar
from auditor.upload.publish import (
    CREDENTIAL_ENV,
    USERNAME_ENV,
    Credential,
    PublishStep,
    StepEnv,
    VariableLookup,
    analyse_upload,
    classify_command,
    resolve_tool,
    step_command_anchor,
)
from auditor.upload.shell import Command, split_commands, strip_prefixes

if TYPE_CHECKING:
    from auditor.upload.wrapper_formats import Script
    from auditor.upload.wrappers import WrapperReader

_PUBLISH_TOOLS = frozenset({"twine", "uv", "pdm", "poetry", "hatch", "flit", "maturin"})
MAX_DEPTH = 3  # wrapper -> wrapper -> wrapper: deeper nesting is not followed

# Variables whose only use is to authenticate a PyPI upload.
_PYPI_CREDENTIAL_ENV = ("TWINE_PASSWORD", "UV_PUBLISH_TOKEN", "UV_PUBLISH_PASSWORD",
                        "HATCH_INDEX_AUTH", "PDM_PUBLISH_PASSWORD", "FLIT_PASSWORD",
                        "MATURIN_PYPI_TOKEN", "MATURIN_PASSWORD")
_PYPI_SECRET_RE = lazy_re(r"secrets\.(?:PYPI\w*|\w*PYPI\w*TOKEN\w*)\b", re.I)
_RELEASE_HINT_RE = lazy_re(r"publish|upload|release|deploy|pypi", re.I)
# Commands that cannot upload anything: a step made only of these has no hidden upload.
_INERT = frozenset({"echo", "printf", "cd", "export", "test", "[", "true", "false", "ls",
                    "cat", "mkdir", "rm", "cp", "mv", "pip", "pip3", "git", "set", "exit",
                    "which", "env", "tar", "unzip", "sha256sum", "find", "grep", "sleep"})


def _script_anchor(script: Script, command: Command | None,
                   fallback: Callable[[], Anchor]) -> Anchor:
    """Where a command of a wrapper file is written (one line, or its words in it); text
    with no file of its own (``bash -c '...'``) is where the CI command is (``fallback``)."""
    if not script.path:
        return fallback()
    if command is not None and script.exact and "\n" not in script.text:
        start, end = script.column + command.start, script.column + command.end
        return Anchor(script.path, ("wrapper", script.line, start),
                      span=(script.line, start, script.line, end))
    if command is not None and script.exact:  # a whole shell script: count its lines
        line = script.line + script.text.count("\n", 0, command.start)
        column = command.start - (script.text.rfind("\n", 0, command.start) + 1)
        end = column + (command.end - command.start)
        return Anchor(script.path, ("wrapper", line, column), span=(line, column, line, end))
    return Anchor(script.path, ("wrapper", script.line, script.column),
                  span=(script.line, script.column, script.line,
                        max(script.end_column, script.column + 1)))


@record
class InnerUpload:
    """An upload command found inside a wrapper file a CI command runs."""

    command: Command  # the upload command, in the wrapper file's text
    method: str
    args: list[str]
    assigned: dict[str, str]  # `VAR=value` prefixes of the command
    where: Anchor  # the command in the wrapper file
    label: str  # how the CI command reaches it: "tox -e release", "make publish"...


def inner_uploads(words: list[str], wrappers: WrapperReader, fallback: Callable[[], Anchor],
                  notes: list[tuple[str, str | None]]) -> Iterator[InnerUpload]:
    """The upload commands a CI command (``words``) runs through repository files, up to
    ``MAX_DEPTH`` wrappers deep; shared by GitHub `run:` steps and GitLab `script:` lines.
    Each wrapper invocation is added to ``notes`` with why pubaudit could not read it (or
    ``None``). ``fallback`` gives the CI command's anchor; it is asked only for an upload in
    text with no file of its own."""
    pending: list[tuple[list[str], int]] = [(words, 1)]
    while pending:
        argv, depth = pending.pop(0)
        expansion = wrappers.expand(argv)
        if expansion is None:
            continue
        notes.append((expansion.label, expansion.unseen))
        for script in expansion.scripts:
            for inner in split_commands(script.text):
                inner_words, assigned = strip_prefixes(inner.argv)
                if not inner_words:
                    continue
                classified = classify_command(inner_words)
                if classified is None:
                    if depth < MAX_DEPTH:
                        pending.append((inner_words, depth + 1))
                    continue
                method, args = classified
                yield InnerUpload(inner, method, args, assigned,
                                  _script_anchor(script, inner, fallback), expansion.label)


def wrapped_uploads(workflow: Workflow, job: Job, step: Step, command: Command,
                    words: list[str], wrappers: WrapperReader, lookup: VariableLookup,
                    uv_indexes: dict[str, str], notes: list[tuple[Command, str, str | None]],
                    ) -> Iterator[PublishStep]:
    """The uploads ``command`` (a ``run:`` command) makes through repository files. Each
    invocation is added to ``notes`` with why pubaudit could not read it (or ``None``).

    The command's anchor is built on the first upload found: most wrappers a step names
    (``make test``, ``./ci.sh``) upload nothing."""
    command_anchor = functools.partial(step_command_anchor, step, command, workflow)
    outer: Anchor | None = None
    seen: list[tuple[str, str | None]] = []
    try:
        for found in inner_uploads(words, wrappers, command_anchor, seen):
            if outer is None:
                outer = command_anchor()

            def word_anchor(_index: int, where: Anchor = found.where) -> Anchor:
                return where

            upload = analyse_upload(found.command, found.method, found.args, found.assigned,
                                    lookup, found.where, word_anchor, uv_indexes)
            yield PublishStep(workflow, job, step, upload.method, outer, upload.index,
                              upload.registry, upload.url, upload.url_anchor,
                              upload.credentials, upload.argv, upload.uv_trusted_mode,
                              upload.uv_trusted_anchor, wrapper=found.where,
                              wrapper_label=found.label)
    finally:
        notes.extend((command, label, unseen) for label, unseen in seen)


def _pypi_credential(step: Step) -> str | None:
    """The name of a variable of the step's ``env:`` that holds a PyPI credential."""
    return _credential_in(step.env)


def _credential_in(env: Mapping | None) -> str | None:
    """The name of a variable of ``env`` that holds a PyPI credential."""
    if env is None:
        return None
    token_user = False
    named: str | None = None
    for key, value in env.pairs:
        text = value.value if isinstance(value, Scalar) else ""
        name = key.value
        if name == "TWINE_USERNAME" and text.strip() == "__token__":
            token_user = True
        if not text.strip():
            continue
        if name in _PYPI_CREDENTIAL_ENV or name.startswith("POETRY_PYPI_TOKEN_") or \
                _PYPI_SECRET_RE.search(text):
            named = named or name
    return named or ("TWINE_USERNAME" if token_user else None)


def hands_pypi_credential(step: Step) -> bool:
    return _pypi_credential(step) is not None


def opaque_upload(workflow: Workflow, job: Job, step: Step,
                  notes: list[tuple[Command, str, str | None]]) -> PublishStep | None:
    """A step that hands a PyPI credential to a command pubaudit cannot read: an upload of
    method ``other`` it could not see; ``None`` when the step only echoes, checks or
    installs."""
    if step.run is None:
        return None
    unseen = [(c, label, why) for c, label, why in notes if why is not None]
    variable = _pypi_credential(step)
    if variable is None and unseen and _RELEASE_HINT_RE.search(
            " ".join((step.name or "", *(label.rsplit("/", 1)[-1] for _, label, _ in unseen)))):
        # A credential of the whole job or workflow reaches every step; only a step that
        # runs a repository file pubaudit could not read, named for a release, is taken
        # for its upload (not `./notify.sh` beside it).
        variable = _credential_in(job.env) or _credential_in(workflow.env)
    if variable is None:
        return None
    read = {(c.start, c.end) for c, _, why in notes if why is None}
    if unseen:
        command, label, why = unseen[0]
        reason = f"the upload happens inside `{label}`, which pubaudit could not read ({why})"
    else:
        candidates = []
        for command in split_commands(step.run.value):
            if (command.start, command.end) in read:
                continue  # a wrapper pubaudit read: it would have seen the upload
            words, _ = strip_prefixes(command.argv)
            if not words or words[0].rsplit("/", 1)[-1] in _INERT:
                continue
            if _is_harmless(words):
                continue
            candidates.append((command, words))
        if not candidates:
            return None
        command, words = candidates[-1]
        label = " ".join(words[:3])
        reason = (f"the step hands `{variable}` to `{label}`, whose upload pubaudit cannot "
                  "see")
    anchor = step_command_anchor(step, command, workflow)
    env = StepEnv(workflow, job, step)
    credentials = [Credential(name, level, where, value, name in USERNAME_ENV)
                   for prefixes in CREDENTIAL_ENV.values() for prefix in prefixes
                   for name, value, level, where in env.lookup(prefix)]
    for level, mapping, base in env.levels:
        for key, value in mapping.pairs if mapping is not None else ():
            text = value.value if isinstance(value, Scalar) else ""
            if _PYPI_SECRET_RE.search(text) and not any(c.name == key.value
                                                        for c in credentials):
                credentials.append(Credential(key.value, level,
                                              base.child(key.value, node=key), text))
    return PublishStep(workflow, job, step, "other", anchor, "unknown", "unknown", None, None,
                       tuple(credentials), tuple(command.argv), wrapper_label=label,
                       unseen=reason)


def _is_harmless(words: list[str]) -> bool:
    """Checks, builds and dry runs: commands that run a tool without uploading."""
    text = " ".join(words)
    if "--dry-run" in words or " check" in text or "twine check" in text:
        return True
    resolved = resolve_tool(words)
    if resolved is not None and resolved[0] in _PUBLISH_TOOLS:
        return True  # the classifier knows this tool and found no upload (`twine register`)
    head = words[0].rsplit("/", 1)[-1]
    return head.startswith("python") and words[1:3] in (["-m", "build"], ["-m", "pip"])
