"""Find PyPI credentials in the lines of a hunk (or of a working-tree file).

A credential is what a maintainer must delete and revoke: a GitHub Actions secret or
variable (``${{ secrets.PYPI_TOKEN }}``), a GitLab CI/CD variable (``$PYPI_TOKEN``) or
another CI's variable, a token committed in clear (``pypi-AgEI…``), or the ``password`` of a
committed ``.pypirc``. A secret is a *PyPI* credential when its name says so (``names``)
or when it is handed to something that only authenticates an upload:
an environment variable of ``upload.publish.CREDENTIAL_ENV`` (``TWINE_PASSWORD``,
``POETRY_PYPI_TOKEN_*``...), the ``password`` input of ``pypa/gh-action-pypi-publish`` or a
third-party publish action's token input, the password option of an upload command
(``twine upload -p``, ``uv publish --token``), ``poetry config pypi-token.NAME``. Anything
else (``CODECOV_TOKEN``, ``GITHUB_TOKEN``, GitLab's own ``CI_JOB_TOKEN``) is not reported.
Usernames are not credentials (``PYPI_USERNAME``, ``TWINE_USERNAME``, the ``user`` input).

Only single lines are read, with the lines of the same step around them (the hunk's
context, ``places``) for the action a ``password:`` input belongs to and the index a step
uploads to: the history is a stream of diffs, not of parseable files. A token for another
index (a Nexus, Jazzband's release server) is not a PyPI credential.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from functools import cache

from auditor.checks.credentials import PLACEHOLDER_RE, PYPIRC_PASSWORD_RE
from auditor.history.names import (
    GITLAB_PREDEFINED,
    NEVER,
    PYPI_WORD_RE,
    PYTHON_TOOLS,
    is_credential_variable,
    is_username,
    pypi_by_name,
)
from auditor.history.places import environments_of, file_kind, indent, jobs_of, step_window
from auditor.output.records import record
from auditor.output.redact import describe_token, plausible_pypi_token, pypi_token_res
from auditor.upload.indexes import index_of_name, index_of_url
from auditor.upload.publish import OPTIONS, PYPA_INPUTS, PYPI_ACTION, THIRD_PARTY_PYPI_ACTIONS

_TESTPYPI_MACAROON = "AgENdGVzdC5weXBpLm9yZw"  # base64 of the location "test.pypi.org"

_GITHUB_REF_RE = re.compile(r"(?:\$\{\{\s*)?\b(secrets|vars)\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)"
                            r"|\[\s*['\"]([A-Za-z_][A-Za-z0-9_-]*)['\"]\s*\])")
# $NAME, ${NAME}, PowerShell's $env:NAME and cmd's %NAME% (AppVeyor, Azure, Windows jobs)
_SHELL_REF_RE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|(?:env:)?([A-Za-z_][A-Za-z0-9_]*))"
                           r"|%([A-Za-z_][A-Za-z0-9_]*)%")
# How a release file (script, Makefile, tox, nox) reads a variable: $NAME, ${NAME}, make's
# $(NAME), tox's {env:NAME}, Python's os.environ["NAME"] / .get("NAME") / getenv("NAME")
_ENV_READ_RE = re.compile(r"\$(?:\{([A-Za-z_]\w*)\}|\(([A-Za-z_]\w*)\)|([A-Za-z_]\w*))"
                          r"|\{env:([A-Za-z_]\w*)"
                          r"|\b(?:environ(?:\.get)?|getenv)\s*[\[(]\s*['\"]([A-Za-z_]\w*)['\"]")
_FED_BEFORE_RE = re.compile(r"([A-Za-z_][\w.-]*)\s*(?:=|:)\s*[\"']?\s*$")
_OPTION_BEFORE_RE = re.compile(r"(?:^|\s)(--?[A-Za-z][\w-]*)(?:=|\s+)[\"']?\s*$")
_POETRY_CONFIG_RE = re.compile(r"\bpoetry\s+config\s+(?:--\S+\s+)*(pypi-token|http-basic)\."
                               r"([\w-]+)\s+(?:\S+\s+)?[\"']?\s*$")
_TOOL_RE = re.compile(r"\b(" + "|".join(PYTHON_TOOLS) + r")\b")
_USES_RE = re.compile(r"^\s*(?:-\s+)?uses\s*:\s*[\"']?([^@\s\"'#]+)")
_TESTPYPI_RE = re.compile(r"test\.pypi\.org|\btest[-_]?pypi\b", re.I)
# Where an upload's index is named: repository-url, --publish-url, TWINE_REPOSITORY_URL...
_INDEX_KEY_RE = re.compile(r"repositor|publish[-_]url|index[-_](?:url|repo)|publish[-_]repo|"
                           r"(?:^|\s)-r[\s=]", re.I)
_URL_RE = re.compile(r"https?://[^\s\"'<>]+")


_YAML_ASSIGN_RE = re.compile(r"^\s*(?:-\s+)?([A-Z_][A-Z0-9_]*)\s*:\s*\S")
_SHELL_ASSIGN_RE = re.compile(r"(?:^|[\s;&|(])(?:export\s+|local\s+|declare\s+(?:-\w+\s+)*)?"
                              r"([A-Za-z_][A-Za-z0-9_]*)=([^\s;&|]*)")
_ID_TOKENS_RE = re.compile(r"^(\s*)id_tokens\s*:\s*(?:#.*)?$")
_KEY_RE = re.compile(r"^(\s*)([A-Za-z_][\w-]*)\s*:")
_ENV_NAME_RE = re.compile(r"[A-Z_][A-Z0-9_]*")


@record
class CredentialId:
    """What a maintainer deletes or revokes: its kind, where it is kept, and its name."""

    kind: str  # "secret" | "variable" | "token" (committed in clear) | "pypirc-password"
    # "github" | "gitlab" | "ci" (another CI service) | "file" (committed in clear) | "env"
    # (read by a release file from its environment: the audit gives it to the CI that sets
    # it, and never reports it as such)
    platform: str
    name: str  # the secret's or variable's name; for a committed one a redacted description
    fingerprint: str = ""  # committed ones: a hash of the value, which tells two apart

    @property
    def committed(self) -> bool:
        """Its value is in the repository's history: public to anyone who can clone it."""
        return self.platform == "file"


