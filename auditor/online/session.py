"""One repository's ``--online`` checks: the clients, what was asked (asked once), notices.

The online rules ask the session, never httpx: ``repository()``, ``environments()`` and
the rest call GitHub once per run and hand every rule the same answer, and a call that
failed gives one notice (naming the first rule it left unchecked) and ``None`` to every
rule that asks again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auditor.engine.notices import Notice
from auditor.facts.context import Context, PublishJob
from auditor.github.model import Workflow
from auditor.output.records import record

if TYPE_CHECKING:
    from auditor.online.github import GitHub, Repo
    from auditor.online.pypi import Project, PyPI
    from auditor.online.transport import Transport


@record
class Slug:
    owner: str
    name: str

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


_ABSENT = object()


@dataclass(slots=True)
class Session:
    """What the online rules of one repository share."""

    ctx: Context
    github_client: Callable[[], GitHub]  # created on first use
    index_client: Callable[[str], PyPI]  # "pypi" | "testpypi"
    github_host: str  # the host of GITHUB_SERVER_URL: remotes on it are GitHub repositories
    server_client: Callable[[], Transport] | None = None  # GITHUB_SERVER_URL, never a token
    notices: list[Notice] = field(default_factory=list)
    _memo: dict[tuple[str, ...], object] = field(default_factory=dict)
    _noted: set[tuple[str, str | None]] = field(default_factory=set)

    @property
    def github(self) -> GitHub:
        return self.github_client()

    def note(self, notice: Notice) -> None:
        key = (notice.message, notice.endpoint)
        if key not in self._noted:
            self._noted.add(key)
            self.notices.append(notice)

    def once(self, key: tuple[str, ...], fetch: object) -> object:
        if key not in self._memo:
            value = fetch() if callable(fetch) else fetch
            if isinstance(value, Notice):
                self.note(value)
                value = _ABSENT
            self._memo[key] = value
        return self._memo[key]

    # ------------------------------------------------------------------ this repository

    def slug(self, rule: str) -> Slug | None:
        """The GitHub owner/name of the scanned repository, from its ``origin`` remote."""
        origin = self.ctx.identity.origin
        if origin is not None and origin.host in (self.github_host, "github.com"):
            return Slug(origin.owner, origin.repository)
        declared = {(d.owner, d.repository) for d in self.ctx.config.publishers
                    if d.provider == "github" and d.owner and d.repository}
        if len(declared) == 1:  # every GitHub publisher declared names the same repository
            ((owner, name),) = declared
            assert owner is not None and name is not None
            return Slug(owner, name)
        self.note(Notice("no GitHub `origin` remote in .git/config and no single repository "
                         "in the declared publishers, so the repository's settings on GitHub "
                         "were not checked", None, None, rule))
        return None

    def scanned(self, rule: str) -> tuple[Slug, Repo] | None:
        """The scanned repository on GitHub and its metadata, or ``None`` (with a notice)
        when either cannot be known."""
        slug = self.slug(rule)
        if slug is None:
            return None
        repo = self.repository(slug, rule)
        return None if repo is None else (slug, repo)

    def repository(self, slug: Slug, rule: str) -> Repo | None:
        value = self.once(("repo", str(slug).lower()),
                           lambda: self.github.repository(slug.owner, slug.name, rule))
        return None if value is _ABSENT else value  # type: ignore[return-value]

    def repository_of(self, owner: str, name: str, rule: str) -> Repo | None:
        """Another repository (an action's): as ``repository``."""
        return self.repository(Slug(owner, name), rule)

    def environments(self, slug: Slug, private: bool, rule: str
                     ) -> dict[str, dict[str, object]] | None:
        """The repository's environments by lower-cased name (names are case-insensitive),
        or None when the list could not be read."""
        def fetch() -> object:
            found = self.github.environments(slug.owner, slug.name, not private, rule)
            if isinstance(found, Notice):
                return found
            return {str(e.get("name", "")).lower(): e for e in found}

        value = self.once(("environments", str(slug).lower()), fetch)
        return None if value is _ABSENT else value  # type: ignore[return-value]

    def branch_policies(self, slug: Slug, environment: str, private: bool, rule: str
                        ) -> list[dict[str, object]] | None:
        value = self.once(
            ("policies", str(slug).lower(), environment.lower()),
            lambda: self.github.branch_policies(slug.owner, slug.name, environment,
                                                not private, rule))
        return None if value is _ABSENT else value  # type: ignore[return-value]

    def secret_names(self, path: str, what: str, rule: str) -> list[str] | None:
        value = self.once(("secrets", path), lambda: self.github.secret_names(path, what,
                                                                                 rule))
        return None if value is _ABSENT else value  # type: ignore[return-value]

    # ------------------------------------------------------------------ indexes

    def project(self, index: str, name: str, rule: str) -> Project | object | None:
        """The project on ``index``; None when it does not exist; ``ABSENT`` when unknown."""
        from auditor.online.pypi import normalize

        return self.once(("project", index, normalize(name)),
                          lambda: self.index_client(index).project(name, rule))

    # ------------------------------------------------------------------ the workflows

    def github_publish_jobs(self) -> list[PublishJob]:
        """Publish jobs of workflows (not composite actions) uploading to PyPI/TestPyPI."""
        return [pj for pj in self.ctx.publish_jobs if not pj.workflow.is_composite and
                pj.workflow.repository_prefix == "" and
                any(s.index in ("pypi", "testpypi") for s in pj.steps)]

    def publishing_workflows(self) -> list[Workflow]:
        seen: dict[str, Workflow] = {}
        for pj in self.ctx.publish_jobs:
            seen.setdefault(pj.workflow.path, pj.workflow)
        return list(seen.values())


ABSENT = _ABSENT
