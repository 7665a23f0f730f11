"""The ``origin`` remote of a repository, read from ``.git/config`` without running git."""

from __future__ import annotations

import re
from pathlib import Path

from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.source import read_regular

# Outside the scanned tree (a worktree's ``gitdir:`` points elsewhere), so no containment
# check; still read only as regular files with a bound.
_MAX_GITDIR_BYTES = 4096
_MAX_CONFIG_BYTES = 16 * 1024 * 1024

_SECTION_RE = lazy_re(r'^\s*\[\s*remote\s+"([^"]+)"\s*\]\s*$')
_URL_RE = lazy_re(r"^\s*url\s*=\s*(\S+)\s*$")
_REMOTE_RE = lazy_re(
    r"^(?:[a-z+]+://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/|(?:[^@/]+@)?(?P<scp>[^/:]+):)"
    r"(?P<path>.+?)(?:\.git)?/?$")


@record
class Remote:
    """A git remote URL split into host, owner (or GitLab namespace) and repository."""

    host: str
    owner: str  # GitLab: the namespace, subgroups included
    repository: str


def parse_remote_url(url: str) -> Remote | None:
    match = _REMOTE_RE.match(url.strip())
    if not match:
        return None
    host = (match.group("host") or match.group("scp") or "").lower()
    parts = [p for p in match.group("path").split("/") if p]
    if len(parts) < 2:
        return None
    return Remote(host, "/".join(parts[:-1]), parts[-1])


def _git_dir(root: Path) -> Path | None:
    """The git directory of ``root``: ``.git``, or where a ``.git`` file's ``gitdir:`` points
    (worktrees, submodules). Garbage in that file (NUL bytes, loops) means no remote."""
    dot_git = root / ".git"
    try:
        if dot_git.is_dir():
            return dot_git
        data = read_regular(dot_git, _MAX_GITDIR_BYTES)
        if isinstance(data, str):
            return None
        text = data.decode("utf-8", errors="replace")
        match = re.match(r"\s*gitdir:\s*(.+)", text)
        if not match:
            return None
        target = (root / match.group(1).strip()).resolve()
        common = target / "commondir"
        common_data = read_regular(common, _MAX_GITDIR_BYTES)
        if isinstance(common_data, bytes):
            target = (target / common_data.decode("utf-8", errors="replace").strip()).resolve()
        return target
    except (OSError, ValueError, RuntimeError):  # unreadable, NUL in a path, symlink loop
        return None


def remotes(root: Path) -> dict[str, Remote]:
    """Every remote of ``.git/config`` whose URL parses, by name, in file order."""
    git_dir = _git_dir(root)
    if git_dir is None:
        return {}
    data = read_regular(git_dir / "config", _MAX_CONFIG_BYTES)
    if isinstance(data, str):  # missing, too large, a FIFO, a device: no remote is known
        return {}
    text = data.decode("utf-8", errors="replace")
    found: dict[str, Remote] = {}
    current: str | None = None
    for line in text.splitlines():
        if line.lstrip().startswith("["):
            match = _SECTION_RE.match(line)
            current = match.group(1) if match else None
            continue
        if current is not None and current not in found:
            url = _URL_RE.match(line)
            if url:
                remote = parse_remote_url(url.group(1))
                if remote is not None:
                    found[current] = remote
    return found


def origin(root: Path) -> Remote | None:
    """The parsed ``origin`` URL, or ``None`` when there is none or it cannot be read."""
    return remotes(root).get("origin")
