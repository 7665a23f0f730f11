"""GitHub publish steps: which steps of a workflow upload, through a ``run:`` command (the
shared recogniser in ``publish``), a wrapper file the command runs (``wrapped``), or an
action (pypa/gh-action-pypi-publish, maturin-action and other known publish actions).
``publish_steps`` is what the facts stage calls, once per workflow and composite action."""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from auditor.github.model import Job, Step, Workflow
from auditor.output.lazyre import lazy_re
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Scalar
from auditor.upload.indexes import index_of_url
from auditor.upload.publish import (
    CREDENTIAL_ENV,
    CREDENTIAL_HINTS,
    MATURIN_ACTION,
    OPTIONS,
    PYPI_ACTION,
    THIRD_PARTY_PYPI_ACTIONS,
    USERNAME_ENV,
    Credential,
    PublishStep,
    StepEnv,
    analyse_upload,
    classify_command,
    is_empty,
    option_values,
    step_command_anchor,
    step_word_anchor,
    url_target_of,
    wrapper_hints,
)
from auditor.upload.shell import Command, split_commands, strip_prefixes
from auditor.upload.wrappers import may_wrap

if TYPE_CHECKING:
    from auditor.upload.wrappers import WrapperReader




def _env_text(step: Step) -> str:
    """The step's ``env:`` names and values, upper-cased, for the pre-filter."""
    if step.env is None:
        return ""
    return " ".join(f"{k.value}={v.value if isinstance(v, Scalar) else ''}"
                    for k, v in step.env.pairs).upper()


def _hinted_commands(script: str, hints: list[re.Match[str]]) -> list[Command]:
    """The commands of the lines that name a wrapper (``hints``, with their continuation
    lines), with offsets in ``script``: a step without upload words is split only where it
    matters."""
    commands: list[Command] = []
    end = 0
    for match in hints:
        if match.start() < end:
            continue
        start = script.rfind("\n", 0, match.start()) + 1
        end = script.find("\n", match.end())
        while end != -1 and _continues(script, end):
            end = script.find("\n", end + 1)
        end = len(script) if end == -1 else end
        commands.extend(split_commands(script[start:end], offset=start))
    return commands


def _continues(script: str, end: int) -> bool:
    """The line that ends at ``end`` ends with a backslash: the command goes on. Only that
    line is looked at, not the script up to it (which made long scripts quadratic)."""
    return script[script.rfind("\n", 0, end) + 1:end].rstrip(" \t").endswith("\\")


def _hands_credential(step: Step) -> bool:
    """The step's ``env:`` may hand a PyPI credential to a command pubaudit cannot read."""
    env = _env_text(step)
    return any(word in env for word in CREDENTIAL_HINTS)


def _run_publishes(workflow: Workflow, job: Job, step: Step, uv_indexes: dict[str, str],
                   wrappers: WrapperReader | None = None) -> Iterator[PublishStep]:
    assert step.run is not None
    script = step.run.value
    commands: Sequence[Command]
    if "upload" in script or "publish" in script or "push" in script:
        commands = split_commands(script)
    elif wrappers is None:
        return  # a fast pre-filter: no upload tool can appear without one of these words
    else:
        # a step without upload words may still upload through a wrapper it names, or hand
        # a PyPI credential to a command pubaudit cannot read
        hints = wrapper_hints(script)
        if not hints and not _hands_credential(step):
            return
        commands = _hinted_commands(script, hints)
    env = StepEnv(workflow, job, step)
    notes: list[tuple[Command, str, str | None]] = []
    found = False
    for command in commands:
        words, assigned = strip_prefixes(command.argv)
        if not words:
            continue
        classified = classify_command(words)
        if classified is None:
            if wrappers is not None and may_wrap(words):
                from auditor.upload.wrapped import wrapped_uploads  # only wrapper steps

                for publish in wrapped_uploads(workflow, job, step, command, words, wrappers,
                                               env.lookup, uv_indexes, notes):
                    found = True
                    yield publish
            continue
        found = True
        method, args = classified
        anchor = step_command_anchor(step, command, workflow)
        upload = analyse_upload(
            command, method, args, assigned, env.lookup, anchor,
            functools.partial(step_word_anchor, step, command, workflow=workflow, base=anchor),
            uv_indexes)
        yield PublishStep(workflow, job, step, upload.method, anchor, upload.index,
                          upload.registry, upload.url, upload.url_anchor, upload.credentials,
                          upload.argv, upload.uv_trusted_mode, upload.uv_trusted_anchor)
    if not found and wrappers is not None and (step.env is not None or job.env is not None
                                               or workflow.env is not None):
        from auditor.upload.wrapped import opaque_upload  # only steps with a credential

        inferred = opaque_upload(workflow, job, step, notes)
        if inferred is not None:
            yield inferred


