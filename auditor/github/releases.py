"""The shipped table of ``pypa/gh-action-pypi-publish`` releases.

``data/publish_action_releases.toml`` is the table as maintained, with the source of every
SHA; scans read ``data/publish_action_releases.json``, generated from it by ``python -m
auditor.docs`` (a test checks they agree), because ``json`` parses it in C where
``tomllib`` took ~2 ms of every scan of a workflow that uses the action.
"""

from __future__ import annotations

import json
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


RELEASES_TOML = Path(__file__).parent.parent / "data" / "publish_action_releases.toml"
RELEASES_JSON = RELEASES_TOML.with_suffix(".json")


def render_releases_json() -> str:
    """``publish_action_releases.json`` as generated from the maintained TOML table."""
    import tomllib

    with RELEASES_TOML.open("rb") as handle:
        data = tomllib.load(handle)
    table = {"newest": data["newest"],
             "release": [{key: release[key] for key in ("tag", "commit", "tag_object")
                          if key in release} for release in data["release"]]}
    return json.dumps(table, indent=1) + "\n"


@cache
def release_table() -> ReleaseTable:
    data = json.loads(RELEASES_JSON.read_text(encoding="utf-8"))
    releases = tuple(Release(r["tag"], r["commit"].lower(), r.get("tag_object"))
                     for r in data["release"])
    newest = next(r for r in releases if r.tag == data["newest"])
    return ReleaseTable(releases, newest)
