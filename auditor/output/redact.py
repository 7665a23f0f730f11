"""Mask secrets in everything pubaudit prints: one recogniser, used by rules and output.

pubaudit reads repositories that sometimes hold live credentials, and its reports land in
CI logs, pull-request comments and code-scanning uploads that more people read than the
repository. So a token found by ``hardcoded-token`` must not be copied into the report by
the source excerpt that shows where it is. The same patterns that find PyPI tokens for the
rule mask them here (``PYPI_TOKEN_RES``), together with other registries' token shapes,
passwords in URL user-info and the bodies of PEM private keys. Each mask keeps a short
prefix, so a reader can still tell which token it was.

The regular expressions are compiled on first use: most runs print nothing with a secret,
and ``pubaudit --version`` should not pay for them.
"""

from __future__ import annotations

import re
from functools import cache

from auditor.output.lazyre import lazy_re

_PYPI_PATTERNS = (
    r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",  # a pypi.org macaroon
    r"pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,}",  # a test.pypi.org macaroon
    r"pypi-[A-Za-z0-9_-]{85,}",
)
_OTHER_TOKENS = (
    r"github_pat_[A-Za-z0-9_]{22,}",
    r"gh[pousr]_[A-Za-z0-9]{30,}",
    r"glpat-[A-Za-z0-9_-]{20,}",
    r"npm_[A-Za-z0-9]{30,}",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
)
# The literal each token shape above starts with, and the fewest token characters
# (``[A-Za-z0-9_-]``, a superset of each shape's own) that must follow it.
_TOKEN_SHAPES = (("github_pat_", 22), ("ghp_", 30), ("gho_", 30), ("ghu_", 30), ("ghs_", 30),
                 ("ghr_", 30), ("glpat-", 20), ("npm_", 30), ("AKIA", 16), ("ASIA", 16),
                 ("pypi-", 65))
_TOKEN_PREFIXES = tuple(prefix for prefix, _ in _TOKEN_SHAPES)
_SHORTEST_PYPI_BODY = dict(_TOKEN_SHAPES)["pypi-"]
_TOKEN_PREFIX = lazy_re("|".join(_TOKEN_PREFIXES))
_KEEP = 4  # characters kept after a token's type prefix
_BODY_LIMIT = 64 * 1024  # a PEM body without an END line is masked up to this far


@cache
def pypi_token_res() -> tuple[re.Pattern[str], ...]:
    """The PyPI and TestPyPI token patterns, most specific first (``hardcoded-token``)."""
    return tuple(re.compile(pattern) for pattern in _PYPI_PATTERNS)


def may_hold_pypi_token(text: str) -> bool:
    """A quick test before :func:`pypi_token_res`: ``False`` only when no PyPI token
    pattern can match (no ``pypi-`` followed by as many token characters as the shortest)."""
    return _token_follows(text, "pypi-", _SHORTEST_PYPI_BODY)


def plausible_pypi_token(text: str) -> bool:
    """A token body is base64url of a macaroon: mostly letters and digits. The generic
    pattern alone also matches ``pypi-`` followed by a rule of dashes or underscores."""
    body = text[5:]
    return sum(c.isalnum() for c in body) >= 0.8 * len(body)


def describe_token(token: str) -> str:
    """How a message names a token: its first characters and its length."""
    return f"{token[:12]}…{len(token)} characters"


@cache
def _secret_re() -> re.Pattern[str]:
    tokens = "|".join((*_PYPI_PATTERNS, *_OTHER_TOKENS))
    return re.compile(
        rf"(?P<token>{tokens})"
        # a scheme starts a run of scheme characters and is short: unbounded, every
        # position of a long host ("a.a.a…") began a scan to its end (quadratic)
        r"|(?P<url>(?<![a-zA-Z0-9+.-])[a-zA-Z][a-zA-Z0-9+.-]{0,31}://[^\s/@:'\"<>]+:)(?P<password>[^\s/@'\"<>]+)@"
        r"|(?P<armour>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)")


@cache
def _pem_end_re() -> re.Pattern[str]:
    return re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY-----")


def _token_mask(token: str) -> str:
    if token.startswith("pypi-"):
        return describe_token(token)
    prefix = _TOKEN_PREFIX.match(token)
    keep = (prefix.end() if prefix else 0) + _KEEP
    return f"{token[:keep]}…"


def _body_masks(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """A PEM body masked line by line, so the text keeps its lines (and line numbers)."""
    out = []
    for match in re.finditer(r"[^\r\n]+", text[start:end]):
        piece = match.group()
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            out.append((start + match.start() + lead,
                        start + match.start() + lead + len(stripped), "***"))
    return out


# A URL's user-info as the secret pattern reads it: what may follow ``://`` before the ``@``.
_USERINFO = lazy_re(r"[^\s/@'\"<>]*")
# The characters of any token shape above.
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _token_follows(text: str, literal: str, length: int) -> bool:
    """Some ``literal`` in ``text`` is followed by at least ``length`` token characters.
    Most texts that name ``pypa/gh-action-pypi-publish`` hold ``pypi-`` but no token."""
    at = text.find(literal)
    while at >= 0:
        body = text[at + len(literal):at + len(literal) + length]
        if len(body) == length and _TOKEN_CHARS.issuperset(body):
            return True
        at = text.find(literal, at + 1)
    return False


def _password_follows(text: str) -> bool:
    """Some ``://`` in ``text`` is followed by ``user:password@``: a user-info run that ends
    at an ``@`` and holds a ``:`` after its first character (a ``uses: owner/repo@ref`` after
    a link is not one). Each run stops at the next ``/``, so the runs never overlap and the
    whole text is read once."""
    at = text.find("://")
    while at >= 0:
        start = at + 3
        run = _USERINFO.match(text, start)
        stop = run.end() if run else start
        if stop < len(text) and text[stop] == "@" and text.find(":", start + 1, stop) > 0:
            return True
        at = text.find("://", start)
    return False


def _may_hold_secret(text: str) -> bool:
    """A quick, conservative test before the full pattern (which costs ~1 ms to compile,
    and most messages and excerpts hold no secret): ``False`` only when the pattern cannot
    match (``tests/test_properties.py`` checks it against the pattern)."""
    return (any(_token_follows(text, literal, length) for literal, length in _TOKEN_SHAPES)
            or "-----BEGIN" in text or _password_follows(text))


def secret_spans(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, mask)`` of every secret in ``text``, in order and not overlapping."""
    if not _may_hold_secret(text):
        return []
    out: list[tuple[int, int, str]] = []
    position = 0
    pattern = _secret_re()
    while (match := pattern.search(text, position)) is not None:
        if match.group("token"):
            out.append((match.start(), match.end(), _token_mask(match.group())))
            position = match.end()
        elif match.group("url"):
            password = match.group("password")
            if password != "***" and not password.startswith("$"):
                out.append((match.start("password"), match.end("password"), "***"))
            position = match.end()
        else:
            body = match.end()
            end = _pem_end_re().search(text, body, body + _BODY_LIMIT)
            stop = end.start() if end else min(len(text), body + _BODY_LIMIT)
            out += _body_masks(text, body, stop)
            position = end.end() if end else stop
            if position == match.start():
                position += 1
    return out


def apply(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with each span replaced by its mask."""
    if not spans:
        return text
    parts: list[str] = []
    position = 0
    for start, end, mask in spans:
        parts += (text[position:start], mask)
        position = end
    parts.append(text[position:])
    return "".join(parts)


def redact(text: str) -> str:
    """``text`` with every secret masked."""
    return apply(text, secret_spans(text))
