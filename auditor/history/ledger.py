"""Accumulate, credential by credential, where and when the history named it.

The log arrives newest commit first, so the first sighting of a credential is its *last*
appearance and every later one moves its *first* appearance back. Only sets and two commits
are kept per credential, whatever the length of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from auditor.history.diff import Commit
from auditor.history.places import file_kind
from auditor.history.recognise import CredentialId, Recognised
from auditor.output.records import record

# What the name beside a path is, by the kind of file.
_UNIT = {"github": "job", "gitlab": "job", "ini": "section", "pypirc": "section",
         "make": "target", "nox": "session"}


@record
class Usage:
    """A file, and the job in it, that named a credential."""

    path: str
    job: str | None


def describe_usages(usages: tuple[Usage, ...]) -> str:
    """``a.yml (jobs build, publish), tox.ini (section testenv:release), x.sh``."""
    units: dict[str, list[str]] = {}
    for usage in usages:
        units.setdefault(usage.path, [])
        if usage.job:
            units[usage.path].append(usage.job)
    out = []
    for path, names in units.items():
        unit = _UNIT.get(file_kind(path), "job")
        out.append(f"{path} ({unit}{'s' if len(names) > 1 else ''} {', '.join(names)})"
                   if names else path)
    return ", ".join(out)


@record
class CredentialHistory:
    """Everything the history says about one credential."""

    credential: CredentialId
    first: Commit | None  # the oldest commit that added or removed a line naming it
    last: Commit | None  # the newest one (``None`` for both: only in the working tree)
    usages: tuple[Usage, ...]  # sorted by path, then job
    feeds: tuple[str, ...]  # what it was handed to, sorted
    indexes: tuple[str, ...]  # "pypi", "testpypi"
    commits: int  # how many commits changed a line naming it
    environments: tuple[str, ...] = ()  # GitHub environments of the jobs that named it

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted({usage.path for usage in self.usages}))


@dataclass(slots=True)
class _Entry:
    credential: CredentialId
    first: Commit | None = None
    last: Commit | None = None
    usages: set[Usage] = field(default_factory=set)
    feeds: set[str] = field(default_factory=set)
    indexes: set[str] = field(default_factory=set)
    environments: set[str] = field(default_factory=set)
    commits: int = 0


@dataclass(slots=True)
class Ledger:
    """The credentials seen so far, and the names files defined for themselves."""

    _entries: dict[CredentialId, _Entry] = field(default_factory=dict)
    _local: set[str] = field(default_factory=set)

    def add(self, commit: Commit | None, path: str, found: Recognised) -> None:
        """Record a hunk's sightings (``commit`` ``None``: the working tree)."""
        self._local |= found.local_names
        for sighting in found.sightings:
            entry = self._entries.get(sighting.credential)
            if entry is None:
                entry = self._entries[sighting.credential] = _Entry(sighting.credential)
            if commit is not None:
                if entry.last is None:
                    entry.last = commit
                if entry.first != commit:
                    entry.commits += 1
                entry.first = commit
            entry.usages.add(Usage(path, sighting.job))
            if sighting.feeds:
                entry.feeds.add(sighting.feeds)
            entry.indexes.add(sighting.index)
            if sighting.environment:
                entry.environments.add(sighting.environment)

    @property
    def local_names(self) -> frozenset[str]:
        """Names that a GitLab or other CI file assigned itself."""
        return frozenset(self._local)

    def credentials(self, local: frozenset[str]) -> tuple[CredentialHistory, ...]:
        """Every credential, oldest first appearance first; CI variables named in ``local``
        (a file of the repository assigns them: a minted token, ``id_tokens:``) are left
        out."""
        out = []
        for entry in self._entries.values():
            credential = entry.credential
            if credential.kind == "variable" and \
                    credential.platform in ("gitlab", "ci", "env") and credential.name in local:
                continue
            out.append(CredentialHistory(
                credential, entry.first, entry.last,
                tuple(sorted(entry.usages, key=lambda u: (u.path, u.job or ""))),
                tuple(sorted(entry.feeds)), tuple(sorted(entry.indexes)), entry.commits,
                tuple(sorted(entry.environments))))
        return tuple(sorted(out, key=lambda c: (c.first is None,
                                                c.first.timestamp if c.first else 0,
                                                c.credential.kind, c.credential.name)))
