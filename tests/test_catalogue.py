"""The catalogue is the single source: it matches the checks, its examples run, docs match."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from auditor.checks import REGISTRY
from auditor.reading.catalogue import CONFIDENCES, SEVERITIES, load_catalogue, render_markdown
from tests.conftest import REPO_ROOT, scan_tree, write_tree

CATALOGUE = load_catalogue()
RULE_IDS = sorted(CATALOGUE)


def test_every_rule_has_a_check_and_every_check_a_rule() -> None:
    from auditor.online.registry import ONLINE_REGISTRY

    assert sorted(set(REGISTRY) | set(ONLINE_REGISTRY)) == RULE_IDS
    for rule_id in RULE_IDS:  # an online-only rule has no offline check, and the reverse
        online = CATALOGUE[rule_id].tier == "online"
        assert (rule_id in ONLINE_REGISTRY) if online else (rule_id in REGISTRY), rule_id
        assert not online or rule_id not in REGISTRY, rule_id


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_entry_is_complete(rule_id: str) -> None:
    rule = CATALOGUE[rule_id]
    assert (REPO_ROOT / "rules" / f"{rule_id}.toml").is_file()
    assert rule.severity in SEVERITIES and rule.confidence in CONFIDENCES
    assert rule.title and rule.summary and rule.what and rule.why and rule.fix
    assert rule.example and rule.use_instead, "needs a firing and a silent example"


# An online rule's example holds, beside its files, what GitHub or PyPI answers: entries
# named "(GitHub) GET /path", "(github.com) GET /path" or "(PyPI) GET /path" (JSON bodies).
_ANSWER = re.compile(r"^\((GitHub|github\.com|PyPI|TestPyPI)\) GET (\S+)$")
_SERVICES = {"GitHub": "github", "github.com": "server", "PyPI": "pypi", "TestPyPI": "testpypi"}


def _online_example(files: dict[str, str], tmp_path: Path, rule_id: str,
                    monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The rules an online example fires, its answers served by loopback servers."""
    from tests.test_online_cases import online_scan

    recorded: dict[str, Any] = {"token": "ghp_catalogue_example_token_0000000000000"}
    tree = {}
    for path, text in files.items():
        match = _ANSWER.match(path)
        if match is None:
            tree[path] = text
        else:
            recorded.setdefault(_SERVICES[match[1]], []).append(
                {"path": match[2], "json": json.loads(text)})
    tree[".git/config"] = '[remote "origin"]\n\turl = https://github.com/octo/example.git\n'
    report, servers = online_scan(write_tree(tmp_path, tree), recorded, monkeypatch, None,
                                  rule_id)
    assert all(not server.unmatched for server in servers.values()), {
        name: server.unmatched for name, server in servers.items()}
    assert not report.notices, report.notices
    return {f.rule for f in report.active}


@pytest.mark.parametrize("rule_id", [r for r in RULE_IDS if CATALOGUE[r].tier == "online"])
def test_online_example_fires_and_use_instead_is_silent(
        rule_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = CATALOGUE[rule_id]
    assert rule_id in _online_example(rule.example, tmp_path / "a", rule_id, monkeypatch)
    assert rule_id not in _online_example(rule.use_instead, tmp_path / "b", rule_id,
                                          monkeypatch)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_example_fires(rule_id: str, tmp_path: Path) -> None:
    if CATALOGUE[rule_id].tier == "online":
        return  # its answers are served: test_online_example_fires_and_use_instead_is_silent
    report = scan_tree(write_tree(tmp_path, CATALOGUE[rule_id].example))
    assert rule_id in {f.rule for f in report.active}


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_use_instead_is_silent(rule_id: str, tmp_path: Path) -> None:
    files = {path: text for path, text in CATALOGUE[rule_id].use_instead.items()
             if not _ANSWER.match(path)}  # offline: the files only
    report = scan_tree(write_tree(tmp_path, files))
    assert rule_id not in {f.rule for f in report.active}
    noisy = [f"{f.rule}@{f.location.path}:{f.location.line}" for f in report.active
             if f.severity != "info"]
    assert not noisy, "`use_instead` should show a completely clean setup"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_docs_page_is_generated_from_the_catalogue(rule_id: str) -> None:
    page = REPO_ROOT / "docs" / "rules" / f"{rule_id}.md"
    assert page.is_file(), "run `python -m auditor.docs` to generate the docs pages"
    assert page.read_text(encoding="utf-8") == render_markdown(CATALOGUE[rule_id]), (
        "docs drifted from rules/: run `python -m auditor.docs`")


def test_index_is_generated_from_the_catalogue() -> None:
    """Scans read the small JSON index instead of every TOML file; it must not drift."""
    from auditor.reading.catalogue import INDEX_PATH, load_index, render_index_json

    assert INDEX_PATH.read_text(encoding="utf-8") == render_index_json(load_catalogue()), (
        "auditor/data/catalogue-index.json drifted from rules/: run `python -m auditor.docs`")
    index = load_index()
    for rule in load_catalogue().values():
        summary = index[rule.id]
        assert (summary.severity, summary.confidence, summary.options) == (
            rule.severity, rule.confidence, rule.options)


def test_release_table_json_is_generated_from_the_toml() -> None:
    """Scans read the JSON; the TOML, with the source of every SHA, is what is maintained."""
    from auditor.github.releases import RELEASES_JSON, release_table, render_releases_json

    assert RELEASES_JSON.read_text(encoding="utf-8") == render_releases_json(), (
        "auditor/data/publish_action_releases.json drifted from the TOML: run "
        "`python -m auditor.docs`")
    table = release_table()
    assert table.newest in table.releases and len(table.releases) > 40
