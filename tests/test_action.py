"""The composite action and the example code-scanning workflow: valid metadata, no template
injection, pinned dependencies, clean under pubaudit itself, and the scan step's shell script
run for real with bash (exit codes, SARIF written even when findings fail the step)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import REPO_ROOT, SCHEMAS, scan_tree, write_tree

ACTION = REPO_ROOT / "action.yml"
EXAMPLE = REPO_ROOT / "docs" / "examples" / "pubaudit-code-scanning.yml"
BASH = shutil.which("bash")
_PINNED = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(?:\.\d+)*\b")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    if True in data:  # PyYAML reads the `on:` key as the boolean true (YAML 1.1)
        data["on"] = data.pop(True)
    return data


def action_step(name: str) -> dict[str, Any]:
    steps: list[dict[str, Any]] = load(ACTION)["runs"]["steps"]
    [step] = [s for s in steps if s.get("name") == name]
    return step


def test_action_metadata_matches_the_schemastore_schema() -> None:
    schema = json.loads((SCHEMAS / "github-action.json").read_text(encoding="utf-8"))
    action = load(ACTION)
    jsonschema.Draft7Validator(schema).validate(action)
    assert action["runs"]["using"] == "composite"
    assert {"path", "format", "min-severity", "fail-on", "sarif-file", "version"} <= set(
        action["inputs"])


def test_example_workflow_matches_the_schemastore_schema() -> None:
    schema = json.loads((SCHEMAS / "github-workflow.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(load(EXAMPLE))


def test_no_expression_reaches_a_shell_script() -> None:
    """``${{ }}`` inside ``run:`` is pasted into the script before bash parses it: an input
    value could become code. Inputs go through ``env:`` instead."""
    for path in (ACTION, EXAMPLE):
        data = load(path)
        steps = data["runs"]["steps"] if "runs" in data else [
            s for job in data["jobs"].values() for s in job["steps"]]
        for step in steps:
            assert "${{" not in step.get("run", ""), (path.name, step.get("name"))


def test_every_action_reference_is_pinned_to_a_commit_with_its_version() -> None:
    for path in (ACTION, EXAMPLE):
        lines = [line for line in path.read_text(encoding="utf-8").splitlines()
                 if re.match(r"^\s*(?:-\s+)?uses:", line)]
        assert lines
        for line in lines:
            assert _PINNED.match(line), line


def test_example_workflow_uploads_with_least_privilege() -> None:
    workflow = load(EXAMPLE)
    assert workflow["permissions"] == {}
    [job] = workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "security-events": "write"}
    checkout, run, upload = job["steps"]
    assert checkout["with"]["persist-credentials"] is False
    assert run["with"]["sarif-file"] == upload["with"]["sarif_file"] == "pubaudit.sarif"
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["if"].startswith("always()")


def test_pubaudit_reports_nothing_on_its_own_action_and_example(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        ".github/workflows/pubaudit.yml": EXAMPLE.read_text(encoding="utf-8"),
        "action.yml": ACTION.read_text(encoding="utf-8")})
    report = scan_tree(tmp_path)
    assert report.files == 2
    assert [(f.rule, f.location.path, f.location.line) for f in report.findings] == []


# --- the scan step, run with bash as the runner would ------------------------------------------

def run_step(name: str, tmp_path: Path, inputs: dict[str, str],
             extra_env: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """Run a step's ``run:`` script with its ``env:`` (the ``${{ }}`` values substituted from
    ``inputs``), in ``tmp_path`` as the workspace. Returns exit code, outputs, and the log."""
    step = action_step(name)
    defaults = {k: str(v.get("default", "")) for k, v in load(ACTION)["inputs"].items()}
    values = defaults | inputs
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUBAUDIT", "GITHUB_"))}
    for key, expression in step.get("env", {}).items():
        match = re.fullmatch(r"\$\{\{ inputs\.([\w-]+) \}\}", expression)
        env[key] = values[match.group(1)] if match else ""
    output_file = tmp_path / "github_output"
    output_file.write_text("", encoding="utf-8")
    env.update(GITHUB_OUTPUT=str(output_file), RUNNER_TEMP=str(tmp_path / "runner-temp"),
               GITHUB_ACTION_PATH=str(REPO_ROOT), NO_COLOR="1")
    env.update(extra_env or {})
    assert BASH is not None
    result = subprocess.run([BASH, "--noprofile", "--norc", "-eo", "pipefail", "-c",
                             step["run"]], cwd=tmp_path / "workspace", env=env,
                            capture_output=True, text=True, timeout=600)
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines() if line)
    return result.returncode, outputs, result.stdout + result.stderr


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    if BASH is None:
        pytest.skip("bash is not installed")
    (tmp_path / "runner-temp").mkdir()
    shutil.copytree(REPO_ROOT / "fixtures" / "demo", tmp_path / "workspace")
    return tmp_path


def test_scan_step_fails_on_findings_but_writes_sarif_and_summary(workspace: Path) -> None:
    summary = workspace / "summary.md"
    code, outputs, log = run_step("Scan", workspace, {}, {
        "PUBAUDIT_RUN": sys.executable, "GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 1, log
    assert outputs == {"sarif-file": "pubaudit.sarif", "exit-code": "1"}
    assert "leftover-token" in log
    sarif = json.loads((workspace / "workspace" / "pubaudit.sarif").read_text(encoding="utf-8"))
    assert sarif["runs"][0]["results"]
    assert re.match(r"## pubaudit: \d+ findings\n", summary.read_text(encoding="utf-8"))


def test_scan_step_thresholds_and_exit_zero(workspace: Path) -> None:
    environment = {"PUBAUDIT_RUN": sys.executable}
    code, outputs, log = run_step("Scan", workspace, {"fail-on": "high", "summary": "false",
                                                      "format": "github"}, environment)
    assert code == 0 and outputs["exit-code"] == "0", log
    assert log.startswith("::warning file=.github/workflows/release.yml,")
    (workspace / "workspace" / "pubaudit.sarif").unlink()
    code, outputs, _ = run_step("Scan", workspace, {"exit-zero": "true", "sarif-file": ""},
                                environment)
    assert code == 0 and outputs == {"sarif-file": "", "exit-code": "0"}
    assert not (workspace / "workspace" / "pubaudit.sarif").exists()


def test_scan_step_reports_configuration_errors_even_with_exit_zero(workspace: Path) -> None:
    (workspace / "workspace" / "pubaudit.toml").write_text("selct = []\n", encoding="utf-8")
    code, outputs, log = run_step("Scan", workspace, {"exit-zero": "true"},
                                  {"PUBAUDIT_RUN": sys.executable})
    assert code == 2 and outputs["exit-code"] == "2", log
    assert (workspace / "workspace" / "pubaudit.sarif").is_file()  # still there to upload


def test_scan_step_passes_hostile_inputs_as_data(workspace: Path) -> None:
    code, _, log = run_step("Scan", workspace, {"path": ". ; echo INJECTED $(id)"},
                            {"PUBAUDIT_RUN": sys.executable})
    assert code == 2 and "INJECTED uid" not in log
    assert "no such file or directory" in log


def test_install_step_rejects_a_version_that_is_not_one(workspace: Path) -> None:
    code, _, log = run_step("Install pubaudit", workspace, {"version": "1.0 --index-url=x"},
                            {"PUBAUDIT_PYTHON": sys.executable})
    assert code == 2 and "not a version number" in log


def test_install_step_installs_the_action_checkout(workspace: Path) -> None:
    code, outputs, log = run_step("Install pubaudit", workspace, {},
                                  {"PUBAUDIT_PYTHON": sys.executable})
    assert code == 0, log
    installed = outputs["python"]
    version = subprocess.run([installed, "-m", "auditor", "--version"], capture_output=True,
                             text=True, timeout=120)
    assert version.stdout.startswith("pubaudit "), version.stderr


def test_find_python_step_accepts_only_a_usable_python(workspace: Path) -> None:
    bin_dir = workspace / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(sys.executable)
    code, outputs, log = run_step("Find Python 3.11 or newer", workspace, {},
                                  {"PATH": str(bin_dir)})
    assert code == 0, log
    assert outputs == {"path": str(bin_dir / "python3")}
    (bin_dir / "python3").unlink()
    (bin_dir / "python3").write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    (bin_dir / "python3").chmod(0o755)
    code, outputs, log = run_step("Find Python 3.11 or newer", workspace, {},
                                  {"PATH": str(bin_dir)})
    assert code == 0 and outputs == {"path": ""}, log  # then actions/setup-python runs
