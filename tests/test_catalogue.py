"""The catalogue is the single source: it matches the checks, its examples run, docs match."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_example_fires(rule_id: str, tmp_path: Path) -> None:
    if CATALOGUE[rule_id].tier == "online":
        # what fires is GitHub's or PyPI's answer: a recorded case fires it instead
        cases = REPO_ROOT / "fixtures" / "cases" / rule_id
        assert any((case / "exchanges.json").is_file() for case in cases.glob("fires-*"))
        return
    report = scan_tree(write_tree(tmp_path, CATALOGUE[rule_id].example))
    assert rule_id in {f.rule for f in report.active}


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_use_instead_is_silent(rule_id: str, tmp_path: Path) -> None:
    report = scan_tree(write_tree(tmp_path, CATALOGUE[rule_id].use_instead))
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
