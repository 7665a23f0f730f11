"""Paths as a person opens them: from the current directory, not from the scanned root.

``cd project && pubaudit scan fixtures/demo`` must print
``fixtures/demo/.github/workflows/release.yml:4:3``, which a terminal or an editor opens as
it stands. The machine formats (JSON, SARIF) keep their documented bases instead.
"""

from __future__ import annotations

from pathlib import Path


def display_path(root: Path, path: str) -> str:
    """``path`` (relative to the scanned ``root``, or absolute) relative to the current
    directory when the file is under it, else absolute."""
    target = Path(path) if Path(path).is_absolute() else root.resolve() / path
    try:
        relative = target.relative_to(Path.cwd().resolve())
    except (ValueError, OSError):  # outside the current directory, or it is gone
        return target.as_posix()
    return relative.as_posix() if str(relative) != "." else target.name
