"""The pre-commit hook, for real: the manifest is valid, and ``pre-commit run`` installs this
package into its own virtualenv (through pip, from the configured index) and passes a clean
repository while failing a bad one with readable output.

The hook repository is a throw-away git repository holding exactly the files a commit of this
working tree would hold (``git ls-files --cached --others --exclude-standard``). Pointing
pre-commit at this checkout directly would test the last commit instead: ``try-repo`` only
carries staged files and changes to tracked files into its shadow commit, not new unstaged
files, and ``repo: <path>`` checks out a committed ``rev``. In CI (a fresh clone) both are
the same; during development this way the test sees the code under test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import ON_RELEASE, REPO_ROOT, SCHEMAS, release_workflow, write_tree

MANIFEST = REPO_ROOT / ".pre-commit-hooks.yaml"
SCHEMA = SCHEMAS / "pre-commit-hooks.json"
GIT = shutil.which("git")
_IDENTITY = ("-c", "user.name=pubaudit tests", "-c", "user.email=tests@pubaudit.invalid",
             "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main")



def hook() -> dict[str, object]:
    [entry] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(entry, dict)
    return entry


def test_manifest_matches_the_schemastore_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(manifest)
    entry = hook()
    assert entry["id"] == "pubaudit" and entry["language"] == "python"
    assert entry["entry"] == "pubaudit scan"
    assert entry["pass_filenames"] is False  # whole-repository scans: see the manifest


@pytest.mark.parametrize(("path", "runs"), [
    (".github/workflows/release.yml", True), (".github/workflows/ci.yaml", True),
    ("services/api/.github/workflows/release.yml", True), ("action.yml", True),
    (".github/actions/build/action.yaml", True), (".gitlab-ci.yml", True),
    (".gitlab/ci/release.yml", True), ("pyproject.toml", True), ("pubaudit.toml", True),
    (".pypirc", True), ("deploy/.pypirc", True),
    ("README.md", False), (".github/dependabot.yml", False), ("src/pkg/pyproject.toml", False),
    ("docs/myaction.yml", False), (".github/workflows/notes.txt", False)])
def test_files_filter(path: str, runs: bool) -> None:
    assert bool(re.search(str(hook()["files"]), path)) is runs


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without variables that would redirect git or pre-commit (as when the
    suite itself runs inside a git hook)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    env.update(extra)
    return env


def git(*args: str, cwd: Path) -> str:
    assert GIT is not None
    result = subprocess.run([GIT, *_IDENTITY, *args], cwd=cwd, capture_output=True, text=True,
                            timeout=120, check=True, env=clean_env())
    return result.stdout


def _committable_files() -> list[str]:
    if (REPO_ROOT / ".git").exists():
        listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z",
                     cwd=REPO_ROOT)
        return [name for name in listed.split("\0") if name and (REPO_ROOT / name).is_file()]
    skip = {".git", ".venv", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
    return [p.relative_to(REPO_ROOT).as_posix() for p in REPO_ROOT.rglob("*")
            if p.is_file() and not skip & set(p.relative_to(REPO_ROOT).parts)]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A committed copy of this working tree: (path, commit)."""
    if GIT is None:
        pytest.skip("git is not installed")
    target = tmp_path_factory.mktemp("hook-repo")
    for name in _committable_files():
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, destination)
    git("init", "-q", cwd=target)
    git("add", "-A", cwd=target)
    git("commit", "-q", "-m", "snapshot for the pre-commit test", cwd=target)
    yield target, git("rev-parse", "HEAD", cwd=target).strip()


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the module, so the hook's virtualenv is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def run_hook(project: Path, hook_repo: tuple[Path, str],
             home: Path) -> subprocess.CompletedProcess[str]:
    repo, rev = hook_repo
    config = {"repos": [{"repo": str(repo), "rev": rev, "hooks": [{"id": "pubaudit"}]}]}
    (project / ".pre-commit-config.yaml").write_text(json.dumps(config), encoding="utf-8")
    git("init", "-q", cwd=project)
    git("add", "-A", cwd=project)
    env = clean_env(PRE_COMMIT_HOME=str(home), PRE_COMMIT_COLOR="never", NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"],
                          cwd=project, capture_output=True, text=True, timeout=900, env=env)


def test_hook_passes_a_clean_repository(tmp_path: Path, hook_repo: tuple[Path, str],
                                        pre_commit_home: Path) -> None:
    write_tree(tmp_path, {".github/workflows/release.yml": release_workflow(ON_RELEASE)})
    result = run_hook(tmp_path, hook_repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "pubaudit (PyPI trusted publishing)" in output and "Passed" in output


def test_hook_fails_a_bad_repository_naming_rule_and_file(
        tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path) -> None:
    shutil.copytree(REPO_ROOT / "fixtures" / "demo", tmp_path, dirs_exist_ok=True)
    result = run_hook(tmp_path, hook_repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Failed" in output and "exit code: 1" in output
    assert ".github/workflows/release.yml:19:11  medium  leftover-token" in output
    assert "Traceback" not in output


def test_hook_sees_the_whole_repository_when_one_file_changes(
        tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path) -> None:
    """Only pyproject.toml is touched, yet the finding in the workflow is reported: the
    hook scans the repository, not just the files that changed."""
    shutil.copytree(REPO_ROOT / "fixtures" / "demo", tmp_path, dirs_exist_ok=True)
    run_hook(tmp_path, hook_repo, pre_commit_home)  # stages everything, creates the repo
    git("commit", "-q", "-m", "initial", cwd=tmp_path)
    with (tmp_path / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n# touched\n")
    git("add", "pyproject.toml", cwd=tmp_path)
    env = clean_env(PRE_COMMIT_HOME=str(pre_commit_home), PRE_COMMIT_COLOR="never",
                    NO_COLOR="1")
    result = subprocess.run([sys.executable, "-m", "pre_commit", "run"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=900, env=env)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert ".github/workflows/release.yml" in output and "leftover-token" in output


def test_hook_is_skipped_when_no_relevant_file_changed(
        tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path) -> None:
    write_tree(tmp_path, {"README.md": "nothing to audit\n"})
    result = run_hook(tmp_path, hook_repo, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Skipped" in output
