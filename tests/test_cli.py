"""The CLI as a real subprocess: exit codes, formats, config errors, --help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import ON_RELEASE, REPO_ROOT, release_workflow, write_tree

CLEAN = release_workflow(ON_RELEASE)

DECLARED = """
[project]
name = "widget"

[[tool.pubaudit.publishers]]
owner = "acme"
repository = "widget"
workflow = "release.yml"
environment = "pypi"
"""
ORIGIN = '[remote "origin"]\n\turl = https://github.com/acme/widget.git\n'


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True,
                          text=True, cwd=cwd or REPO_ROOT, timeout=60)


def test_demo_fails_with_findings() -> None:
    result = run("scan", "fixtures/demo", "--no-color")
    assert result.returncode == 1
    assert "leftover-token" in result.stdout and "Traceback" not in result.stderr


def test_clean_repository_exits_zero(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/workflows/release.yml": CLEAN, "pyproject.toml": DECLARED,
                          ".git/config": ORIGIN})
    result = run("scan", str(tmp_path), "--format", "json")
    assert result.returncode == 0, result.stdout
    document = json.loads(result.stdout)
    assert document["findings"] == []
    [job] = document["publish_jobs"]
    assert job["trusted_publishing"] is True and job["environment"] == "pypi"
    assert job["expected_publisher"]["workflow"] == "release.yml"


def test_exit_zero_and_threshold() -> None:
    assert run("scan", "fixtures/demo", "--exit-zero").returncode == 0
    assert run("scan", "fixtures/demo", "--fail-on", "high").returncode == 0
    assert run("scan", "fixtures/demo", "--min-severity", "high").returncode == 0


def test_usage_errors_exit_two(tmp_path: Path) -> None:
    assert run("scan", str(tmp_path / "missing")).returncode == 2
    assert run("scan", "fixtures/demo", "--select", "no-such-rule").returncode == 2
    assert run("scan", "--format", "xml", "fixtures/demo").returncode == 2
    assert run("explain", "no-such-rule").returncode == 2


def test_bad_config_is_a_finding_with_position_and_exit_two(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/workflows/release.yml": CLEAN,
                          "pyproject.toml": "[project]\nname = 'x'\n\n[tool.pubaudit]\n"
                                            "selct = ['leftover-token']\n"})
    result = run("scan", str(tmp_path), "--format", "json")
    assert result.returncode == 2
    [finding] = [f for f in json.loads(result.stdout)["findings"]
                 if f["rule"] != "undeclared-publisher"]
    assert finding["rule"] == "invalid-config"
    assert finding["location"] == {"path": "pyproject.toml", "line": 5, "column": 1,
                                   "end_line": 5, "end_column": 1}


def test_rules_explain_and_version() -> None:
    from auditor.reading.catalogue import load_catalogue

    listing = run("rules").stdout
    assert listing.count("\n") == len(load_catalogue()) and "missing-id-token" in listing
    assert "publisher-workflow-mismatch" in listing and "gitlab-missing-id-token" in listing
    page = run("explain", "tag-object-pin").stdout
    assert "manifest unknown" in page and "## How to fix" in page
    assert run("--version").stdout.startswith("pubaudit ")
    help_text = run("scan", "--help").stdout
    assert "Exit codes" in help_text


def test_explicit_file_finds_its_repository(tmp_path: Path) -> None:
    write_tree(tmp_path, {".github/workflows/release.yml": CLEAN.replace(
        "    environment: pypi\n", ""), ".git/config": "[core]\n",
        "pyproject.toml": DECLARED.replace('environment = "pypi"', 'environment = ""')})
    result = run("scan", ".github/workflows/release.yml", "--format", "json", cwd=tmp_path)
    document = json.loads(result.stdout)
    assert result.returncode == 1
    assert {f["rule"] for f in document["findings"]} == {"missing-environment"}
    assert document["findings"][0]["location"]["path"] == ".github/workflows/release.yml"


def test_unreadable_baseline_is_a_usage_error(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text("not json", encoding="utf-8")
    result = run("scan", "fixtures/demo", "--baseline", str(baseline))
    assert result.returncode == 2 and "--baseline" in result.stderr
    assert "Traceback" not in result.stderr
