"""Split a ``run:`` script into simple commands, the way a shell would see them.

Good enough for recognising uploads: line continuations, comments, quotes, ``&&``, ``||``,
``;``, ``|``, ``&``, subshell parentheses, ``$(...)`` bodies, heredoc bodies (skipped:
their text is data, not commands) and the keywords of compound commands. Each word keeps
its offset in the script so findings can point at the command itself. ``${{ }}``
expressions are kept whole inside a word.
"""

from __future__ import annotations

from auditor.output.lazyre import lazy_re
from auditor.output.records import record

_HEREDOC_RE = lazy_re(r"<<-?\s*(['\"]?)([A-Za-z_][\w.-]*)\1")
_KEYWORDS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "{", "}", "(",
                       ")", "!", "time", "fi", "done", "esac"})
_OPERATORS = ("&&", "||", ";;", ";", "|", "&", "(", ")", "`")
_OPERATOR_STARTS = frozenset(o[0] for o in _OPERATORS)  # a cheap test per character


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


def split_commands(script: str, offset: int = 0) -> list[Command]:
    """The simple commands of ``script``, in order; the offsets of their words count from
    ``offset`` (where ``script`` starts in the text it was cut from)."""
    text = _strip_heredocs(script)
    commands: list[Command] = []
    words: list[Word] = []
    i = 0
    n = len(text)

    def flush() -> None:
        if words:
            commands.append(Command(tuple(words)))
            words.clear()

    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "\n":
            i += 2
            continue
        if c == "\n":
            flush()
            i += 1
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        if c == "$" and text.startswith("$(", i) and not text.startswith("$((", i):
            flush()
            i += 2
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None) \
            if c in _OPERATOR_STARTS else None
        if op is not None:
            flush()
            i += len(op)
            continue
        start = i
        buf: list[str] = []
        while i < n:
            c = text[i]
            if c in " \t\r\n" or (c in ";&|()`" and not text.startswith("${{", i)):
                if c == "(" and buf and buf[-1] == "$":  # keep $( inside a word as a break
                    break
                break
            if c == "\\" and i + 1 < n:
                if text[i + 1] == "\n":
                    i += 2
                    continue
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
        word = "".join(buf)
        if not words and word in _KEYWORDS:
            continue
        words.append(Word(word, start + offset, i + offset))
    flush()
    return commands


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