@record
class Sighting:
    """One line that names a credential."""

    credential: CredentialId
    line: int  # index in the hunk's lines (a working-tree file: its line number - 1)
    feeds: str | None  # what it is handed to: "TWINE_PASSWORD", "twine --password"...
    index: str  # "pypi" | "testpypi"
    job: str | None  # the job, section, target or session around the line
    environment: str | None = None  # the GitHub environment of the job, when it names one


@record
class Recognised:
    """A hunk's credentials, and the names it defines itself (never CI/CD variables)."""

    sightings: tuple[Sighting, ...] = ()
    local_names: frozenset[str] = frozenset()




def _text(line: str) -> str:
    return line[1:]




def _index(name: str, feeds: str | None, texts: Sequence[str], window: range) -> str:
    """``testpypi`` when the name, the variable it feeds or the step says TestPyPI;
    ``other`` when the step uploads to another index (a Nexus, an Artifactory: its token
    is not revoked on PyPI); else ``pypi``."""
    if re.search(r"TEST", name, re.I) and PYPI_WORD_RE.search(name):
        return "testpypi"
    if feeds and _TESTPYPI_RE.search(feeds):
        return "testpypi"
    found: set[str] = set()
    for j in window:
        text = texts[j]
        if "test" in text.lower() and _TESTPYPI_RE.search(text):
            for word in re.findall(r"[\w-]+", text):
                if index_of_name(word) == "testpypi" and word.lower() != "test":
                    return "testpypi"
        if "://" in text and _INDEX_KEY_RE.search(text):
            found.update(index_of_url(match.group().strip("'\",)"))
                         for match in _URL_RE.finditer(text))
    if "testpypi" in found:
        return "testpypi"
    return "other" if "other" in found and "pypi" not in found else "pypi"


def _action(texts: Sequence[str], window: range) -> str | None:
    for j in window:
        match = _USES_RE.match(texts[j])
        if match:
            return match.group(1).lower()
    return None


