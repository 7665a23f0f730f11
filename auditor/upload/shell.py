"""Split a ``run:`` script into simple commands, the way a shell would see them.

Good enough for recognising uploads: line continuations, comments, quotes, ``&&``, ``||``,
``;``, ``|``, ``&``, subshell parentheses, ``$(...)`` bodies, heredoc bodies (skipped:
their text is data, not commands) and the keywords of compound commands. Each word keeps
its offset in the script so findings can point at the command itself. ``${{ }}``
expressions are kept whole inside a word.
"""

from __future__ import annotations

import re
from functools import lru_cache

from auditor.output.lazyre import lazy_re
from auditor.output.records import record

_HEREDOC_RE = lazy_re(r"<<-?\s*(['\"]?)([A-Za-z_][\w.-]*)\1")
_KEYWORDS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "{", "}", "(",
                       ")", "!", "time", "fi", "done", "esac"})


@record
class Word:
    """A shell word after quote removal, with its span in the script."""

    text: str
    start: int  # offset in the script
    end: int


@record
class Command:
    """One simple command of a script, split at `&&`, `;`, `|` and newlines."""

    words: tuple[Word, ...]

    @property
    def argv(self) -> list[str]:
        return [w.text for w in self.words]

    @property
    def start(self) -> int:
        return self.words[0].start

    @property
    def end(self) -> int:
        return self.words[-1].end


def _strip_heredocs(script: str) -> str:
    """Blank out heredoc bodies, keeping offsets (replaced by spaces)."""
    if "<<" not in script:
        return script
    lines = script.split("\n")
    out: list[str] = []
    delimiter: str | None = None
    for line in lines:
        if delimiter is not None:
            if line.strip() == delimiter:
                delimiter = None
            out.append(" " * len(line))
            continue
        out.append(line)
        match = _HEREDOC_RE.search(line)
        if match and "<<<" not in line:
            delimiter = match.group(2)
    return "\n".join(out)


# One token of a script, after the blanks and line continuations before it: a comment, what
# ends a command (a newline, an operator, the `$(` that opens a command substitution), or a
# word. A word of plain characters only is its own text (``plain``); any other (``quoted``)
# is read again by ``_unquoted``, which removes quotes and escapes and says where it ends.
# The possessive ``*+`` and ``++`` keep blanks out of words and a plain prefix out of the
# ``plain`` alternative when a quote follows it. One match per token: a loop turn per
# character made splitting a quarter of the time the facts took (tests/test_shell_lexer.py
# keeps that loop as the reference this must agree with).
_PLAIN = r"""(?: [^ \t\r\n;&|()`\\'"$]+ | \$(?!\{\{) )++"""
_TOKEN_RE = lazy_re(r"""
    (?: [ \t\r] | \\\n )*+
    (?: (?P<comment> \#[^\n]* )
      | (?P<separator> \n | \$\((?!\() | && | \|\| | ;; | [;|&()`] )
      | (?P<plain> """ + _PLAIN + r""" ) (?! [\\'"$] )
      | (?P<quoted> (?: """ + _PLAIN + r"""
                      | \\[\s\S]?                      # an escaped character
                      | '[^']*'?                       # single quotes, to the end if open
                      | "(?: \\[\s\S]? | [^"\\] )*"?   # double quotes, escapes inside
                      | \$\{\{ (?: [\s\S]*?\}\} | [\s\S]* )  # ${{ }}, kept whole
                    )+ )
    )""", re.VERBOSE)


@lru_cache(maxsize=1024)
def split_commands(script: str, offset: int = 0) -> tuple[Command, ...]:
    """The simple commands of ``script``, in order; the offsets of their words count from
    ``offset`` (where ``script`` starts in the text it was cut from).

    Memoised: the recogniser, the wrapper reader and several rules each split the `run:`
    scripts of the publish jobs, and the same script recurs across workflows; the commands
    are frozen records in a tuple, so every caller can share them."""
    text = _strip_heredocs(script)
    commands: list[Command] = []
    words: list[Word] = []
    for token in _TOKEN_RE.finditer(text):
        kind = token.lastgroup
        if kind == "plain":
            start, end = token.span(kind)
            word = text[start:end]
        elif kind == "quoted":
            start = token.start(kind)
            word, end = _unquoted(text, start)
        else:
            if kind == "separator" and words:
                commands.append(Command(tuple(words)))
                words = []
            continue
        if not words and word in _KEYWORDS:
            continue
        words.append(Word(word, start + offset, end + offset))
    if words:
        commands.append(Command(tuple(words)))
    return tuple(commands)


def _unquoted(text: str, i: int) -> tuple[str, int]:
    """The word starting at ``i`` after quote removal, and the offset where it ends (one past
    the end of ``text`` when a quote is left open)."""
    n = len(text)
    buf: list[str] = []
    while i < n:
        c = text[i]
        if c in " \t\r\n;&|()`":
            break
        if c == "\\" and i + 1 < n:
            if text[i + 1] != "\n":  # an escaped newline joins the lines
                buf.append(text[i + 1])
            i += 2
            continue
        if c == "'":
            end = text.find("'", i + 1)
            if end < 0:
                end = n
            buf.append(text[i + 1:end])
            i = end + 1
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                j += 1
            buf.append(text[i + 1:j].replace('\\"', '"'))
            i = j + 1
            continue
        if text.startswith("${{", i):
            end = text.find("}}", i)
            end = n if end < 0 else end + 2
            buf.append(text[i:end])
            i = end
            continue
        buf.append(c)
        i += 1
    return "".join(buf), i


_ASSIGNMENT_RE = lazy_re(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = frozenset({"sudo", "env", "exec", "command", "nohup", "nice", "xargs", "timeout"})


def strip_prefixes(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Drop ``VAR=value`` prefixes and wrappers (``sudo -E``, ``env``...).

    Returns the remaining words and the variables the prefixes set.
    """
    assigned: dict[str, str] = {}
    i = 0
    while i < len(argv):
        word = argv[i]
        if _ASSIGNMENT_RE.match(word):
            name, _, value = word.partition("=")
            assigned[name] = value
            i += 1
            continue
        if word in _WRAPPERS:
            i += 1
            while i < len(argv) and argv[i].startswith("-"):
                i += 1
            if word == "timeout" and i < len(argv):
                i += 1  # the duration
            continue
        break
    return argv[i:], assigned
