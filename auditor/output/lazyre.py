"""Regular expressions compiled when first used, not when their module is imported.

``re.compile`` runs the pattern parser in Python: the ~100 module-level patterns of the
recogniser and the rules cost tens of milliseconds at start-up, most of them for commands,
formats and rules a given scan never meets. pubaudit runs on every commit, so a pattern is
declared at module level as before, with :func:`lazy_re`, and compiled on its first call.
"""

from __future__ import annotations

import re
from typing import Any, cast

# The pattern methods modules call; after the first use each is the compiled pattern's own.
_METHODS = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split")


class _LazyPattern:
    """Stands for ``re.compile(pattern, flags)``: compiled on first use.

    The methods are slots, empty until then; the first use of any of them (or of
    ``.pattern``, ``.groups``...) finds the slot empty, goes through ``__getattr__``, which
    compiles and fills every slot with the compiled pattern's bound method. Later calls go
    straight to ``re``: a wrapper method per call cost ~0.7 us, and the recogniser and the
    rules make ~10,000 calls a scan of 70 repositories."""

    __slots__ = ("_compiled", "_flags", "_source", *_METHODS)

    def __init__(self, source: str, flags: int) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def _pattern(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._source, self._flags)
            for name in _METHODS:
                object.__setattr__(self, name, getattr(compiled, name))
        return compiled

    def __getattr__(self, name: str) -> Any:  # an empty method slot, .pattern, .groups...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._pattern(), name)


def lazy_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A pattern that compiles on first use; typed as the compiled pattern it stands for."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))
