"""A file of the scanned repository and the places in it that findings point at."""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import field
from pathlib import Path
from typing import BinaryIO

from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.yamlsource import Node

Route = tuple[str | int, ...]


_LINE_BREAK_RE = lazy_re(r"\r\n|\r|\n")


def split_lines(text: str) -> tuple[str, ...]:
    """Lines as YAML parsers, TOML parsers and GitHub count them: only CR, LF and CRLF end a
    line (``str.splitlines`` would also break at form feeds, U+2028 and others, shifting
    every line number after them)."""
    lines = _LINE_BREAK_RE.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return tuple(lines)


@record
class SourceFile:
    """A text file, with ``path`` relative to the scanned root using ``/``."""

    path: str
    text: str
    lines: tuple[str, ...] = field(repr=False)

    @classmethod
    def from_text(cls, path: str, text: str) -> SourceFile:
        return cls(path, text, split_lines(text))

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@record
class Anchor:
    """Where a finding points: a node of a file, named by its route for fingerprints.

    Rules never compute line numbers; the engine turns the node into a span. ``node`` is
    ``None`` for a whole-file location; ``span`` overrides the node with an explicit
    0-based (line, column, end line, end column) for text found inside a scalar or in a
    non-YAML file.
    """

    path: str
    route: Route
    node: Node | None = None
    span: tuple[int, int, int, int] | None = None

    def child(self, *route: str | int, node: Node | None = None) -> Anchor:
        return Anchor(self.path, self.route + route, node)


# Files as ``pubaudit fix`` would write them, by absolute path: its verification scans the
# edited text before anything is written. Empty outside that check.
_PENDING: ContextVar[dict[str, bytes] | None] = ContextVar("pending_writes", default=None)


@contextmanager
def pending(files: dict[Path, bytes]) -> Iterator[None]:
    """Within the block, reads of ``files`` see the given bytes instead of the disk's."""
    token = _PENDING.set({os.path.abspath(p): data for p, data in files.items()})
    try:
        yield
    finally:
        _PENDING.reset(token)


@functools.lru_cache(maxsize=16)
def _resolved(root: Path) -> Path:
    """``root.resolve()``, once per scanned root rather than once per file read."""
    return root.resolve()


def read_regular(path: Path, limit: int, root: Path | None = None,
                 walked: bool = False) -> bytes | str:
    """The bytes of a regular file, or why it is not read (a predicate: "is larger than ...").

    Every file pubaudit opens goes through here, because a scanned tree is untrusted: a FIFO
    would block ``open`` and a device (``/dev/zero``, ``/proc/kmsg``) would never end or never
    answer. The file is opened with ``O_NONBLOCK`` and the *open descriptor* is checked to be a
    regular file (a check of the path before opening could be raced by a swap), then at most
    ``limit`` bytes are read; files that report size 0 (``/proc``) are still bounded by the
    read. With ``root``, a path whose symlinks resolve outside ``root`` is refused, and the
    resolved path is opened with ``O_NOFOLLOW`` so its last component cannot become a link
    after the check. ``walked`` says the directories of ``path`` came from a walk of ``root``
    that entered no symlink: only the file itself can then be a link, so it is opened with
    ``O_NOFOLLOW`` straight away and resolved only if it is one (resolving every file of a
    tree was a tenth of its loading).
    """
    overlay = _PENDING.get()
    if overlay is not None:
        data = overlay.get(os.path.abspath(path))
        if data is not None:
            return data
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    descriptor = _open_walked(path, flags) if walked and root is not None else None
    try:
        if descriptor is None:
            target = path
            if root is not None:
                target = path.resolve()
                if not target.is_relative_to(_resolved(root)):
                    return "is a symbolic link pointing outside the scanned tree (not followed)"
                flags |= getattr(os, "O_NOFOLLOW", 0)
            descriptor = os.open(target, flags)
    except RuntimeError:  # Path.resolve on a symlink loop (Python 3.11)
        return "is a symbolic link loop; not read"
    except (OSError, ValueError) as exc:
        return f"cannot be read: {exc.strerror if isinstance(exc, OSError) else exc}"
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return "is not a regular file (a FIFO, a device or a socket); not read"
        if info.st_size > limit:
            return f"is larger than {_size(limit)}; not read"
        chunks: list[bytes] = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        if remaining <= 0:  # grew since fstat, or a /proc file that reported size 0
            return f"is larger than {_size(limit)}; not read"
        return b"".join(chunks)
    except OSError as exc:  # EAGAIN from a pseudo-file that would block, EIO, EISDIR...
        return f"cannot be read: {exc.strerror or exc}"
    finally:
        os.close(descriptor)


def _open_walked(path: Path, flags: int) -> int | None:
    """``path`` opened without following a link, or ``None`` when it is one (or cannot be
    opened): the caller then takes the general way, which says why."""
    nofollow = getattr(os, "O_NOFOLLOW", 0)
    if not nofollow:
        return None
    try:
        return os.open(path, flags | nofollow)
    except OSError:
        return None


def open_regular(path: Path) -> BinaryIO | str:
    """``path`` opened for reading in binary mode if it is a regular file, or why not (the
    same predicates as :func:`read_regular`). For a reader that bounds what it keeps itself,
    such as ``explain-log`` keeping the tail of a huge log: opened with ``O_NONBLOCK`` and
    the open descriptor checked, so a FIFO or a device never blocks."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        descriptor = os.open(path, flags)
    except (OSError, ValueError) as exc:
        return f"cannot be read: {exc.strerror if isinstance(exc, OSError) else exc}"
    try:
        regular = stat.S_ISREG(os.fstat(descriptor).st_mode)
    except OSError as exc:
        os.close(descriptor)
        return f"cannot be read: {exc.strerror or exc}"
    if not regular:
        os.close(descriptor)
        return "is not a regular file (a FIFO, a device or a socket); not read"
    return os.fdopen(descriptor, "rb")


def _size(limit: int) -> str:
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    return f"{limit // 1024} KB" if limit >= 1024 else f"{limit} bytes"