def _input_credentials(step: Step, names: tuple[str, ...],
                       user_names: tuple[str, ...] = ()) -> list[Credential]:
    out: list[Credential] = []
    for name in names + user_names:
        node = step.input(name)
        if node is None or is_empty(node.value):
            continue
        if name in user_names and node.value.strip() == "__token__":
            continue
        out.append(Credential(name, "input", step.input_anchor(name), node.value,
                              is_username=name in user_names))
    return out


def resolved_index(url: str, workflow: Workflow, job: Job, step: Step
                   ) -> tuple[str, str, tuple[str, ...]]:
    """The index of a computed upload URL when the workflow sets it to literals that agree
    (`${{ env.URL }}` from `env:` or `$GITHUB_ENV`, a step output, a matrix column), with
    the URL to check when there is one; else ``unknown``, the URL as written, and the
    indexes its literals name when there are several (a matrix of indexes)."""
    from auditor.upload.values import possible_values  # only for computed URLs

    values = possible_values(url, workflow, job, step)
    if not values:
        return "unknown", url, ()
    indexes = sorted({index_of_url(value) for value in values})
    if len(indexes) != 1:
        return "unknown", url, tuple(i for i in indexes if i != "unknown")
    return indexes[0], values[0] if len(values) == 1 else url, ()


def _uses_anchor(step: Step) -> Anchor:
    """The step's ``uses:``, where a publish action's findings point. Built only for the
    steps that publish: most `uses:` steps (checkout, setup-python...) never need it."""
    return step.anchor.child("uses", node=step.uses_node)


def _action_publishes(workflow: Workflow, job: Job, step: Step) -> Iterator[PublishStep]:
    assert step.uses is not None and step.uses_node is not None
    uses = step.uses
    if uses.is_action(PYPI_ACTION):
        url_node = step.input("repository-url", "repository_url")
        url = url_node.value.strip() if url_node and not is_empty(url_node.value) else None
        index = index_of_url(url) if url else "pypi"
        targets: tuple[str, ...] = ()
        if url is not None and index == "unknown":
            index, url, targets = resolved_index(url, workflow, job, step)
        url_key = "repository-url" if step.input("repository-url") else "repository_url"
        yield PublishStep(workflow, job, step, "gh-action-pypi-publish", _uses_anchor(step),
                          index, index, url, step.input_anchor(url_key) if url else None,
                          tuple(_input_credentials(step, ("password",), ("user",))),
                          targets=targets)
        return
    if uses.is_action(MATURIN_ACTION):
        command = (step.input_text("command") or "").lower()
        if command not in ("upload", "publish"):
            return
        args_node = step.input("args")
        args = [c for cmd in split_commands(args_node.value) for c in cmd.argv] \
            if args_node else []
        if "--dry-run" in args:
            return
        index, url = "pypi", None
        for _, value, _at in option_values(args, OPTIONS["maturin"][0]):
            index, url = url_target_of("maturin", value, {})
        env = StepEnv(workflow, job, step)
        credentials = []
        for prefix in CREDENTIAL_ENV["maturin"]:
            for name, value, level, var_anchor in env.lookup(prefix):
                credentials.append(Credential(name, level, var_anchor, value,
                                              name in USERNAME_ENV))
        for option, value, _at in option_values(args, OPTIONS["maturin"][1]):
            credentials.append(Credential(option, "option", step.input_anchor("args"), value))
        yield PublishStep(workflow, job, step, "maturin", _uses_anchor(step), index, index, url,
                          step.input_anchor("args") if url else None, tuple(credentials))
        return
    if uses.is_action("release-plz/action"):
        release_command = step.input_text("command")
        if release_command is None or release_command == "release":
            env = StepEnv(workflow, job, step)
            creds = [Credential(name, level, var_anchor, value)
                     for name, value, level, var_anchor in env.lookup("CARGO_REGISTRY_TOKEN")]
            yield PublishStep(workflow, job, step, "cargo", _uses_anchor(step), "other",
                              "crates", None, None, tuple(creds))
        return
    if uses.is_action("rubygems/release-gem"):
        creds = []
        setup = step.input("setup-trusted-publisher")
        if setup is not None and setup.value.strip().lower() == "false":
            creds = [Credential("setup-trusted-publisher", "input",
                                step.input_anchor("setup-trusted-publisher"), "false")]
        yield PublishStep(workflow, job, step, "gem", _uses_anchor(step), "other", "rubygems",
                          None, None, tuple(creds))
        return
    token_inputs = THIRD_PARTY_PYPI_ACTIONS.get(uses.slug)
    unseen = None
    if token_inputs is None and uses.kind == "remote":
        token_inputs = _unknown_publish_action(step)
        unseen = (f"the upload happens inside `{uses.raw}`, an action pubaudit does not know: "
                  "it is taken for a PyPI upload because of its name and the token it is given"
                  ) if token_inputs else None
    if token_inputs:
        url_node = step.input("repository-url", "repository_url", "url", "repository")
        index = index_of_url(url_node.value) if url_node and "://" in url_node.value else "pypi"
        yield PublishStep(workflow, job, step, "other", _uses_anchor(step), index, index, None,
                          None, tuple(_input_credentials(step, token_inputs)), unseen=unseen)


