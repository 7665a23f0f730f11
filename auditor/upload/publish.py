"""Recognise publish steps: the pypi action, the maturin action, and upload commands in ``run:``.

RULES.md's definition: ``twine upload``, ``uv publish``, ``pdm publish``, ``poetry publish``,
``hatch publish``, ``flit publish``, ``maturin upload|publish``, ``npm publish``,
``cargo publish``, ``gem push`` (through ``python -m``, ``uvx``, ``pipx run``, ``uv run``,
env prefixes, ``sudo``). Not uploads: ``twine check``, ``--dry-run``, echo'd text (an
``echo`` command's words are arguments, never commands), ``pixi publish``,
``pkg-pr-new publish``. Each publish step records its target index, where its credentials
come from, and the exact span of the command, once, for every rule to read.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditor.github.model import Job, Step, Workflow
from auditor.reading.positions import scalar_span
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Mapping, Scalar
from auditor.upload.indexes import index_of_name, index_of_url
from auditor.upload.shell import Command, split_commands, strip_prefixes
from auditor.upload.wrappers import may_wrap

if TYPE_CHECKING:
    from auditor.upload.wrappers import WrapperReader

PYPI_ACTION = "pypa/gh-action-pypi-publish"
MATURIN_ACTION = "pyo3/maturin-action"
PYPA_INPUTS = ("user", "password", "repository-url", "packages-dir", "verify-metadata",
               "skip-existing", "verbose", "print-hash", "attestations")
PYPA_SNAKE_INPUTS = {"repository_url": "repository-url", "packages_dir": "packages-dir",
                     "verify_metadata": "verify-metadata", "skip_existing": "skip-existing",
                     "print_hash": "print-hash"}

# Third-party actions that upload to PyPI with a token of their own.
_THIRD_PARTY_PYPI_ACTIONS = {
    "casperdcl/deploy-pypi": ("password",),
    "jrubics/poetry-publish": ("pypi_token", "password"),
    "code-specialist/pypi-poetry-publish": ("pypi_token", "password"),
    "mariamrf/py-package-publish-action": ("password", "pypi_token"),
    "conchylicultor/pypi-build-publish": ("pypi-token", "pypi_token"),
    "etils-actions/pypi-auto-publish": ("pypi-token",),
    "celsiusnarhwal/poetry-publish": ("token",),
}

# Environment variables that carry a credential to each tool (names may be prefixes).
_CREDENTIAL_ENV = {
    "twine": ("TWINE_PASSWORD", "TWINE_USERNAME"),
    "uv": ("UV_PUBLISH_TOKEN", "UV_PUBLISH_PASSWORD", "UV_PUBLISH_USERNAME"),
    "pdm": ("PDM_PUBLISH_PASSWORD", "PDM_PUBLISH_USERNAME"),
    "poetry": ("POETRY_PYPI_TOKEN_", "POETRY_HTTP_BASIC_"),
    "hatch": ("HATCH_INDEX_AUTH", "HATCH_INDEX_USER"),
    "flit": ("FLIT_PASSWORD", "FLIT_USERNAME"),
    "maturin": ("MATURIN_PYPI_TOKEN", "MATURIN_PASSWORD", "MATURIN_USERNAME"),
    "npm": ("NODE_AUTH_TOKEN", "NPM_TOKEN", "NPM_CONFIG_TOKEN"),
    "cargo": ("CARGO_REGISTRY_TOKEN",),
    "gem": ("GEM_HOST_API_KEY", "RUBYGEMS_API_KEY"),
}
_USERNAME_ENV = frozenset({"TWINE_USERNAME", "UV_PUBLISH_USERNAME", "PDM_PUBLISH_USERNAME",
                           "HATCH_INDEX_USER", "FLIT_USERNAME", "MATURIN_USERNAME"})
_URL_ENV = {
    "twine": ("TWINE_REPOSITORY_URL", "TWINE_REPOSITORY"),
    "uv": ("UV_PUBLISH_URL", "UV_PUBLISH_INDEX"),
    "pdm": ("PDM_PUBLISH_REPO",),
    "hatch": ("HATCH_INDEX_REPO",),
    "flit": ("FLIT_INDEX_URL",),
    "maturin": ("MATURIN_REPOSITORY_URL", "MATURIN_REPOSITORY"),
}
# Command-line options: (options naming the target, options carrying a secret, user options)
_OPTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "twine": (("--repository-url", "-r", "--repository"), ("-p", "--password"),
              ("-u", "--username")),
    "uv": (("--publish-url", "--index"), ("-t", "--token", "-p", "--password"),
           ("-u", "--username")),
    "pdm": (("-r", "--repository"), ("-P", "--password"), ("-u", "--username")),
    "poetry": (("-r", "--repository"), ("-p", "--password"), ("-u", "--username")),
    "hatch": (("-r", "--repo"), ("-a", "--auth"), ("-u", "--user")),
    "flit": (("--repository",), (), ()),
    "maturin": (("-r", "--repository", "--repository-url"), ("-p", "--password"),
                ("-u", "--username")),
    "npm": (("--registry",), (), ()),
    "cargo": (("--registry", "--index"), ("--token",), ()),
    "gem": (("--host",), ("-k", "--key"), ()),
}
TRUSTED_CAPABLE = frozenset({"gh-action-pypi-publish", "twine", "uv", "pdm", "maturin", "npm",
                             "cargo", "gem"})
PYTHON_INDEXES = frozenset({"pypi", "testpypi"})


@dataclass(frozen=True, slots=True)
class Credential:
    """A static credential that reaches an upload."""

    name: str  # what the user wrote: `password`, `TWINE_PASSWORD`, `--token`...
    where: str  # "input" | "option" | "step env" | "job env" | "workflow env" | "command env"
    anchor: Anchor
    value: str
    is_username: bool = False
    # static | oidc-exchange (minted in the job from its OIDC token, see ``exchange``) |
    # step-output (another step's output: what it holds is not visible)
    origin: str = "static"


@dataclass(frozen=True, slots=True)
class PublishStep:
    """An upload, its target index, its credentials and the exact span to report."""

    workflow: Workflow
    job: Job
    step: Step
    method: str
    anchor: Anchor  # the `uses:` value or the command inside `run:`
    index: str  # pypi | testpypi | other | unknown
    registry: str  # pypi | testpypi | npm | crates | rubygems | other | unknown
    url: str | None
    url_anchor: Anchor | None
    credentials: tuple[Credential, ...]
    argv: tuple[str, ...] = ()
    uv_trusted_mode: str | None = None
    uv_trusted_anchor: Anchor | None = None
    via_step: Step | None = None  # the job's step that runs the local composite action
    # The upload is inside a repository file the step runs (``tox -e release``): where it
    # is written there, and the invocation that leads to it.
    wrapper: Anchor | None = None
    wrapper_label: str | None = None
    # Why pubaudit could not see the upload: the step hands a PyPI credential to a command
    # it could not read (method ``other``; findings on it are undecided).
    unseen: str | None = None

    @property
    def via(self) -> str | None:
        """``tox.ini:41``: where the wrapper file runs the upload, for messages and JSON."""
        if self.wrapper is None:
            return None
        line = self.wrapper.span[0] + 1 if self.wrapper.span else 1
        return f"{self.wrapper.path}:{line}"

    @property
    def secrets(self) -> tuple[Credential, ...]:
        """Credentials other than a bare user name or a token minted in the job."""
        return tuple(c for c in self.credentials
                     if not c.is_username and c.origin != "oidc-exchange")

    @property
    def minted(self) -> tuple[Credential, ...]:
        """Short-lived tokens an earlier step of the job obtained from the OIDC exchange."""
        return tuple(c for c in self.credentials if c.origin == "oidc-exchange")

    @property
    def credential(self) -> str:
        """How the upload authenticates, for the inventory: ``oidc`` (the tool's own
        exchange), ``oidc-exchange`` (a token minted earlier in the job), ``static`` or
        ``none`` (no credential pubaudit can see, and no trusted publishing)."""
        if self.secrets:
            return "static"
        if self.minted:
            return "oidc-exchange"
        return "oidc" if self.trusted_publishing else "none"

    @property
    def supports_trusted_publishing(self) -> bool:
        return self.method in TRUSTED_CAPABLE

    @property
    def trusted_publishing(self) -> bool:
        """The upload relies on trusted publishing: a capable tool and no static credential,
        or a token minted from the OIDC exchange earlier in the job."""
        if self.secrets:
            return False
        if self.minted:
            return self.index in ("pypi", "testpypi", "unknown")
        if not self.supports_trusted_publishing:
            return False
        if self.method in ("npm", "cargo", "gem"):
            return self.registry != "other" and _job_mints_registry_token(self)
        return self.index in ("pypi", "testpypi", "unknown")

    @property
    def targets_python_index(self) -> bool:
        return self.index in PYTHON_INDEXES


def _job_mints_registry_token(publish: PublishStep) -> bool:
    """npm, crates.io and RubyGems trusted publishing need their exchange in the job."""
    if publish.method == "npm":
        return True  # npm >= 11.5 exchanges the OIDC token itself
    slugs = {s.uses.slug for s in publish.job.steps if s.uses and s.uses.kind == "remote"}
    if publish.method == "cargo":
        # release-plz exchanges the OIDC token itself when no registry token is given
        return bool(slugs & {"rust-lang/crates-io-auth-action", "release-plz/action"})
    return bool(slugs & {"rubygems/release-gem", "rubygems/configure-rubygems-credentials"})


# ------------------------------------------------------------------------ commands

# Words that may start a command running a repository file (``tox``, ``make``, ``./x``...):
# a step without any is not read for wrappers.
_WRAPPER_HINT_RE = re.compile(r"\b(?:tox|nox|g?make|just|bash|sh)\s|\./\w|\.sh\b|\w\.py\b"
                              r"|\brun\s+\S*(?:release|publish|upload|deploy)")
_PY_RE = re.compile(r"^(?:.*/)?(?:python(?:\d+(?:\.\d+)?)?|py|pypy3?)(?:\.exe)?$")
_VALUE_OPTIONS = frozenset({"--with", "--from", "--group", "--extra", "--python", "-p",
                            "--project", "--directory", "--package", "--index", "--spec",
                            "--only-group", "--env-file", "-e", "--environment", "-w"})


def _skip_options(argv: list[str], i: int) -> int:
    while i < len(argv) and argv[i].startswith("-"):
        option = argv[i]
        i += 2 if option in _VALUE_OPTIONS and "=" not in option else 1
    return i


def _tool_name(word: str) -> str:
    base = word.rsplit("/", 1)[-1].lower()
    base = re.split(r"[@=<>~!\[]", base, maxsplit=1)[0]
    return base.removesuffix(".exe")


def resolve_tool(argv: list[str]) -> tuple[str, list[str]] | None:
    """Unwrap launchers: ``python -m X``, ``uvx X``, ``pipx run X``, ``uv run X``, ``poetry
    run X``... and return the tool and its arguments."""
    for _ in range(4):
        if not argv:
            return None
        head = _tool_name(argv[0])
        if _PY_RE.match(head):
            i = 1
            while i < len(argv) and argv[i].startswith("-") and argv[i] != "-m":
                i += 1
            if i + 1 < len(argv) and argv[i] == "-m":
                argv = argv[i + 1:]
                continue
            return None
        if head == "uvx":
            argv = argv[_skip_options(argv, 1):]
            continue
        if head == "pipx" and len(argv) > 1 and argv[1] == "run":
            argv = argv[_skip_options(argv, 2):]
            continue
        if head == "uv" and len(argv) > 2 and argv[1] in ("run", "tool"):
            start = 3 if argv[1] == "tool" and argv[2] == "run" else 2
            if argv[1] == "tool" and argv[2] != "run":
                return head, argv[1:]
            argv = argv[_skip_options(argv, start):]
            continue
        if head in ("poetry", "pdm", "hatch", "pipenv", "rye") and len(argv) > 1 \
                and argv[1] == "run":
            argv = argv[_skip_options(argv, 2):]
            continue
        if head == "bundle" and len(argv) > 1 and argv[1] == "exec":
            argv = argv[2:]
            continue
        return head, argv[1:]
    return None


def _first_positional(args: list[str]) -> tuple[int, str] | None:
    i = 0
    while i < len(args):
        if not args[i].startswith("-"):
            return i, args[i]
        i += 1
    return None


def classify_command(argv: list[str]) -> tuple[str, list[str]] | None:
    """``(method, arguments after the subcommand)`` when ``argv`` uploads a distribution."""
    resolved = resolve_tool(argv)
    if resolved is None:
        return None
    tool, args = resolved
    if "--dry-run" in args:
        return None
    first = _first_positional(args)
    if first is None:
        return None
    pos, sub = first
    rest = args[pos + 1:]
    if tool == "twine" and sub == "upload":
        return "twine", rest
    if tool in ("uv", "pdm", "poetry", "hatch", "flit") and sub == "publish":
        return tool, rest
    if tool == "maturin" and sub in ("upload", "publish"):
        return "maturin", rest
    if tool in ("npm", "pnpm") and sub == "publish":
        return "npm", rest
    if tool == "yarn" and (sub == "publish" or (sub == "npm" and rest[:1] == ["publish"])):
        return "npm", rest
    if tool == "cargo" and sub == "publish" and "-n" not in rest:
        return "cargo", rest
    if tool == "gem" and sub == "push":
        return "gem", rest
    return None


def _option_values(args: list[str], names: tuple[str, ...]) -> list[tuple[str, str, int]]:
    """``(option, value, index of the value word)`` for each use of ``names``."""
    found: list[tuple[str, str, int]] = []
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                found.append((name, args[i + 1], i + 1))
            elif name.startswith("--") and arg.startswith(name + "="):
                found.append((name, arg[len(name) + 1:], i))
            elif not name.startswith("--") and arg.startswith(name) and len(arg) > len(name) \
                    and name not in ("-r",):
                found.append((name, arg[len(name):], i))
    return found


def _is_empty(value: str) -> bool:
    return value.strip() in ("", "''", '""')


class _Env:
    """Resolves a variable through step, job and workflow ``env:`` (nearest wins)."""

    def __init__(self, workflow: Workflow, job: Job, step: Step) -> None:
        self.levels: list[tuple[str, Mapping | None, Anchor]] = [
            ("step env", step.env, step.anchor.child("env")),
            ("job env", job.env, job.anchor.child("env")),
            ("workflow env", workflow.env, workflow.anchor.child("env")),
        ]

    def lookup(self, prefix: str) -> list[tuple[str, str, str, Anchor]]:
        """``(name, value, level, anchor)`` for variables named ``prefix`` (or starting with
        it when it ends in ``_``), nearest definition only."""
        seen: set[str] = set()
        out: list[tuple[str, str, str, Anchor]] = []
        for level, mapping, anchor in self.levels:
            if mapping is None:
                continue
            for key, value in mapping.pairs:
                name = key.value
                matches = name.startswith(prefix) if prefix.endswith("_") else name == prefix
                if not matches or name in seen:
                    continue
                seen.add(name)
                text = value.value if isinstance(value, Scalar) else ""
                if isinstance(value, Scalar) and not _is_empty(text):
                    out.append((name, text, level, anchor.child(name, node=key)))
        return out


def url_target_of(method: str, value: str, uv_indexes: dict[str, str]) -> tuple[str, str | None]:
    """The index and URL an option value or variable names for ``method``."""
    if "://" in value:
        return index_of_url(value), value
    if "${{" in value or value.startswith("$"):
        return "unknown", None
    if method == "uv":
        url = uv_indexes.get(value)
        if url is not None:
            return index_of_url(url), url
        return "unknown", None
    named = index_of_name(value)
    return (named, None) if named else ("other", None)


def _command_anchor(step: Step, command: Command, workflow: Workflow) -> Anchor:
    assert step.run is not None
    span = scalar_span(workflow.source, step.run, command.start, command.end)
    anchor = step.anchor.child("run", node=step.run)
    if span is None:
        return anchor
    return Anchor(anchor.path, (*anchor.route, " ".join(command.argv[:3])), step.run, span)


def _word_anchor(step: Step, command: Command, index: int, workflow: Workflow,
                 base: Anchor) -> Anchor:
    assert step.run is not None
    word = command.words[index]
    span = scalar_span(workflow.source, step.run, word.start, word.end)
    if span is None:
        return base
    return Anchor(base.path, (*base.route, index), step.run, span)


@dataclass(frozen=True, slots=True)
class UploadCommand:
    """What one upload command says, wherever it is written (a GitHub ``run:`` or a GitLab
    ``script:`` line): tool, target index and the credentials that reach it."""

    method: str
    index: str
    registry: str  # the index for Python tools; npm | crates | rubygems | other | unknown
    url: str | None
    url_anchor: Anchor | None
    credentials: tuple[Credential, ...]
    argv: tuple[str, ...]
    uv_trusted_mode: str | None
    uv_trusted_anchor: Anchor | None


VariableLookup = Callable[[str], list[tuple[str, str, str, Anchor]]]
UrlTarget = Callable[[str, str, dict[str, str]], tuple[str, str | None]]


def analyse_upload(command: Command, method: str, args: list[str], assigned: dict[str, str],
                   lookup: VariableLookup, anchor: Anchor, word_anchor: Callable[[int], Anchor],
                   uv_indexes: dict[str, str], url_target: UrlTarget = url_target_of,
                   ) -> UploadCommand:
    """Target and credentials of one classified upload command.

    ``lookup(prefix)`` resolves variables the command inherits (nearest definition only),
    ``word_anchor(i)`` points at word ``i`` of the command, ``url_target`` names the index
    an option value or variable designates.
    """
    offset = len(command.argv) - len(args)
    target_opts, secret_opts, user_opts = _OPTIONS.get(method, ((), (), ()))
    registry = {"npm": "npm", "cargo": "crates", "gem": "rubygems"}.get(method, "pypi")
    index = "pypi" if registry == "pypi" else "other"
    url: str | None = None
    url_anchor: Anchor | None = None
    for _, value, at in _option_values(args, target_opts):
        if method in ("npm", "cargo", "gem"):
            registry = "other" if "${{" not in value else "unknown"
            continue
        index, url = url_target(method, value, uv_indexes)
        url_anchor = word_anchor(offset + at)
    if url_anchor is None:
        for var in _URL_ENV.get(method, ()):
            if var in assigned:
                index, url = url_target(method, assigned[var], uv_indexes)
                url_anchor = anchor
                break
            hits = lookup(var)
            if hits:
                name, value, _level, var_anchor = hits[0]
                index, url = url_target(method, value, uv_indexes)
                url_anchor = var_anchor
                break
    if registry != "pypi":
        index = "other"
    credentials: list[Credential] = []
    for option, value, at in _option_values(args, secret_opts + user_opts):
        if _is_empty(value):
            continue
        credentials.append(Credential(option, "option", word_anchor(offset + at - 1), value,
                                      is_username=option in user_opts))
    for prefix in _CREDENTIAL_ENV.get(method, ()):
        for name, value in assigned.items():
            matches = name.startswith(prefix) if prefix.endswith("_") else name == prefix
            if matches and not _is_empty(value):
                credentials.append(Credential(name, "command env", anchor, value,
                                              name in _USERNAME_ENV))
        for name, value, level, var_anchor in lookup(prefix):
            if name not in assigned:
                credentials.append(Credential(name, level, var_anchor, value,
                                              name in _USERNAME_ENV))
    uv_mode: str | None = None
    uv_anchor: Anchor | None = None
    if method == "uv":
        for _, value, at in _option_values(args, ("--trusted-publishing",)):
            uv_mode, uv_anchor = value, word_anchor(offset + at)
        if uv_mode is None:
            if "UV_TRUSTED_PUBLISHING" in assigned:
                uv_mode, uv_anchor = assigned["UV_TRUSTED_PUBLISHING"], anchor
            else:
                hits = lookup("UV_TRUSTED_PUBLISHING")
                if hits:
                    uv_mode, uv_anchor = hits[0][1], hits[0][3]
    return UploadCommand(method, index, registry if registry != "pypi" else index, url,
                         url_anchor, tuple(credentials), tuple(command.argv), uv_mode,
                         uv_anchor)


_CREDENTIAL_HINTS = ("PYPI", "TWINE_", "UV_PUBLISH_", "HATCH_INDEX", "PDM_PUBLISH", "FLIT_",
                     "MATURIN_")


def _env_text(step: Step) -> str:
    """The step's ``env:`` names and values, upper-cased, for the pre-filter."""
    if step.env is None:
        return ""
    return " ".join(f"{k.value}={v.value if isinstance(v, Scalar) else ''}"
                    for k, v in step.env.pairs).upper()


