"""``--online``: build the clients once per run and run the network rules per repository.

The command line creates one :class:`Runner` and passes it to the engine as
``Options.online``; the engine calls it for each repository with the enabled rules and
stamps the problems it returns like any others. Clients are created on first use, so a scan
whose enabled rules need no network makes no call.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import urlsplit

from auditor.checks.findings import Problem
from auditor.engine.notices import Notice, OnlineOutcome
from auditor.facts.context import Context
from auditor.online.cache import Cache, token_identity
from auditor.online.github import ACCEPT, API_VERSION, GitHub
from auditor.online.pypi import PyPI
from auditor.online.registry import ONLINE_REGISTRY
from auditor.online.session import Session
from auditor.online.settings import Settings, may_carry_token
from auditor.online.transport import Counters, Progress, Transport
from auditor.reading.catalogue import RuleSummary

OnlineCheck = Callable[[Session], Iterator[Problem]]


def load_online_check(rule_id: str) -> OnlineCheck:
    module, _, name = ONLINE_REGISTRY[rule_id].partition(".")
    check: OnlineCheck = getattr(importlib.import_module(f"auditor.online.{module}"), name)
    return check


class Runner:
    """The network rules for every repository of one run (``Options.online``)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.progress = Progress(settings.progress)
        self.counters = Counters()
        self._transports: list[Transport] = []
        self._github: GitHub | None = None
        self._indexes: dict[str, PyPI] = {}
        self._server: Transport | None = None
        self._token_notice: Notice | None = None

    def _transport(self, base: str, headers: dict[str, str], identity: str) -> Transport:
        cache = None if self.settings.cache_dir is None else \
            Cache(self.settings.cache_dir, identity)
        transport = Transport(base, self.settings, headers=headers, cache=cache,
                              progress=self.progress, counters=self.counters)
        self._transports.append(transport)
        return transport

    @property
    def github(self) -> GitHub:
        if self._github is None:
            token = self.settings.token
            headers = {"Accept": ACCEPT, "X-GitHub-Api-Version": API_VERSION}
            if token and not may_carry_token(self.settings.github_api):
                self._token_notice = Notice(
                    f"{self.settings.token_source} not sent: GITHUB_API_URL is not https "
                    f"({urlsplit(self.settings.github_api).scheme}://"
                    f"{urlsplit(self.settings.github_api).hostname}); asking without a token")
                token = None
            if token:
                headers["Authorization"] = f"Bearer {token}"
            self._github = GitHub(self._transport(self.settings.github_api, headers,
                                                  token_identity(token)), bool(token))
        return self._github

    def index(self, index: str) -> PyPI:
        if index not in self._indexes:
            self._indexes[index] = PyPI(self._transport(self.settings.index_url(index), {},
                                                        "anonymous"),
                                        "TestPyPI" if index == "testpypi" else "PyPI")
        return self._indexes[index]

    def server(self) -> Transport:
        """GITHUB_SERVER_URL (github.com itself, for ``branch_commits``): never a token."""
        if self._server is None:
            self._server = self._transport(self.settings.github_server,
                                           {"Accept": "application/json"}, "anonymous")
        return self._server

    def session(self, ctx: Context) -> Session:
        host = (urlsplit(self.settings.github_server).hostname or "github.com").lower()
        return Session(ctx, lambda: self.github, self.index, host, self.server)

    def __call__(self, ctx: Context, rules: Sequence[RuleSummary]) -> OnlineOutcome:
        session = self.session(ctx)
        outcome = OnlineOutcome()
        try:
            for rule in rules:
                if rule.id not in ONLINE_REGISTRY:
                    continue
                for problem in load_online_check(rule.id)(session):
                    outcome.problems.append((rule.id, problem))
        finally:
            self.progress.done()
        if self._token_notice is not None:
            session.note(self._token_notice)
        outcome.notices = session.notices
        return outcome

    def publisher_provenance(self, ctx: Context) -> tuple[list[dict[str, object]],
                                                          list[Notice]]:
        """``publishers --online``: what the latest release's provenance says, per job."""
        from auditor.online.provenance import provenance_rows

        session = self.session(ctx)
        try:
            rows = provenance_rows(session)
        finally:
            self.progress.done()
        return rows, session.notices

    def stored_secrets(self, ctx: Context, names: list[str], environments: list[str]
                       ) -> tuple[dict[str, tuple[str, ...]] | None, list[Notice]]:
        """``history --online``: where each secret name is stored today, and notices."""
        from auditor.online.secrets import stored_secrets

        session = self.session(ctx)
        try:
            stored = stored_secrets(session, names, environments)
        finally:
            self.progress.done()
        if self._token_notice is not None:
            session.note(self._token_notice)
        return stored, session.notices

    def close(self) -> None:
        for transport in self._transports:
            transport.close()
