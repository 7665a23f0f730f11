"""TOML read with the YAML loader's guarantees: a bounded size, a bounded depth, bounded
numbers and a position for every failure, as a value rather than an exception.

``tomllib`` raises more than ``TOMLDecodeError`` on hostile text: ``RecursionError`` for
arrays or inline tables nested a few hundred deep, ``ValueError`` for an integer past
Python's digit limit. Every TOML file pubaudit reads (the repository's ``pyproject.toml``,
``pubaudit.toml``, ``--config``) goes through :func:`parse_toml`, so none of those escapes as
a traceback.
"""

from __future__ import annotations

import re
from typing import Any

from auditor.output.lazyre import lazy_re
from auditor.output.records import record

MAX_BYTES = 2 * 1024 * 1024  # a real pyproject.toml is a few KB
MAX_DEPTH = 100  # arrays and inline tables; real files nest two or three levels

# What can open or close a level, and what hides brackets from the count: strings (the
# multi-line ones first) and comments. An unclosed multi-line string ends at the end of the
# text, so every pattern is matched once per position it starts at and the scan is linear.
_TOKEN_RE = lazy_re(
    r'"""(?:[^"\\]|\\.|"(?!""))*+(?:"""|\Z)'
    r"|'''(?:[^']|'(?!''))*+(?:'''|\Z)"
    r'|"(?:[^"\\\n]|\\.)*+"?'
    r"|'[^'\n]*+'?"
    r"|#[^\n]*+"
    r"|[\[\]{}]", re.S)
_POSITION_RE = lazy_re(r"line (\d+), column (\d+)")
# Where a number too long to convert starts (only looked for once conversion failed); the
# lookbehind starts a match only at the start of a run, so each run is scanned once.
_LONG_NUMBER_RE = lazy_re(r"(?<![0-9_])[0-9_]{4000,}")


@record
class TomlProblem:
    """Why a text is not a TOML document pubaudit reads, at a 1-based position."""

    message: str
    line: int
    column: int


def decode_toml(data: bytes) -> str | TomlProblem:
    """TOML is UTF-8; a bad byte is a problem at its line and column, not a traceback."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[:exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        return TomlProblem(f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line, column)


def _too_deep(text: str) -> TomlProblem | None:
    """The first bracket deeper than :data:`MAX_DEPTH`, counted outside strings and comments
    (a table header ``[a]`` opens and closes one level, so it never adds up)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return None  # too few brackets to nest that deep: no need to tokenize
    depth = 0
    for token in _TOKEN_RE.finditer(text):
        first = token.group()[0]
        if first in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = _position(text, token.start())
                return TomlProblem(f"nesting deeper than {MAX_DEPTH} levels", line, column)
        elif first in "]}":
            depth = max(depth - 1, 0)
    return None


def _position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


_PARSED: dict[str, dict[str, Any] | TomlProblem] = {}  # the last few texts parsed
_PARSED_KEPT = 4


def parse_toml(text: str) -> dict[str, Any] | TomlProblem:
    """The document, or why it cannot be read (not TOML, too large, too deep, a number too
    long for Python to convert). ``pyproject.toml`` is read by the configuration, the
    project's identity and discovery: the same text is parsed once, and the callers only
    read the document."""
    known = _PARSED.get(text)
    if known is None:
        known = _parse(text)
        if len(_PARSED) >= _PARSED_KEPT:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[text] = known
    return known


def _parse(text: str) -> dict[str, Any] | TomlProblem:
    if len(text) > MAX_BYTES:
        return TomlProblem(f"larger than {MAX_BYTES // (1024 * 1024)} MB; not parsed", 1, 1)
    deep = _too_deep(text)
    if deep is not None:
        return deep
    import tomllib  # only a repository with TOML to read pays for it

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _POSITION_RE.search(str(exc))
        line, column = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        return TomlProblem(f"not valid TOML: {str(exc).split(' (at')[0]}", line, column)
    except RecursionError:  # a shape the bracket count does not see; never expected
        return TomlProblem("nested too deeply to parse", 1, 1)
    except ValueError:  # an integer past sys.get_int_max_str_digits()
        long = _LONG_NUMBER_RE.search(text)
        if long is None:
            return TomlProblem("a value cannot be read", 1, 1)
        line, column = _position(text, long.start())
        return TomlProblem(f"a number of {len(long.group())} digits is too long to read",
                           line, column)
