"""Writing an edited file: atomically, in its own encoding details and permissions.

The text was decoded without its byte-order mark; the mark goes back on. Line endings are
the file's own already (edits are made in the file's line ending). The new bytes go to a
temporary file in the same directory, which takes the original's permission bits and then
replaces it by rename, so a crash leaves the old file or the new one, never half of each.
The file must still hold what was scanned: a file changed meanwhile is not overwritten.
"""

from __future__ import annotations

import os
from pathlib import Path

from auditor.output.write import replace_atomically

BOM = b"\xef\xbb\xbf"


class WriteError(Exception):
    """The file could not be written; the message says why, for the user."""


def encode(text: str, original: bytes) -> bytes:
    """``text`` as the file's bytes: UTF-8, with the mark the original had."""
    data = text.encode("utf-8")
    return BOM + data if original.startswith(BOM) else data


def write_atomic(path: Path, data: bytes, expected: bytes) -> None:
    """Replace ``path``'s content with ``data`` if it still holds ``expected``."""
    try:
        current = path.read_bytes()
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise WriteError(f"cannot be read again: {exc.strerror or exc}") from exc
    if current != expected:
        raise WriteError("changed since it was scanned; not written")
    try:
        replace_atomically(path, data, mode)
    except OSError as exc:
        raise WriteError(f"cannot be written: {exc.strerror or exc}") from exc
