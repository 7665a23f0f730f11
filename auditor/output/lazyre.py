"""Regular expressions compiled when first used, not when their module is imported.

``re.compile`` runs the pattern parser in Python: the ~100 module-level patterns of the
recogniser and the rules cost tens of milliseconds at start-up, most of them for commands,
formats and rules a given scan never meets. pubaudit runs on every commit, so a pattern is
declared at module level as before, with :func:`lazy_re`, and compiled on its first call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, cast


class _LazyPattern:
    """Stands for ``re.compile(pattern, flags)``: the methods a module calls on a pattern,
    each compiling it first (once)."""

    __slots__ = ("_compiled", "_flags", "_source")

    def __init__(self, source: str, flags: int) -> None:
        self._source = source
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    def _pattern(self) -> re.Pattern[str]:
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self._source, self._flags)
        return compiled

    def search(self, *args: Any) -> re.Match[str] | None:
        return self._pattern().search(*args)

    def match(self, *args: Any) -> re.Match[str] | None:
        return self._pattern().match(*args)

    def fullmatch(self, *args: Any) -> re.Match[str] | None:
        return self._pattern().fullmatch(*args)

    def finditer(self, *args: Any) -> Iterator[re.Match[str]]:
        return self._pattern().finditer(*args)

    def findall(self, *args: Any) -> list[Any]:
        return self._pattern().findall(*args)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str,
            count: int = 0) -> str:
        return self._pattern().sub(repl, string, count)

    def subn(self, repl: str | Callable[[re.Match[str]], str], string: str,
             count: int = 0) -> tuple[str, int]:
        return self._pattern().subn(repl, string, count)

    def split(self, string: str, maxsplit: int = 0) -> list[str | Any]:
        return self._pattern().split(string, maxsplit)

    def __getattr__(self, name: str) -> Any:  # .pattern, .groups, .groupindex, .flags
        return getattr(self._pattern(), name)


def lazy_re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """A pattern that compiles on first use; typed as the compiled pattern it stands for."""
    return cast("re.Pattern[str]", _LazyPattern(pattern, flags))
