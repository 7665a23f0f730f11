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