def _handed_to(prefix: str, kind: str, texts: Sequence[str], window: range
               ) -> tuple[str | None, bool | None]:
    """What the value after ``prefix`` is handed to, and whether that makes it a PyPI
    credential (``None``: it does not say; ``False``: a username, never a credential)."""
    poetry = _POETRY_CONFIG_RE.search(prefix)
    if poetry:
        return f"poetry config {poetry.group(1)}.{poetry.group(2)}", True
    option = _OPTION_BEFORE_RE.search(prefix)
    if option:
        tool = None
        for match in _TOOL_RE.finditer(prefix[:option.start()]):
            tool = match.group(1)
        if tool is not None:
            _, secret_options, user_options = OPTIONS[tool]
            if option.group(1) in secret_options:
                return f"{tool} {option.group(1)}", True
            if option.group(1) in user_options:
                return None, False
        return None, None
    fed = _FED_BEFORE_RE.search(prefix)
    if fed is None:
        return None, None
    key = fed.group(1)
    if is_username(key):
        return None, False
    if is_credential_variable(key):
        return key.upper(), True
    if kind == "github":
        action = _action(texts, window)
        if action == PYPI_ACTION and key in PYPA_INPUTS:
            return (f"{key} input of {PYPI_ACTION}", True) if key == "password" else \
                (None, False)
        if action in THIRD_PARTY_PYPI_ACTIONS and key in THIRD_PARTY_PYPI_ACTIONS[action]:
            return f"{key} input of {action}", True
        if action is not None and not _ENV_NAME_RE.fullmatch(key):
            return f"{key} input of {action}", None  # PyPI or not, by the secret's name
    # an environment variable of its own name (a script reads it), not a key like `if:`
    return (key, None) if _ENV_NAME_RE.fullmatch(key) else (None, None)


@cache
def _run_key() -> bytes:
    return secrets.token_bytes(32)


def _fingerprint(value: str) -> str:
    """Tells two committed values apart within one run. Keyed with a random key of the run,
    not a plain hash: a .pypirc password may be a guessable one, and a published hash of it
    could be tested offline."""
    return hmac.new(_run_key(), value.encode("utf-8", "surrogateescape"),
                    hashlib.sha256).hexdigest()[:16]


def _literal_tokens(text: str) -> list[tuple[int, str]]:
    found: dict[int, str] = {}
    for pattern in pypi_token_res():
        for match in pattern.finditer(text):
            if match.start() not in found and plausible_pypi_token(match.group()):
                found[match.start()] = match.group()
    return sorted(found.items())


def _local_names(kind: str, texts: Sequence[str]) -> set[str]:
    """Names a GitLab or other CI file assigns itself (``variables:`` keys, shell
    assignments, ``id_tokens:``): a reference to one is not a CI/CD variable."""
    names: set[str] = set()
    block: int | None = None
    for text in texts:
        if "id_tokens" in text:
            opened = _ID_TOKENS_RE.match(text)
            if opened:
                block = len(opened.group(1))
                continue
        if block is not None and text.strip():
            key = _KEY_RE.match(text)
            if indent(text) <= block:
                block = None
            elif key:
                names.add(key.group(2))
        if "=" in text:
            for match in _SHELL_ASSIGN_RE.finditer(text):
                value = match.group(2).strip("\"'")
                if not _SHELL_REF_RE.fullmatch(value):
                    names.add(match.group(1))
        assigned = _YAML_ASSIGN_RE.match(text)
        if assigned and kind in ("gitlab", "ci"):
            names.add(assigned.group(1))
    return names


def recognise(path: str, header: str, lines: Sequence[str], every_line: bool = False
              ) -> Recognised:
    """The credentials named by the changed lines of a hunk (``+``/``-``; every line with
    ``every_line``, for a working-tree file). ``lines`` start with their diff sign."""
    kind = file_kind(path)
    texts: list[str] | None = None
    jobs: list[str | None] = []
    environments: list[str | None] = []
    out: list[Sighting] = []
    for i, line in enumerate(lines):
        if not every_line and line[:1] == " ":
            continue
        if "$" not in line and "%" not in line and "pypi-" not in line:
            lower = line.lower()  # cheaper than one case-insensitive pattern per line
            if "secrets" not in lower and "vars" not in lower and "password" not in lower:
                continue
        if texts is None:
            texts = [_text(text) for text in lines]
            jobs = jobs_of(kind, path, texts, header)
            environments = environments_of(kind, path, texts)
        out += _line_sightings(kind, path, texts, jobs, environments, i)
    if kind in ("github", "pypirc"):
        return Recognised(tuple(out))
    return Recognised(tuple(out), frozenset(_local_names(
        kind, texts if texts is not None else [_text(text) for text in lines])))


