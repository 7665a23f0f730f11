"""``--online``: the GitHub and PyPI clients, with httpx — the only package that imports it,
and only when ``--online`` is given (``start``); without it nothing here is imported.

- ``settings``: base URLs, token, cache directory, timeouts, from the environment;
- ``transport``: httpx, retries, redirects, size cap, cache, notices;
- ``cache``: the on-disk ETag cache;
- ``github``/``pypi``: the two clients, separate, so the GitHub token reaches GitHub only;
- ``session``: what one repository's online rules share;
- ``registry`` and one module per rule family (``environments``, ``secrets``,
  ``projects``, ``provenance``, ``pins``);
- ``run``: the runner the engine calls (``Options.online``).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auditor.online.run import Runner

INSTALL_HINT = "--online needs httpx: pip install 'pubaudit[online]' (or: pip install httpx)"


class OnlineUnavailable(Exception):
    """``--online`` was given but httpx is not installed."""


def start(*, no_cache: bool = False, progress: bool = False) -> Runner:
    """The runner for one ``--online`` run (raises :class:`OnlineUnavailable`)."""
    try:
        import httpx  # noqa: F401  (only to tell a missing install from a bug)
    except ImportError:
        raise OnlineUnavailable(INSTALL_HINT) from None
    from auditor.online.run import Runner
    from auditor.online.settings import from_environment

    return Runner(from_environment(os.environ, no_cache=no_cache, progress=progress))
