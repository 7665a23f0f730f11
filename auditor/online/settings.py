"""Where ``--online`` goes and with what: base URLs, the GitHub token, the cache directory.

Everything comes from the environment (SPEC §9), read once into :class:`Settings`. The token
is kept out of ``repr`` so no traceback or debug print can show it; it is sent only to the
GitHub API base URL, and only over https (or http to a loopback host, for tests).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from urllib.parse import urlsplit

from auditor.output.records import record

DEFAULT_GITHUB_API = "https://api.github.com"
DEFAULT_GITHUB_SERVER = "https://github.com"
DEFAULT_PYPI = "https://pypi.org"
DEFAULT_TESTPYPI = "https://test.pypi.org"

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in _LOOPBACK or host.startswith("127.")


def may_carry_token(url: str) -> bool:
    """A token goes over https, or over http only to this machine."""
    return urlsplit(url).scheme == "https" or (urlsplit(url).scheme == "http" and
                                               is_loopback(url))


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """The platform's user cache directory, ``pubaudit`` inside it."""
    if environ.get("PUBAUDIT_CACHE_DIR"):
        return Path(environ["PUBAUDIT_CACHE_DIR"])
    if sys.platform == "win32" and environ.get("LOCALAPPDATA"):
        return Path(environ["LOCALAPPDATA"]) / "pubaudit" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "pubaudit"
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "pubaudit"


@record
class Timeouts:
    """Seconds: GitHub may process a request for 10 s before answering 5xx."""

    connect: float = 5.0
    read: float = 15.0


@record
class Settings:
    """What one ``--online`` run uses."""

    github_api: str = DEFAULT_GITHUB_API
    github_server: str = DEFAULT_GITHUB_SERVER
    pypi: str = DEFAULT_PYPI
    testpypi: str = DEFAULT_TESTPYPI
    token: str | None = field(default=None, repr=False)
    token_source: str | None = None  # "GH_TOKEN" | "GITHUB_TOKEN"
    cache_dir: Path | None = None  # None: --no-cache
    timeouts: Timeouts = Timeouts()
    retries: int = 2  # further tries after the first, on 5xx, 408, 429 and connection errors
    backoff_cap: float = 10.0  # the longest wait for Retry-After or a rate-limit reset
    max_body: int = 8 * 1024 * 1024  # bytes read of one answer; more is a notice
    progress: bool = False  # a progress line on stderr

    def index_url(self, index: str) -> str:
        return self.testpypi if index == "testpypi" else self.pypi


def _float(environ: Mapping[str, str], name: str, default: float) -> float:
    try:
        value = float(environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


def from_environment(environ: Mapping[str, str], *, no_cache: bool = False,
                     progress: bool = False) -> Settings:
    """Settings from ``GITHUB_API_URL``, ``GITHUB_SERVER_URL``, ``PUBAUDIT_PYPI_URL``,
    ``PUBAUDIT_TESTPYPI_URL``, ``GH_TOKEN`` then ``GITHUB_TOKEN``, ``PUBAUDIT_CACHE_DIR``
    and (for tests and slow links) ``PUBAUDIT_CONNECT_TIMEOUT``/``PUBAUDIT_READ_TIMEOUT``."""
    token, source = None, None
    for name in ("GH_TOKEN", "GITHUB_TOKEN"):
        value = (environ.get(name) or "").strip()
        if value:
            token, source = value, name
            break
    timeouts = Timeouts(_float(environ, "PUBAUDIT_CONNECT_TIMEOUT", 5.0),
                        _float(environ, "PUBAUDIT_READ_TIMEOUT", 15.0))
    return Settings(
        github_api=(environ.get("GITHUB_API_URL") or DEFAULT_GITHUB_API).rstrip("/"),
        github_server=(environ.get("GITHUB_SERVER_URL") or DEFAULT_GITHUB_SERVER).rstrip("/"),
        pypi=(environ.get("PUBAUDIT_PYPI_URL") or DEFAULT_PYPI).rstrip("/"),
        testpypi=(environ.get("PUBAUDIT_TESTPYPI_URL") or DEFAULT_TESTPYPI).rstrip("/"),
        token=token, token_source=source,
        cache_dir=None if no_cache else default_cache_dir(environ),
        timeouts=timeouts, progress=progress,
        backoff_cap=_float(environ, "PUBAUDIT_BACKOFF_CAP", 10.0))


def environ() -> Mapping[str, str]:
    return os.environ
