"""Writing the report to ``--output``: all of it or nothing.

A SARIF file cut short by a full disk is worse than none: code scanning rejects it, or
worse, a later step uploads half a report. So a regular file is written to a temporary file
in the same directory and moved over the target with ``os.replace`` (atomic on POSIX and
Windows), keeping an existing file's permission bits. Targets that are not regular files
(``/dev/stdout``, a FIFO, ``/dev/full``) cannot be replaced and are written directly.
Every failure is an :class:`OutputError` with one line naming the path and the reason,
which the command line turns into exit code 2.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


class OutputError(Exception):
    """The report cannot be written to the path the user gave."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_target(path: Path) -> None:
    """Refuse, before scanning, a target that cannot be written: a directory, a missing
    directory, a read-only file."""
    if path.is_dir():
        raise OutputError(f"{path}: is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: directory {parent} does not exist")
    # No write bit at all is refused even for root, who could replace the file anyway:
    # a read-only report is one the user meant to keep.
    if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise OutputError(f"{path}: is read-only")


def write_report(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` completely, or leave ``path`` as it was."""
    check_target(path)
    data = text.encode("utf-8")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{path}: {_reason(exc)}") from None
    if mode is not None and not stat.S_ISREG(mode):
        try:
            with path.open("wb") as stream:
                stream.write(data)
        except OSError as exc:
            raise OutputError(f"{path}: {_reason(exc)}") from None
        return
    try:
        replace_atomically(path, data, mode)
    except OSError as exc:
        raise OutputError(f"{path}: {_reason(exc)}") from None


def replace_atomically(path: Path, data: bytes, mode: int | None) -> None:
    """Put ``data`` at ``path`` through a temporary file in the same directory and a rename,
    with the permission bits of ``mode`` (an existing file's), else the umask's; on any
    ``OSError`` the temporary file is removed and ``path`` is as it was. Shared by the
    report writer and ``pubaudit fix``."""
    import tempfile  # only when a file is written

    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temporary, stat.S_IMODE(mode))
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
