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

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from auditor.github.model import Job, Step, Workflow
from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.positions import scalar_span
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Mapping, Scalar
from auditor.upload.indexes import index_of_name, index_of_url
from auditor.upload.shell import Command

if TYPE_CHECKING:
    pass

PYPI_ACTION = "pypa/gh-action-pypi-publish"
MATURIN_ACTION = "pyo3/maturin-action"
PYPA_INPUTS = ("user", "password", "repository-url", "packages-dir", "verify-metadata",
               "skip-existing", "verbose", "print-hash", "attestations")
PYPA_SNAKE_INPUTS = {"repository_url": "repository-url", "packages_dir": "packages-dir",
                     "verify_metadata": "verify-metadata", "skip_existing": "skip-existing",
                     "print_hash": "print-hash"}

# Third-party actions that upload to PyPI with a token of their own.
THIRD_PARTY_PYPI_ACTIONS = {
    "casperdcl/deploy-pypi": ("password",),
    "jrubics/poetry-publish": ("pypi_token", "password"),
    "code-specialist/pypi-poetry-publish": ("pypi_token", "password"),
    "mariamrf/py-package-publish-action": ("password", "pypi_token"),
    "conchylicultor/pypi-build-publish": ("pypi-token", "pypi_token"),
    "etils-actions/pypi-auto-publish": ("pypi-token",),
    "celsiusnarhwal/poetry-publish": ("token",),
}

