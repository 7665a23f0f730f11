"""Finding positions as GitHub counts them: paths from the repository root, UTF-16 columns.

The engine reports paths relative to the *scanned* root and columns in code points. GitHub
resolves annotation ``file=`` values and SARIF relative URIs against the root of the
repository (the checkout), so ``pubaudit scan subdir`` must prefix ``subdir/``; and GitHub's
columns (SARIF's default ``columnKind``, and the annotation columns of a JavaScript UI) count
UTF-16 code units, which differ from code points only after characters outside the Basic
Multilingual Plane (emoji in a step name, for instance).
"""

from __future__ import annotations

import posixpath
from pathlib import Path, PurePosixPath, PureWindowsPath

from auditor.checks.findings import Location
from auditor.engine.scan import Report
from auditor.repository.discovery import find_root


def repository_root(root: Path) -> Path:
    """The repository that contains the scanned root: the nearest ancestor with ``.git``
    (the same rule that locates the root for file arguments), else the root itself."""
    return find_root(root)


def repository_prefix(root: Path) -> str:
    """``"subdir/"`` when the scanned root is ``subdir`` of its repository, else ``""``."""
    resolved = root.resolve()
    try:
        relative = resolved.relative_to(repository_root(resolved)).as_posix()
    except ValueError:
        return ""
    return "" if relative in ("", ".") else relative + "/"


def repository_path(prefix: str, path: str) -> str:
    """A finding's path from the repository root, ``/``-separated. Paths that are already
    absolute (a ``--config`` file given outside the repository) are left alone."""
    if PurePosixPath(path).is_absolute() or PureWindowsPath(path).is_absolute():
        return path
    return posixpath.normpath(prefix + path) if prefix else path


def utf16_column(line: str | None, column: int) -> int:
    """Convert a 1-based code-point column of ``line`` to a 1-based UTF-16 column."""
    if line is None or column <= 1:
        return column
    prefix = line[:column - 1]
    # Counted by the codec, not char by char: findings on a megabyte-long line stay cheap.
    return len(prefix.encode("utf-16-le", "surrogatepass")) // 2 + 1 + max(
        column - 1 - len(prefix), 0)


def source_line(report: Report, path: str, line: int) -> str | None:
    """The text of a 1-based line of a scanned file, when the report holds the file."""
    source = report.sources.get(path)
    if source is None or not 0 < line <= len(source.lines):
        return None
    return source.lines[line - 1]


def utf16_span(report: Report, location: Location) -> tuple[int, int, int, int]:
    """``(line, column, end line, end column)``, 1-based, columns in UTF-16 code units, the
    end column exclusive; never an end before the start."""
    line = max(location.line, 1)
    end_line = max(location.end_line, line)
    column = max(utf16_column(source_line(report, location.path, line), location.column), 1)
    end_column = max(utf16_column(source_line(report, location.path, end_line),
                                  location.end_column), 1)
    if end_line == line:
        end_column = max(end_column, column)
    return line, column, end_line, end_column