def _line_sightings(kind: str, path: str, texts: Sequence[str], jobs: Sequence[str | None],
                    environments: Sequence[str | None], i: int) -> list[Sighting]:
    text = texts[i]
    out: list[Sighting] = []
    base = {"github": 2, "gitlab": 0, "ci": 0}.get(kind, -1)
    window: range | None = None

    def around() -> range:
        nonlocal window
        if window is None:
            window = step_window(texts, i, base)
        return window

    def add(credential: CredentialId, feeds: str | None) -> None:
        index = _index(credential.name if not credential.committed else "", feeds, texts,
                       around())
        if index != "other":  # another index's token is not revoked on PyPI
            out.append(Sighting(credential, i, feeds, index,
                                jobs[i], environments[i]))

    tokens = _literal_tokens(text) if "pypi-" in text else []
    for start, token in tokens:
        fed, _ = _handed_to(text[:start], kind, texts, around())
        index = "testpypi" if _TESTPYPI_MACAROON in token[:40] else "pypi"
        out.append(Sighting(CredentialId("token", "file", describe_token(token),
                                         _fingerprint(token)),
                            i, fed, index, jobs[i]))
    if text.lstrip().startswith(("#", ";") if kind in ("ini", "pypirc") else "#"):
        return out  # a comment uses nothing (a token in it is committed all the same)
    if kind == "pypirc" and not tokens:
        match = PYPIRC_PASSWORD_RE.match(text)
        if match and not PLACEHOLDER_RE.match(match.group(1).strip("'\"")):
            value = match.group(1)
            add(CredentialId("pypirc-password", "file",
                             f"password in {path}",
                             _fingerprint(value)), None)
    if kind == "github":
        for match in _GITHUB_REF_RE.finditer(text):
            name = match.group(2) or match.group(3)
            if "-" in name:  # a reusable workflow's own secret: a caller passes a real one
                continue
            fed, pypi = _handed_to(text[:match.start()], kind, texts, around())
            if name.upper() in NEVER or pypi is False or not (pypi or pypi_by_name(name)):
                continue
            # GitHub stores secret and variable names upper-cased: secrets.pypi_token is
            # the same secret as secrets.PYPI_TOKEN
            add(CredentialId("secret" if match.group(1) == "secrets" else "variable",
                             "github", name.upper()), fed)
    elif kind in ("gitlab", "ci"):
        for match in _SHELL_REF_RE.finditer(text):
            name = match.group(1) or match.group(2) or match.group(3)
            fed, pypi = _variable(name, text[:match.start()], kind, texts, around)
            if pypi:
                add(CredentialId("variable", kind, name), fed)
    elif kind != "pypirc":
        # A release file reads what the CI hands it; audit decides whose variable it is.
        for match in _ENV_READ_RE.finditer(text):
            name = next(group for group in match.groups() if group)
            fed, pypi = _variable(name, text[:match.start()], kind, texts, around)
            if pypi:
                add(CredentialId("variable", "env", name), fed)
    return out


def _variable(name: str, prefix: str, kind: str, texts: Sequence[str],
              around: Callable[[], range]) -> tuple[str | None, bool]:
    """What a variable reference is handed to, and whether it is a PyPI credential."""
    upper = name.upper()
    if upper in NEVER or name.startswith(GITLAB_PREDEFINED) or \
            upper.endswith("ID_TOKEN"):  # GitLab's OIDC token, by convention
        return None, False
    fed, pypi = _handed_to(prefix, kind, texts, around())
    return fed, pypi is not False and (pypi is True or pypi_by_name(name))