# Environment variables that carry a credential to each tool (names may be prefixes).
CREDENTIAL_ENV = {
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
USERNAME_ENV = frozenset({"TWINE_USERNAME", "UV_PUBLISH_USERNAME", "PDM_PUBLISH_USERNAME",
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
OPTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
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


@record
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


def credential_kind(secrets: tuple[Credential, ...], minted: tuple[Credential, ...],
                    trusted_publishing: bool) -> str:
    """How an upload authenticates, as the inventory names it, for GitHub steps and GitLab
    jobs alike: ``static`` (a long-lived credential), ``oidc-exchange`` (a token minted
    earlier in the job), ``oidc`` (the tool's own exchange) or ``none`` (no credential
    pubaudit can see, and no trusted publishing)."""
    if secrets:
        return "static"
    if minted:
        return "oidc-exchange"
    return "oidc" if trusted_publishing else "none"


@record
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
    # The indexes a computed URL takes when the workflow sets it to literals naming several
    # (a matrix of TestPyPI and PyPI legs); ``index`` is ``unknown`` then, and the inventory
    # and the publishers list one entry per target.
    targets: tuple[str, ...] = ()

    @property
    def indexes(self) -> tuple[str, ...]:
        """Where the upload goes: its index, or each of its targets."""
        return self.targets if self.index == "unknown" and self.targets else (self.index,)

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
        """How the upload authenticates, for the inventory (see ``credential_kind``)."""
        return credential_kind(self.secrets, self.minted, self.trusted_publishing)

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

# Words in an environment variable's name or value that say it may hold a PyPI credential:
# the pre-filter for commands pubaudit may have to follow into files (GitHub and GitLab).
CREDENTIAL_HINTS = ("PYPI", "TWINE_", "UV_PUBLISH_", "HATCH_INDEX", "PDM_PUBLISH", "FLIT_",
                    "MATURIN_")
# Words that may start a command running a repository file (``tox``, ``make``, ``./x``...):
# a step without any is not read for wrappers.
WRAPPER_HINT_RE = lazy_re(r"\b(?:tox|nox|g?make|just|bash|sh)\s|\./\w|\.sh\b|\w\.py\b"
                              r"|\brun\s+\S*(?:release|publish|upload|deploy)")
# Every match of WRAPPER_HINT_RE holds one of these. The pattern starts with nothing the
# regular expression engine can skip ahead to, so it is tried at each position of a script;
# substring tests first pass over the scripts that cannot match (most of them) in a tenth
# of the time.
_WRAPPER_HINT_WORDS = ("sh", "tox", "nox", "make", "just", "./", ".py", "run")


def wrapper_hints(script: str) -> list[re.Match[str]]:
    """The places ``script`` may name a wrapper: the matches of ``WRAPPER_HINT_RE``."""
    if not any(word in script for word in _WRAPPER_HINT_WORDS):
        return []
    return list(WRAPPER_HINT_RE.finditer(script))


_PY_RE = lazy_re(r"^(?:.*/)?(?:python(?:\d+(?:\.\d+)?)?|py|pypy3?)(?:\.exe)?$")
_VALUE_OPTIONS = frozenset({"--with", "--from", "--group", "--extra", "--python", "-p",
                            "--project", "--directory", "--package", "--index", "--spec",
                            "--only-group", "--env-file", "-e", "--environment", "-w"})


def _skip_options(argv: list[str], i: int) -> int:
    while i < len(argv) and argv[i].startswith("-"):
        option = argv[i]
        i += 2 if option in _VALUE_OPTIONS and "=" not in option else 1
    return i


_BRACED_PREFIX_RE = lazy_re(r"^(?:\$\{\w+\})+(?=\w)")
_SPEC_RE = lazy_re(r"[@=<>~!\[]")  # where a version or extras follow the name: twine==6.1


def _tool_name(word: str) -> str:
    """The program a command word runs: ``/usr/bin/twine``, ``twine.exe`` and
    ``${PREFIX}twine`` (a virtualenv's ``bin/`` or nothing, as encode's release scripts
    choose) all run ``twine``. Asked of every command word; the prefix pattern runs only
    on a name that starts with ``${``."""
    base = word.rsplit("/", 1)[-1]
    if base.startswith("${"):
        base = _BRACED_PREFIX_RE.sub("", base)
    base = _SPEC_RE.split(base.lower(), maxsplit=1)[0]
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


def option_values(args: list[str], names: tuple[str, ...]) -> list[tuple[str, str, int]]:
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


def is_empty(value: str) -> bool:
    return value.strip() in ("", "''", '""')


class StepEnv:
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
                if isinstance(value, Scalar) and not is_empty(text):
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


def step_command_anchor(step: Step, command: Command, workflow: Workflow) -> Anchor:
    assert step.run is not None
    span = scalar_span(workflow.source, step.run, command.start, command.end)
    anchor = step.anchor.child("run", node=step.run)
    if span is None:
        return anchor
    return Anchor(anchor.path, (*anchor.route, " ".join(command.argv[:3])), step.run, span)


def step_word_anchor(step: Step, command: Command, index: int, workflow: Workflow,
                 base: Anchor) -> Anchor:
    assert step.run is not None
    word = command.words[index]
    span = scalar_span(workflow.source, step.run, word.start, word.end)
    if span is None:
        return base
    return Anchor(base.path, (*base.route, index), step.run, span)


@record
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
    target_opts, secret_opts, user_opts = OPTIONS.get(method, ((), (), ()))
    registry = {"npm": "npm", "cargo": "crates", "gem": "rubygems"}.get(method, "pypi")
    index = "pypi" if registry == "pypi" else "other"
    url: str | None = None
    url_anchor: Anchor | None = None
    for _, value, at in option_values(args, target_opts):
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
    for option, value, at in option_values(args, secret_opts + user_opts):
        if is_empty(value):
            continue
        credentials.append(Credential(option, "option", word_anchor(offset + at - 1), value,
                                      is_username=option in user_opts))
    for prefix in CREDENTIAL_ENV.get(method, ()):
        for name, value in assigned.items():
            matches = name.startswith(prefix) if prefix.endswith("_") else name == prefix
            if matches and not is_empty(value):
                credentials.append(Credential(name, "command env", anchor, value,
                                              name in USERNAME_ENV))
        for name, value, level, var_anchor in lookup(prefix):
            if name not in assigned:
                credentials.append(Credential(name, level, var_anchor, value,
                                              name in USERNAME_ENV))
    uv_mode: str | None = None
    uv_anchor: Anchor | None = None
    if method == "uv":
        for _, value, at in option_values(args, ("--trusted-publishing",)):
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
