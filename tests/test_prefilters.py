"""Pre-filters and shortcuts taken for speed give the answers of the slow way they skip.

Each shortcut states a fact ("every match holds one of these words", "a line is looked at
alone"); these tests check the fact over generated text made of the fragments that matter,
so a pattern changed without its pre-filter fails here rather than as a missed finding.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.upload.publish import WRAPPER_HINT_RE, wrapper_hints
from auditor.upload.shell import split_commands

SETTINGS = settings(deadline=None, max_examples=300, derandomize=True, database=None)

# Pieces of the patterns and of shell syntax, with plain letters and blanks between them.
_SHELL_PIECES = ["tox", "nox", "make", "gmake", "just", "bash", "sh", "./", ".sh", ".py",
                 "run", "release", "publish", "a", "x_1", " ", "\t", "\n", "\\\n", "/",
                 "-", ".", "'", '"', "\\", "#", ";", "&&", "|", "$(", "${{", "}}", "="]
_SCRIPTS = st.lists(st.sampled_from(_SHELL_PIECES), max_size=40).map("".join)


@SETTINGS
@given(_SCRIPTS)
def test_wrapper_hints_are_the_pattern_matches(script: str) -> None:
    expected = [m.span() for m in WRAPPER_HINT_RE.finditer(script)]
    assert [m.span() for m in wrapper_hints(script)] == expected


@SETTINGS
@given(_SCRIPTS, _SCRIPTS)
def test_split_with_offset_shifts_the_words(before: str, piece: str) -> None:
    """Splitting a piece cut from a script, with its offset, gives the words of the piece
    at their places in the script."""
    script = before + piece
    shifted = split_commands(piece, offset=len(before))
    assert [[(w.text, w.start - len(before), w.end - len(before)) for w in c.words]
            for c in shifted] == [[(w.text, w.start, w.end) for w in c.words]
                                  for c in split_commands(piece)]
    assert all(script[w.start:w.end] == piece[w.start - len(before):w.end - len(before)]
               for c in shifted for w in c.words)


@SETTINGS
@given(_SCRIPTS)
def test_continuation_looks_at_its_line_alone(script: str) -> None:
    """A line goes on when it ends with a backslash: the same answer as stripping the whole
    script up to the line's end."""
    from auditor.upload.steps import _continues

    for end in (i for i, c in enumerate(script) if c == "\n"):
        assert _continues(script, end) == script[:end].rstrip(" \t").endswith("\\")


_URL_TEXT = st.text(alphabet="ahtps+.-:/@ '\"\nxu1", max_size=12)


# mostly plain parts (a URL that matches), sometimes the delimiters that break it
_URL_PART = st.one_of(st.text(alphabet="ux1.-", min_size=1, max_size=6), _URL_TEXT)
_SCHEME = st.sampled_from(["https", "http", "git+ssh", "", "1x", "h" * 40, "a.b-c"])


@SETTINGS
@given(_URL_TEXT, _SCHEME, _URL_PART, _URL_PART, _URL_PART, _URL_TEXT)
def test_a_url_with_a_password_holds_its_userinfo(before: str, scheme: str, user: str,
                                                 password: str, host: str, after: str) -> None:
    """credentials-in-url searches only texts where the userinfo pattern matches: every
    URL it would report holds ``://user:password@``."""
    from auditor.checks.credentials import _URL_RE, _USERINFO_RE

    text = f"{before}{scheme}://{user}:{password}@{host}{after}"
    if _URL_RE.search(text) is not None:
        assert _USERINFO_RE.search(text) is not None
    assert _USERINFO_RE.search("x https://u:p@pypi.example/simple") is not None


@SETTINGS
@given(st.lists(st.sampled_from(["${", "}", "$", "{", "/", "bin", "twine", "UV", ".exe", "==",
                                 "@", "[", "x", "_", "1"]), max_size=12).map("".join))
def test_tool_name_applies_the_prefix_pattern_only_where_it_can_match(word: str) -> None:
    import re

    from auditor.upload.publish import _BRACED_PREFIX_RE, _tool_name

    base = _BRACED_PREFIX_RE.sub("", word.rsplit("/", 1)[-1]).lower()
    assert _tool_name(word) == re.split(r"[@=<>~!\[]", base, maxsplit=1)[0].removesuffix(".exe")