def _hinted_commands(script: str) -> list[Command]:
    """The commands of the lines that name a wrapper (with their continuation lines), with
    offsets in ``script``: a step without upload words is split only where it matters."""
    commands: list[Command] = []
    end = 0
    for match in _WRAPPER_HINT_RE.finditer(script):
        if match.start() < end:
            continue
        start = script.rfind("\n", 0, match.start()) + 1
        end = script.find("\n", match.end())
        while end != -1 and script[:end].rstrip(" \t").endswith("\\"):
            end = script.find("\n", end + 1)
        end = len(script) if end == -1 else end
        for command in split_commands(script[start:end]):
            commands.append(Command(tuple(dataclasses.replace(w, start=w.start + start,
                                                              end=w.end + start)
                                          for w in command.words)))
    return commands


def _may_hide_upload(step: Step, script: str) -> bool:
    """A step without upload words may still upload through a wrapper it names, or hand a
    PyPI credential to a command pubaudit cannot read."""
    if _WRAPPER_HINT_RE.search(script):
        return True
    env = _env_text(step)
    return any(word in env for word in _CREDENTIAL_HINTS)


def _run_publishes(workflow: Workflow, job: Job, step: Step, uv_indexes: dict[str, str],
                   wrappers: WrapperReader | None = None) -> Iterator[PublishStep]:
    assert step.run is not None
    script = step.run.value
    uploads_here = "upload" in script or "publish" in script or "push" in script
    if not uploads_here and (wrappers is None or not _may_hide_upload(step, script)):
        return  # a fast pre-filter: no upload tool can appear without one of these words
    env = _Env(workflow, job, step)
    notes: list[tuple[Command, str, str | None]] = []
    found = False
    for command in split_commands(script) if uploads_here else _hinted_commands(script):
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
        anchor = _command_anchor(step, command, workflow)
        upload = analyse_upload(
            command, method, args, assigned, env.lookup, anchor,
            functools.partial(_word_anchor, step, command, workflow=workflow, base=anchor),
            uv_indexes)
        yield PublishStep(workflow, job, step, upload.method, anchor, upload.index,
                          upload.registry, upload.url, upload.url_anchor, upload.credentials,
                          upload.argv, upload.uv_trusted_mode, upload.uv_trusted_anchor)
    if not found and wrappers is not None and step.env is not None:
        from auditor.upload.wrapped import opaque_upload  # only steps with a credential

        inferred = opaque_upload(workflow, job, step, notes)
        if inferred is not None:
            yield inferred


