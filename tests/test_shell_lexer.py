"""``upload.shell.split_commands`` against a reference: the splitter it replaced, which reads
a script one character at a time (kept here, slow and plain, as the statement of what the
token pattern must do). Same words, same offsets, over generated scripts made of the
characters and sequences the shell grammar cares about, and over the corpus's scripts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.upload.shell import _KEYWORDS, _strip_heredocs, split_commands
from tests.conftest import CORPUS

_OPERATORS = ("&&", "||", ";;", ";", "|", "&", "(", ")", "`")


def _reference_split(script: str) -> list[list[tuple[str, int, int]]]:
    """``(text, start, end)`` of each word of each command, character by character."""
    text = _strip_heredocs(script)
    commands: list[list[tuple[str, int, int]]] = []
    words: list[tuple[str, int, int]] = []
    i, n = 0, len(text)

    def flush() -> None:
        if words:
            commands.append(list(words))
            words.clear()

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "\n":
            i += 2
        elif c == "\n":
            flush()
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("$(", i) and not text.startswith("$((", i):
            flush()
            i += 2
        elif any(text.startswith(o, i) for o in _OPERATORS):
            flush()
            i += len(next(o for o in _OPERATORS if text.startswith(o, i)))
        else:
            start = i
            buf: list[str] = []
            while i < n and text[i] not in " \t\r\n;&|()`":
                c = text[i]
                if c == "\\" and i + 1 < n:
                    if text[i + 1] != "\n":
                        buf.append(text[i + 1])
                    i += 2
                elif c == "'":
                    end = text.find("'", i + 1)
                    end = n if end < 0 else end
                    buf.append(text[i + 1:end])
                    i = end + 1
                elif c == '"':
                    j = i + 1
                    while j < n and text[j] != '"':
                        j += 2 if text[j] == "\\" and j + 1 < n else 1
                    buf.append(text[i + 1:j].replace('\\"', '"'))
                    i = j + 1
                elif text.startswith("${{", i):
                    end = text.find("}}", i)
                    end = n if end < 0 else end + 2
                    buf.append(text[i:end])
                    i = end
                else:
                    buf.append(c)
                    i += 1
            word = "".join(buf)
            if words or word not in _KEYWORDS:
                words.append((word, start, i))
    flush()
    return commands


def _words(script: str) -> list[list[tuple[str, int, int]]]:
    return [[(w.text, w.start, w.end) for w in c.words] for c in split_commands(script)]


_PIECES = [" ", "\t", "\r", "\n", "\\", "\\\n", "'", '"', "#", ";", ";;", "&", "&&", "|",
           "||", "(", ")", "`", "$", "$(", "$((", "${{", "}}", "{", "}", "a", "b=", "-x", "if",
           "then", "do", "<<EOF\n", "\nEOF\n", "<<-'X'\n", "\nX\n"]


@settings(deadline=None, max_examples=2000, derandomize=True, database=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_split_commands_matches_the_reference(script: str) -> None:
    assert _words(script) == _reference_split(script)


def test_split_commands_matches_the_reference_on_the_corpus_workflows() -> None:
    """Whole workflow files: every `run:` block in them, and much text that is not shell."""
    if not CORPUS.is_dir():
        pytest.skip(f"the corpus is not at {CORPUS}")
    files = sorted(CORPUS.glob("*/.github/workflows/*.y*ml"))
    assert files
    for path in files:
        text = path.read_text(errors="replace")
        assert _words(text) == _reference_split(text), path