# An action pubaudit has no entry for is taken for a PyPI upload only when both its name and
# its inputs say so: `*pypi*` with publish/upload/release/deploy in the name (not docs), and
# a secret handed to an input named like a PyPI token.
_UNKNOWN_ACTION_NAME = lazy_re(r"pypi.*(publish|upload|release|deploy)|"
                                  r"(publish|upload|release|deploy).*pypi")
_PYPI_TOKEN_INPUT = lazy_re(r"^(pypi|twine)[-_]?(api[-_]?)?(token|password)$")


def _unknown_publish_action(step: Step) -> tuple[str, ...]:
    """The token inputs of an unknown action that looks like a PyPI upload, else ()."""
    uses = step.uses
    if uses is None or step.with_ is None:
        return ()
    name = uses.slug.lower()
    # both alternatives of the pattern hold "pypi": most actions are ruled out without it
    if "pypi" not in name or "doc" in name or not _UNKNOWN_ACTION_NAME.search(name):
        return ()
    return tuple(key.value for key, node in step.with_.pairs
                 if _PYPI_TOKEN_INPUT.match(key.value.lower()) and isinstance(node, Scalar)
                 and "secrets." in node.value)


def _with_origins(publish: PublishStep) -> PublishStep:
    """Mark credentials that are outputs of other steps (a minted token, or unknown)."""
    if not any("steps." in c.value for c in publish.credentials):
        return publish
    from auditor.upload.exchange import credential_origin  # only for step outputs

    credentials = tuple(
        dataclasses.replace(c, origin=credential_origin(c.value, publish.job, publish.step))
        for c in publish.credentials)
    return dataclasses.replace(publish, credentials=credentials)


def publish_steps(workflow: Workflow, uv_indexes: dict[str, str],
                  wrappers: WrapperReader | None = None) -> list[PublishStep]:
    """Every publish step of ``workflow`` (composite actions included), in file order;
    with ``wrappers``, also the uploads inside repository files a step runs."""
    found: list[PublishStep] = []
    for job in workflow.jobs:
        for step in job.steps:
            if step.uses is not None and step.uses_node is not None:
                found.extend(_action_publishes(workflow, job, step))
            elif step.run is not None:
                found.extend(_run_publishes(workflow, job, step, uv_indexes, wrappers))
    return [_with_origins(p) for p in found]
