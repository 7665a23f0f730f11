"""Which names are PyPI credentials: by the name alone, or by what it is handed to.

A secret, CI/CD variable or environment variable is a PyPI credential when its name says so
(``PYPI`` or ``TWINE`` with ``TOKEN``, ``PASSWORD``, ``KEY``...: ``PYPI_API_TOKEN``, a bare
``TEST_PYPI``) or when it is itself one of the variables an upload tool reads for its
password (``upload.publish.CREDENTIAL_ENV``: ``TWINE_PASSWORD``, ``POETRY_PYPI_TOKEN_*``...).
Usernames are not credentials, and names that mean a URL or a repository are not either;
``GITHUB_TOKEN`` and GitLab's predefined ``CI_*`` variables never are.
"""

from __future__ import annotations

import re
from functools import cache

from auditor.upload.publish import CREDENTIAL_ENV, USERNAME_ENV

# The tools that upload to a Python index (npm, cargo and gem do not).
PYTHON_TOOLS = ("twine", "uv", "pdm", "poetry", "hatch", "flit", "maturin")

# A PyPI credential by its name alone: a PyPI word and a secret word, where a plain secret
# word (TOKEN, PASSWORD...) outweighs a word for something else (PYPI_API_URL is a URL,
# PYPI_USER_TOKEN a token).
PYPI_WORD_RE = re.compile(r"PYPI|TWINE", re.I)
_SECRET_WORD_RE = re.compile(r"TOKEN|PASS|PWD|KEY|SECRET|AUTH|CRED", re.I)
_PLAIN_SECRET_WORD_RE = re.compile(r"TOKEN|PASS|PWD|SECRET|AUTH|CRED", re.I)
_OTHER_WORD_RE = re.compile(r"USER|LOGIN|URL|REPO|INDEX|HOST|ENDPOINT|NAME", re.I)
_BARE_PYPI_RE = re.compile(r"(TEST[_-]?)?PYPI([_-]?TEST)?", re.I)
NEVER = frozenset({"GITHUB_TOKEN"})  # GitHub's own token, whatever it is handed to
GITLAB_PREDEFINED = ("CI_", "GITLAB_")  # GitLab's own variables (CI_JOB_TOKEN...)


@cache
def _credential_env() -> tuple[frozenset[str], tuple[str, ...]]:
    """The PyPI credential variables (exact names, prefixes), from the upload recogniser."""
    exact: set[str] = set()
    prefixes: list[str] = []
    for tool in PYTHON_TOOLS:
        for name in CREDENTIAL_ENV.get(tool, ()):
            if name in USERNAME_ENV:
                continue
            if name.endswith("_"):
                prefixes.append(name)
            else:
                exact.add(name)
    return frozenset(exact), tuple(prefixes)


def is_credential_variable(name: str) -> bool:
    """``TWINE_PASSWORD``, ``UV_PUBLISH_TOKEN``, ``POETRY_PYPI_TOKEN_PYPI``,
    ``POETRY_HTTP_BASIC_PYPI_PASSWORD``...: only an upload reads it."""
    upper = name.upper()
    exact, prefixes = _credential_env()
    if upper in exact:
        return True
    for prefix in prefixes:
        if upper.startswith(prefix) and len(upper) > len(prefix):
            return prefix != "POETRY_HTTP_BASIC_" or upper.endswith("_PASSWORD")
    return False


def is_username(name: str) -> bool:
    """A variable or input that holds the user half of a login, never the secret."""
    upper = name.upper()
    return upper in USERNAME_ENV or name in ("user", "username", "HATCH_INDEX_USER") or \
        (upper.startswith("POETRY_HTTP_BASIC_") and upper.endswith("_USERNAME"))


def pypi_by_name(name: str) -> bool:
    """The name alone says PyPI credential: ``PYPI_API_TOKEN``, ``TEST_PYPI_PASSWORD``,
    ``PYPI``, ``TWINE_TOKEN``; not ``PYPI_USERNAME`` or ``PYPI_URL``."""
    if name.upper() in NEVER:
        return False
    if is_credential_variable(name):
        return True
    if not PYPI_WORD_RE.search(name):
        return False
    if _BARE_PYPI_RE.fullmatch(name):
        return True
    if not _SECRET_WORD_RE.search(name):
        return False
    return not _OTHER_WORD_RE.search(name) or _PLAIN_SECRET_WORD_RE.search(name) is not None
