"""Reading a CI log from a file or a pipe, bounded, as text.

A log can be huge (a 100 MB build log) or not a log at all (a zip archive, a binary), and
neither may end in a traceback: past ``MAX_BYTES`` only the tail is kept (a failed run's
error is at its end), the lines before it are counted so line numbers stay those of the
file, and memory stays proportional to the window, never to the file. Archives and binary
files are refused with a message saying what to pass instead.
"""

from __future__ import annotations

from collections import deque
from typing import BinaryIO

from auditor.output.records import record

MAX_BYTES = 32 * 1024 * 1024
_CHUNK = 1024 * 1024
_SNIFF = 8192


class LogReadError(Exception):
    """The log cannot be read as text (missing, unreadable, binary, an archive)."""


@record
class LogText:
    """The part of a log that is parsed, and where it starts."""

    text: str
    first_line: int  # 1-based number, in the whole log, of ``text``'s first line
    size: int  # bytes in the whole log
    skipped_bytes: int  # bytes before the window (0 when the whole log is read)

    @property
    def notice(self) -> str | None:
        if not self.skipped_bytes:
            return None
        return (f"the log has {self.size / 1048576:.0f} MB: read only its last "
                f"{(self.size - self.skipped_bytes) / 1048576:.0f} MB (from line "
                f"{self.first_line}), where a failed run's error is")


def _sniff(head: bytes) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise LogReadError(
            "this is a zip archive (GitHub's \"Download log archive\"): extract it and give "
            "the failed job's .txt file, or use `gh run view RUN_ID --log-failed`")
    if head.startswith(b"\x1f\x8b"):
        raise LogReadError("this is gzip-compressed: decompress it first (`gunzip`)")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # UTF-16 with a byte-order mark (PowerShell's `>`): text, decoded below
    if b"\x00" in head:
        raise LogReadError("this is a binary file, not a CI log")


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    text = data.decode("utf-8", errors="replace")
    return text[1:] if text.startswith("\ufeff") else text


def read_log(stream: BinaryIO, max_bytes: int = MAX_BYTES) -> LogText:
    """Read ``stream`` (a file opened in binary mode, or stdin's buffer), keeping at most
    the last ``max_bytes`` bytes. Raises ``LogReadError`` for binary input."""
    try:
        seekable = stream.seekable()
    except (OSError, ValueError):
        seekable = False
    if seekable:
        try:
            return _read_seekable(stream, max_bytes)
        except OSError:
            stream.seek(0)
    return _read_stream(stream, max_bytes)


def _read_seekable(stream: BinaryIO, max_bytes: int) -> LogText:
    size = stream.seek(0, 2)
    stream.seek(0)
    head = stream.read(_SNIFF)
    _sniff(head)
    if size <= max_bytes:
        stream.seek(0)
        return LogText(_decode(stream.read()), 1, size, 0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LogReadError(f"the log is UTF-16 and over {max_bytes // 1048576} MB: convert it "
                           "to UTF-8 first (or save it with `gh run view --log-failed` from a "
                           "shell that writes UTF-8)")
    start = size - max_bytes
    stream.seek(0)
    newlines = 0
    remaining = start
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        newlines += chunk.count(b"\n")
        remaining -= len(chunk)
    window = stream.read()
    return _tail(window, newlines, size, start)


def _read_stream(stream: BinaryIO, max_bytes: int) -> LogText:
    chunks: deque[bytes] = deque()
    kept = 0
    dropped = 0
    dropped_newlines = 0
    total = 0
    sniffed = False
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            break
        if not sniffed:
            _sniff(chunk[:_SNIFF])
            sniffed = True
        chunks.append(chunk)
        kept += len(chunk)
        total += len(chunk)
        while kept - len(chunks[0]) >= max_bytes:
            old = chunks.popleft()
            kept -= len(old)
            dropped += len(old)
            dropped_newlines += old.count(b"\n")
    data = b"".join(chunks)
    if len(data) > max_bytes:  # one chunk can be bigger than the window
        cut = len(data) - max_bytes
        dropped_newlines += data.count(b"\n", 0, cut)
        dropped += cut
        data = data[cut:]
    if not dropped:
        return LogText(_decode(data), 1, total, 0)
    return _tail(data, dropped_newlines, total, dropped)


def _tail(window: bytes, newlines_before: int, size: int, start: int) -> LogText:
    """Drop the window's partial first line; number the rest from the counted newlines."""
    cut = window.find(b"\n")
    if cut < 0:
        return LogText("", newlines_before + 1, size, size)
    return LogText(window[cut + 1:].decode("utf-8", errors="replace"), newlines_before + 2,
                   size, start + cut + 1)
