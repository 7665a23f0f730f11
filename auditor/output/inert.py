"""Make text from the scanned repository inert before a human format prints it.

A workflow value, a job id or a file name is attacker-chosen when pubaudit runs on a pull
request. Printed as-is, an escape sequence retitles or clears the reader's terminal, a
right-to-left override makes a line read differently from what it says, a newline starts a
line of its own, and a line that starts with ``::`` (after blanks, which the runner
strips) is a GitHub workflow command. So human formats print input through ``inert``, which
writes control characters, bidirectional overrides and the undecodable bytes of a file name
as visible escapes (``\\x1b``, ``\\u202e``, ``\\xff``), and the finished output through
``no_commands``. Machine formats (JSON, SARIF) are escaped by JSON instead; ``surrogate_safe``
keeps the undecodable bytes of a file name from making the output unwritable.
"""

from __future__ import annotations

import re
from functools import cache

_UNSAFE = "[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
_NAMED = {"\n": "\\n", "\r": "\\r"}


@cache
def _unsafe_re() -> re.Pattern[str]:
    return re.compile(_UNSAFE)


@cache
def _command_re() -> re.Pattern[str]:
    # ``::name::`` after leading blanks (runner v2 syntax) and ``##[name]`` anywhere (v1).
    return re.compile(r"^([ \t]*):(?=:)|#(?=#\[)", re.M)


def escape_char(char: str) -> str:
    """One unsafe character as a visible escape. A lone surrogate is a byte that
    ``os.fsdecode`` could not decode (``surrogateescape``): it is shown as that byte."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def is_unsafe(char: str) -> bool:
    """Whether ``inert`` escapes ``char``."""
    code = ord(char)
    return (code < 0x20 and char != "\t") or 0x7F <= code <= 0x9F or \
        0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069 or 0xD800 <= code <= 0xDFFF


def inert(text: str, keep_breaks: bool = False) -> str:
    """``text`` with every control character, bidi override or isolate, and undecodable
    byte escaped; tabs are kept, and line breaks too with ``keep_breaks`` (for a format
    that escapes them itself, such as a workflow command's ``%0A``)."""
    if keep_breaks:
        return _unsafe_re().sub(lambda m: m.group() if m.group() in "\r\n"
                                else escape_char(m.group()), text)
    return _unsafe_re().sub(lambda match: escape_char(match.group()), text)


def no_commands(text: str) -> str:
    """Output in which no line is a workflow command: a ``:`` that would open ``::name::``
    at the start of a line is written ``\\x3a``, and ``##[`` as ``\\x23#[``."""
    if "::" not in text and "##[" not in text:
        return text
    return _command_re().sub(lambda m: m.group(1) + "\\x3a" if m.group().endswith(":")
                             else "\\x23", text)


def surrogate_safe(text: str) -> str:
    """JSON text that UTF-8 can encode: a lone surrogate becomes its JSON escape
    (``\\udcff``), which a JSON reader turns back into the same file-name character."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped
    (TOML allows none of them raw), bidi controls escaped to stay visible, undecodable
    bytes written as their ``\\xff`` text since TOML cannot hold a lone surrogate."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\\\\" + escape_char(char)[1:])
        elif is_unsafe(char):
            out.append({"\n": "\\n", "\r": "\\r"}.get(char, f"\\u{code:04X}"))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
