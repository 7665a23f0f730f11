"""Publisher declarations, PyPI's matching semantics, and ``pubaudit publishers``."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from auditor.engine.scan import Report
from auditor.reading.config import load_config
from auditor.reading.declarations import normalize_project
from auditor.reading.gitremote import parse_remote_url
from auditor.reading.identity import project_name
from tests.conftest import CORPUS, release_workflow, scan_tree, write_tree

GIT_CONFIG = '[remote "origin"]\n\turl = {url}\n'
PYPROJECT = """
[project]
name = "Widget_Tool"
version = "1.0"

[[tool.pubaudit.publishers]]
index = "pypi"
owner = "{owner}"
repository = "{repository}"
workflow = "{workflow}"
environment = "{declared_env}"
"""
PUBLISHER_RULES = ("undeclared-publisher", "publisher-workflow-mismatch",
                   "publisher-environment-mismatch", "publisher-repository-mismatch",
                   "publisher-project-mismatch", "publisher-missing-for-index",
                   "publisher-malformed", "publisher-unused", "pending-publisher-collision")


def _repo(tmp_path: Path, *, workflow_file: str = "release.yml", environment: str = "pypi",
          owner: str = "acme", repository: str = "widget", workflow: str = "release.yml",
          declared_env: str = "pypi", url: str = "git@github.com:acme/widget.git",
          extra: str = "") -> Path:
    files = {
        f".github/workflows/{workflow_file}": release_workflow(environment=environment),
        "pyproject.toml": PYPROJECT.format(owner=owner, repository=repository,
                                           workflow=workflow, declared_env=declared_env) + extra,
        ".git/config": GIT_CONFIG.format(url=url),
    }
    return write_tree(tmp_path, files)


def _publisher_findings(report: Report) -> list[tuple[str, str, int]]:
    return sorted((f.rule, f.location.path, f.location.line) for f in report.active
                  if f.rule in PUBLISHER_RULES)


def test_correct_declaration_is_silent(tmp_path: Path) -> None:
    report = scan_tree(_repo(tmp_path))
    assert _publisher_findings(report) == []
    assert [f.rule for f in report.active] == []


@pytest.mark.parametrize(("change", "rule", "line"), [
    ({"workflow": "release.yaml"}, "publisher-workflow-mismatch", 9),
    ({"workflow_file": "publish.yml"}, "publisher-workflow-mismatch", 9),
    ({"environment": "release"}, "publisher-environment-mismatch", 10),
    ({"owner": "acme-old"}, "publisher-repository-mismatch", 7),
    ({"repository": "widget-legacy"}, "publisher-repository-mismatch", 8),
    ({"url": "https://github.com/acme/gadget.git"}, "publisher-repository-mismatch", 8),
])
def test_single_field_mistake_reported_once_at_declaration_and_job(
        tmp_path: Path, change: dict[str, str], rule: str, line: int) -> None:
    report = scan_tree(_repo(tmp_path, **change))
    findings = [f for f in report.active if f.rule in PUBLISHER_RULES]
    assert [(f.rule, f.location.path, f.location.line) for f in findings] == \
        [(rule, "pyproject.toml", line)]
    labels = {label: loc.path for label, loc in findings[0].related}
    assert labels["the publish job"].endswith(".yml")
    assert "invalid-publisher" in findings[0].message


def test_extension_swap_names_the_cause_and_both_values(tmp_path: Path) -> None:
    report = scan_tree(_repo(tmp_path, workflow="release.yaml"))
    (finding,) = [f for f in report.active if f.rule == "publisher-workflow-mismatch"]
    assert "`.yaml` declared, `.yml` on disk" in finding.message
    assert 'workflow = "release.yml"' in finding.message
    loc = finding.location
    assert (loc.line, loc.column, loc.end_column) == (9, 12, 26)  # the quoted value


def test_environment_is_case_insensitive_on_github(tmp_path: Path) -> None:
    report = scan_tree(_repo(tmp_path, environment="PyPI", declared_env="pypi"))
    assert _publisher_findings(report) == []


def test_empty_declared_environment_accepts_a_job_environment(tmp_path: Path) -> None:
    report = scan_tree(_repo(tmp_path, declared_env=""))
    assert _publisher_findings(report) == []
    assert not any("remove" in f.message and "environment" in f.message
                   for f in report.active)


def test_job_without_environment_is_told_to_add_one(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    path = root / ".github/workflows/release.yml"
    path.write_text(path.read_text().replace("    environment: pypi\n", ""))
    report = scan_tree(root)
    (finding,) = [f for f in report.active if f.rule == "publisher-environment-mismatch"]
    assert "has no `environment:`" in finding.message
    assert "Add `environment: pypi`" in finding.message


def test_project_names_compare_pep503_normalised(tmp_path: Path) -> None:
    same = _repo(tmp_path / "a", extra='project = "widget.tool"\n')
    assert _publisher_findings(scan_tree(same)) == []
    other = _repo(tmp_path / "b", extra='project = "widget-tools"\n')
    assert [r for r, _, _ in _publisher_findings(scan_tree(other))] == [
        "publisher-project-mismatch"]


def test_pending_project_mismatch_predicts_non_user_identities(tmp_path: Path) -> None:
    root = _repo(tmp_path, extra='project = "widget"\npending = true\n')
    (finding,) = [f for f in scan_tree(root).active if f.rule == "publisher-project-mismatch"]
    assert "Non-user identities cannot create new projects" in finding.message


def test_testpypi_upload_without_testpypi_declaration(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    path = root / ".github/workflows/release.yml"
    path.write_text(path.read_text() + "        with:\n          repository-url: "
                    "https://test.pypi.org/legacy/\n")
    rules = [r for r, _, _ in _publisher_findings(scan_tree(root))]
    assert rules == ["publisher-missing-for-index", "publisher-unused"]


def test_upstream_remote_of_a_fork_is_accepted(tmp_path: Path) -> None:
    root = _repo(tmp_path, url="git@github.com:someone/widget.git")
    (root / ".git/config").write_text(GIT_CONFIG.format(url="git@github.com:someone/widget.git")
                                      + '[remote "upstream"]\n\turl = https://github.com/acme/'
                                        'widget\n')
    assert _publisher_findings(scan_tree(root)) == []


def test_case_only_repository_difference_is_medium(tmp_path: Path) -> None:
    report = scan_tree(_repo(tmp_path, repository="Widget"))
    (finding,) = [f for f in report.active if f.rule == "publisher-repository-mismatch"]
    assert finding.severity == "medium"
    assert "letter case" in finding.message


def test_pubaudit_toml_declarations(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text('[project]\nname = "Widget_Tool"\n')
    (root / "pubaudit.toml").write_text(
        '[[publishers]]\nindex = "pypi"\nowner = "acme"\nrepository = "widget"\n'
        'workflow = "release.yml "\nenvironment = "pypi"\n')
    report = scan_tree(root)
    assert _publisher_findings(report) == [("publisher-malformed", "pubaudit.toml", 5)]


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("pending", '"yes"', "must be true or false"),
    ("project", "3", "must be a string"),
    ("workflows", '"release.yml"', "unknown key `workflows`"),
])
def test_declaration_type_errors_are_invalid_config(tmp_path: Path, key: str, value: str,
                                                    expected: str) -> None:
    root = _repo(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f"{key} = {value}\n")
    config = load_config(root)
    (error,) = config.errors
    assert expected in error.message
    assert error.line == 11


def test_publishers_must_be_an_array_of_tables(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pubaudit.toml": 'publishers = "pypi"\n'})
    (error,) = load_config(tmp_path).errors
    assert "array of tables" in error.message and error.line == 1


@pytest.mark.parametrize(("url", "host", "owner", "repo"), [
    ("https://github.com/pypa/sampleproject.git", "github.com", "pypa", "sampleproject"),
    ("git@github.com:pypa/sampleproject.git", "github.com", "pypa", "sampleproject"),
    ("ssh://git@github.com/pypa/sampleproject", "github.com", "pypa", "sampleproject"),
    ("https://gitlab.com/group/sub/project.git", "gitlab.com", "group/sub", "project"),
])
def test_remote_forms(url: str, host: str, owner: str, repo: str) -> None:
    remote = parse_remote_url(url)
    assert remote is not None
    assert (remote.host, remote.owner, remote.repository) == (host, owner, repo)


def test_project_name_sources(tmp_path: Path) -> None:
    write_tree(tmp_path / "cfg", {"setup.cfg": "[metadata]\nname = from-cfg\n"})
    write_tree(tmp_path / "py", {"setup.py": "from setuptools import setup\n"
                                             "setup(\n    name='from_py',\n)\n"})
    write_tree(tmp_path / "poetry", {"pyproject.toml": '[tool.poetry]\nname = "from-poetry"\n'})
    names = {d: project_name(tmp_path / d) for d in ("cfg", "py", "poetry")}
    assert {d: n.name if n else None for d, n in names.items()} == {
        "cfg": "from-cfg", "py": "from_py", "poetry": "from-poetry"}
    assert names["py"] is not None and names["py"].anchor.span == (2, 10, 2, 17)
    assert normalize_project("Foo.Bar__baz") == "foo-bar-baz"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True,
                          text=True, check=False)


def test_publishers_command_toml_round_trips_to_a_clean_scan(tmp_path: Path) -> None:
    root = _repo(tmp_path, workflow="old.yml")
    result = _cli("publishers", str(root), "--format", "toml")
    assert result.returncode == 0, result.stderr
    declared = tomllib.loads(result.stdout)["tool"]["pubaudit"]["publishers"]
    assert declared == [{"index": "pypi", "project": "Widget_Tool", "provider": "github",
                         "owner": "acme", "repository": "widget", "workflow": "release.yml",
                         "environment": "pypi"}]
    (root / "pyproject.toml").write_text('[project]\nname = "Widget_Tool"\n' + result.stdout)
    assert _publisher_findings(scan_tree(root)) == []


def test_publishers_command_text_and_json(tmp_path: Path) -> None:
    root = _repo(tmp_path, workflow="release.yaml")
    text = _cli("publishers", str(root))
    assert text.returncode == 0
    assert "Workflow name: release.yml" in text.stdout
    assert "differs: workflow `release.yaml`" in text.stdout
    assert ("https://pypi.org/manage/project/widget-tool/settings/publishing/?provider=github"
            "&owner=acme&repository=widget&workflow_filename=release.yml&environment=pypi"
            ) in text.stdout
    data = json.loads(_cli("publishers", str(root), "--format", "json").stdout)
    (entry,) = data["publishers"]
    assert entry["status"] == "differs"
    assert entry["mismatches"][0]["field"] == "workflow"


def test_publishers_command_bad_config_exits_2(tmp_path: Path) -> None:
    write_tree(tmp_path, {"pubaudit.toml": "[[publishers]]\npending = 3\n"})
    result = _cli("publishers", str(tmp_path))
    assert result.returncode == 2
    assert "pubaudit.toml:2:" in result.stderr and "Traceback" not in result.stderr


def _manifest_trusted() -> dict[str, dict[str, set[str]]]:
    """repo -> GitHub workflow file name -> indexes, for rows labelled trusted publishing."""
    rows: dict[str, dict[str, set[str]]] = {}
    with (CORPUS / "MANIFEST.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["uses_trusted_publishing"] != "yes" or "/.github/workflows/" not in \
                    row["path"]:
                continue
            indexes = {i for i in row["publishes_to"].split(",") if i in ("pypi", "testpypi")}
            if indexes:
                name = row["path"].rsplit("/", 1)[-1]
                rows.setdefault(row["repo"], {})[name] = indexes
    return rows


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_publishers_on_the_corpus_name_the_labelled_workflows(tmp_path: Path) -> None:
    """Every labelled trusted-publishing workflow of the corpus gets a registration with
    the repository's owner/name (from a written `origin`) and its own file name."""
    from auditor.facts.context import Context
    from auditor.publishers.registration import registrations
    from auditor.reading.config import load_config
    from auditor.repository.discovery import load_repository

    missing = []
    for repo, workflows in sorted(_manifest_trusted().items()):
        source = CORPUS / repo.replace("/", "__")
        root = tmp_path / source.name
        shutil.copytree(source, root)
        write_tree(root, {".git/config": GIT_CONFIG.format(url=f"https://github.com/{repo}")})
        regs = registrations(Context(load_repository(root, load_config(root))))
        owner, name = repo.split("/")
        for reg in regs:
            assert (reg.expected.owner, reg.expected.repository) == (owner, name)
        found = {(r.expected.workflow, r.expected.index) for r in regs}
        for workflow, indexes in workflows.items():
            for index in indexes:
                if (workflow, index) not in found:
                    missing.append(f"{repo}: {workflow} -> {index} (found {sorted(found)})")
    assert missing == []
