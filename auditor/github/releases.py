"""The shipped table of ``pypa/gh-action-pypi-publish`` releases (``data/*.toml``)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from auditor.output.lazyre import lazy_re
from auditor.output.records import record

_VERSION_RE = lazy_re(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


@record
class Release:
    """A release of pypa/gh-action-pypi-publish: its commit and tag-object SHAs."""

    tag: str
    commit: str
    tag_object: str | None

    @property
    def version(self) -> tuple[int, int, int]:
        parsed = parse_version(self.tag)
        assert parsed is not None
        return parsed


@record
class ReleaseTable:
    """The shipped release table, to check pins without the network."""

    releases: tuple[Release, ...]
    newest: Release

    def by_commit(self, sha: str) -> Release | None:
        return next((r for r in self.releases if r.commit == sha.lower()), None)

    def by_tag_object(self, sha: str) -> Release | None:
        return next((r for r in self.releases if r.tag_object == sha.lower()), None)

    def by_tag(self, tag: str) -> Release | None:
        wanted = parse_version(tag)
        return next((r for r in self.releases if r.version == wanted), None)


def parse_version(text: str) -> tuple[int, int, int] | None:
    """``v1.12`` -> (1, 12, 0); ``None`` for branches and other refs."""
    match = _VERSION_RE.match(text.strip())
    if not match:
        return None
    return tuple(int(g or 0) for g in match.groups())  # type: ignore[return-value]


@cache
def release_table() -> ReleaseTable:
    path = Path(__file__).resolve().parent.parent / "data" / "publish_action_releases.toml"
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    releases = tuple(Release(r["tag"], r["commit"].lower(), r.get("tag_object"))
                     for r in data["release"])
    newest = next(r for r in releases if r.tag == data["newest"])
    return ReleaseTable(releases, newest)