def _input_credentials(step: Step, names: tuple[str, ...],
                       user_names: tuple[str, ...] = ()) -> list[Credential]:
    out: list[Credential] = []
    for name in names + user_names:
        node = step.input(name)
        if node is None or _is_empty(node.value):
            continue
        if name in user_names and node.value.strip() == "__token__":
            continue
        out.append(Credential(name, "input", step.input_anchor(name), node.value,
                              is_username=name in user_names))
    return out


def _action_publishes(workflow: Workflow, job: Job, step: Step) -> Iterator[PublishStep]:
    assert step.uses is not None and step.uses_node is not None
    uses = step.uses
    anchor = step.anchor.child("uses", node=step.uses_node)
    if uses.is_action(PYPI_ACTION):
        url_node = step.input("repository-url", "repository_url")
        url = url_node.value.strip() if url_node and not _is_empty(url_node.value) else None
        index = index_of_url(url) if url else "pypi"
        url_key = "repository-url" if step.input("repository-url") else "repository_url"
        yield PublishStep(workflow, job, step, "gh-action-pypi-publish", anchor, index, index,
                          url, step.input_anchor(url_key) if url else None,
                          tuple(_input_credentials(step, ("password",), ("user",))))
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
        for _, value, _at in _option_values(args, _OPTIONS["maturin"][0]):
            index, url = url_target_of("maturin", value, {})
        env = _Env(workflow, job, step)
        credentials = []
        for prefix in _CREDENTIAL_ENV["maturin"]:
            for name, value, level, var_anchor in env.lookup(prefix):
                credentials.append(Credential(name, level, var_anchor, value,
                                              name in _USERNAME_ENV))
        for option, value, _at in _option_values(args, _OPTIONS["maturin"][1]):
            credentials.append(Credential(option, "option", step.input_anchor("args"), value))
        yield PublishStep(workflow, job, step, "maturin", anchor, index, index, url,
                          step.input_anchor("args") if url else None, tuple(credentials))
        return
    if uses.is_action("release-plz/action"):
        release_command = step.input_text("command")
        if release_command is None or release_command == "release":
            env = _Env(workflow, job, step)
            creds = [Credential(name, level, var_anchor, value)
                     for name, value, level, var_anchor in env.lookup("CARGO_REGISTRY_TOKEN")]
            yield PublishStep(workflow, job, step, "cargo", anchor, "other", "crates", None,
                              None, tuple(creds))
        return
    if uses.is_action("rubygems/release-gem"):
        creds = []
        setup = step.input("setup-trusted-publisher")
        if setup is not None and setup.value.strip().lower() == "false":
            creds = [Credential("setup-trusted-publisher", "input",
                                step.input_anchor("setup-trusted-publisher"), "false")]
        yield PublishStep(workflow, job, step, "gem", anchor, "other", "rubygems", None, None,
                          tuple(creds))
        return
    token_inputs = _THIRD_PARTY_PYPI_ACTIONS.get(uses.slug)
    if token_inputs is not None:
        url_node = step.input("repository-url", "repository_url", "url", "repository")
        index = index_of_url(url_node.value) if url_node and "://" in url_node.value else "pypi"
        yield PublishStep(workflow, job, step, "other", anchor, index, index, None, None,
                          tuple(_input_credentials(step, token_inputs)))


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
