"""``--online`` fixture cases: ``fixtures/cases/<rule>/<case>/exchanges.json`` records what
GitHub and PyPI answer (shaped as their documentation shows), served by real loopback
servers; the case's ``# expect:`` markers must equal the findings, its ``notices`` list the
notices (each a substring of one), and every request must have a recorded answer.

``exchanges.json``: ``{"token": ..., "github": [...], "pypi": [...], "testpypi": [...],
"server": [...], "notices": [...]}``; the exchanges as ``tests/online_server.py`` reads them.
"""

from __future__ import annotations

import json
import shutil
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from auditor.engine.scan import Options, Report, scan
from tests.conftest import REPO_ROOT
from tests.online_server import Recorded, serve
from tests.test_fixtures import assert_markers

CASES_DIR = REPO_ROOT / "fixtures" / "cases"
CASES = sorted(p.parent for p in CASES_DIR.glob("*/*/exchanges.json"))
SERVICES = {"github": "GITHUB_API_URL", "server": "GITHUB_SERVER_URL",
            "pypi": "PUBAUDIT_PYPI_URL", "testpypi": "PUBAUDIT_TESTPYPI_URL"}


def online_scan(root: Path, recorded: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
                cache: Path | None, rule: str | None = None, **options: Any
                ) -> tuple[Report, dict[str, Recorded]]:
    """Scan ``root`` with ``--online`` against servers answering ``recorded``; with
    ``rule``, the only network rule run is that one (a case records its rule's calls)."""
    from auditor.online import start
    from auditor.online.registry import ONLINE_REGISTRY

    for name in ("GH_TOKEN", "GITHUB_TOKEN", *SERVICES.values(), "PUBAUDIT_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("PUBAUDIT_READ_TIMEOUT", "3")
    monkeypatch.setenv("PUBAUDIT_BACKOFF_CAP", "0.2")
    if recorded.get("token"):
        monkeypatch.setenv("GH_TOKEN", recorded["token"])
    if cache is not None:
        monkeypatch.setenv("PUBAUDIT_CACHE_DIR", str(cache))
    with ExitStack() as stack:
        servers = {name: stack.enter_context(serve(recorded.get(name, [])))
                   for name in SERVICES}
        for name, variable in SERVICES.items():
            monkeypatch.setenv(variable, servers[name].url)
        runner = start(no_cache=cache is None)

        def only(ctx: Any, rules: Any) -> Any:
            return runner(ctx, [r for r in rules if rule is None or r.id == rule or
                                r.id not in ONLINE_REGISTRY])

        try:
            report = scan([root], Options(online=only, **options))
        finally:
            runner.close()
    return report, servers


def materialise(case: Path, tmp_path: Path) -> Path:
    root = tmp_path / case.name
    shutil.copytree(case, root, ignore=shutil.ignore_patterns("exchanges.json"))
    if (root / "dot-git").is_dir():
        (root / "dot-git").rename(root / ".git")
    return root


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_online_case(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = json.loads((case / "exchanges.json").read_text(encoding="utf-8"))
    report, servers = online_scan(materialise(case, tmp_path), recorded, monkeypatch, None,
                                  case.parent.name)
    assert_markers(case, report)
    wanted = recorded.get("notices", [])
    messages = [f"{n.rule}: {n.message} [{n.endpoint} {n.status}]" for n in report.notices]
    assert len(messages) == len(wanted), messages
    for text in wanted:
        assert any(text in m for m in messages), (text, messages)
    for name, server in servers.items():
        assert server.unmatched == [], f"{name}: no recorded answer for {server.unmatched}"
    token = recorded.get("token")
    for name, server in servers.items():
        for request in server.requests:
            sent = request.headers.get("authorization")
            if name == "github" and token:
                assert sent == f"Bearer {token}"
            else:
                assert sent is None, f"{name} got an Authorization header"
    if token:
        assert all(token not in f.message for f in report.findings)
        assert all(token not in n.message for n in report.notices)
