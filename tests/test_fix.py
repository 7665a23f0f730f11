"""``pubaudit fix`` on realistic workflows: each case of ``fixtures/fix`` is a workflow
(``input.yml``), the exact file the fix must leave (``expected.yml``), the options
(``args``) and, for a refusal, words the output must contain (``refused``). Every case is
also fixed a second time (nothing changes) and as a ``--diff`` that ``git apply`` turns into
the same file while the repository stays untouched."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.fix.write import WriteError, write_atomic
from tests.conftest import REPO_ROOT

CASES = REPO_ROOT / "fixtures" / "fix"
NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
WORKFLOW = ".github/workflows/release.yml"
PYPROJECT = '[project]\nname = "widget"\nversion = "1.0"\n'

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(root)}
    return subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True,
                          text=True).stdout


def _target(case: Path) -> str:
    """Where the case's input goes: ``path`` names it (``.gitlab-ci.yml``), else the
    release workflow."""
    named = case / "path"
    return named.read_text().strip() if named.exists() else WORKFLOW


def _repository(tmp_path: Path, workflow: bytes, target: str = WORKFLOW) -> Path:
    root = tmp_path / "widget"
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / target).write_bytes(workflow)
    (root / "pyproject.toml").write_text(PYPROJECT)
    _git(root, "init", "-q")
    _git(root, "remote", "add", "origin", "https://github.com/acme/widget.git")
    return root


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["fix", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    # click's `stdout` turns CRLF into LF: a diff of a CRLF file needs the bytes
    return (result.exit_code, result.stdout_bytes.decode("utf-8"),
            result.stderr_bytes.decode("utf-8") if result.stderr_bytes else "")


def _args(case: Path) -> list[str]:
    path = case / "args"
    return path.read_text().split() if path.exists() else []


@pytest.mark.parametrize("name", NAMES)
def test_fix_leaves_exactly_the_expected_file(tmp_path: Path, name: str) -> None:
    case = CASES / name
    target = _target(case)
    root = _repository(tmp_path, (case / "input.yml").read_bytes(), target)
    code, out, _ = _run(*_args(case), str(root))
    assert code in (0, 1), out
    assert (root / target).read_bytes() == (case / "expected.yml").read_bytes(), out
    refused = case / "refused"
    if refused.exists():
        assert refused.read_text().strip() in out
    # a second run finds nothing more to do
    before = (root / target).read_bytes()
    code_again, again, _ = _run(*_args(case), str(root))
    assert (root / target).read_bytes() == before
    assert code_again == code
    assert "would fix" not in again and ": fixed" not in again, again


@pytest.mark.parametrize("name", NAMES)
def test_diff_writes_nothing_and_applies_to_the_same_file(tmp_path: Path, name: str) -> None:
    case = CASES / name
    target = _target(case)
    original = (case / "input.yml").read_bytes()
    root = _repository(tmp_path, original, target)
    code, diff, summary = _run("--diff", *_args(case), str(root))
    assert code in (0, 1)
    assert (root / target).read_bytes() == original
    expected = (case / "expected.yml").read_bytes()
    if expected == original:
        assert diff == ""
        return
    assert "would fix" in summary
    (tmp_path / "change.diff").write_bytes(diff.encode("utf-8"))
    _git(root, "apply", "--whitespace=nowarn", str(tmp_path / "change.diff"))
    assert (root / target).read_bytes() == expected


def test_the_unsafe_fix_is_listed_not_applied_without_unsafe(tmp_path: Path) -> None:
    original = (CASES / "token-migration" / "input.yml").read_bytes()
    root = _repository(tmp_path, original)
    code, out, _ = _run(str(root))
    assert code == 1
    assert (root / WORKFLOW).read_bytes() == original
    assert "leftover-token [medium]: unsafe, applied only with --unsafe" in out
    assert "What only you can do" not in out


def test_token_migration_ends_with_the_checklist(tmp_path: Path) -> None:
    root = _repository(tmp_path, (CASES / "token-migration" / "input.yml").read_bytes())
    _, out, _ = _run("--unsafe", str(root))
    register = out.index("1. Register the trusted publisher")
    delete = out.index("2. Delete the secrets no workflow uses any more: `PYPI_API_TOKEN`")
    revoke = out.index("3. Revoke the tokens")
    assert register < delete < revoke
    assert "https://github.com/acme/widget/settings/secrets/actions" in out
    assert ("https://pypi.org/manage/project/widget/settings/publishing/?provider=github&"
            "owner=acme&repository=widget&workflow_filename=release.yml&environment=release"
            ) in out
    assert "https://pypi.org/manage/account/token/" in out


def test_a_secret_another_workflow_still_uses_is_not_for_deletion(tmp_path: Path) -> None:
    root = _repository(tmp_path, (CASES / "token-migration" / "input.yml").read_bytes())
    (root / ".github/workflows/nightly.yml").write_text(
        "on: {schedule: [{cron: '0 3 * * *'}]}\njobs:\n  n:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: ./nightly.sh\n        env:\n"
        "          TOKEN: ${{ secrets.PYPI_API_TOKEN }}\n")
    _, out, _ = _run("--unsafe", "--select", "leftover-token", str(root))
    assert "2. No secret can be deleted yet." in out
    assert "`PYPI_API_TOKEN` is still used by .github/workflows/nightly.yml" in out


def test_select_and_ignore_choose_the_fixes(tmp_path: Path) -> None:
    case = CASES / "both-spellings-of-an-input"
    root = _repository(tmp_path, (case / "input.yml").read_bytes())
    _run("--ignore", "deprecated-publish-input", str(root))
    assert (root / WORKFLOW).read_bytes() == (case / "input.yml").read_bytes()
    _run("--select", "deprecated-publish-input", str(root))
    assert (root / WORKFLOW).read_bytes() == (case / "expected.yml").read_bytes()


def test_exit_code_follows_the_findings_left(tmp_path: Path) -> None:
    root = _repository(tmp_path, (CASES / "pin-exact-tag" / "input.yml").read_bytes())
    code, out, _ = _run(str(root))
    assert "fixed 1 finding" in out
    assert code == 1  # undeclared-publisher (info) is below... the default threshold is low
    code, _, _ = _run("--exit-zero", str(root))
    assert code == 0


def test_permissions_and_bytes_are_kept(tmp_path: Path) -> None:
    case = CASES / "crlf-bom-four-space"
    root = _repository(tmp_path, (case / "input.yml").read_bytes())
    os.chmod(root / WORKFLOW, 0o640)
    _run(str(root))
    assert stat.S_IMODE(os.stat(root / WORKFLOW).st_mode) == 0o640
    data = (root / WORKFLOW).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == data.count(b"\n")
    assert not list((root / ".github" / "workflows").glob(".*pubaudit"))


def test_a_file_changed_since_the_scan_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "release.yml"
    target.write_text("on: push\n")
    with pytest.raises(WriteError, match="changed since it was scanned"):
        write_atomic(target, b"on: [push]\n", b"on: pull_request\n")
    assert target.read_text() == "on: push\n"


def test_an_unwritable_directory_is_a_message_and_exit_2(tmp_path: Path) -> None:
    root = _repository(tmp_path, (CASES / "pin-exact-tag" / "input.yml").read_bytes())
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories")
    workflows = root / ".github" / "workflows"
    workflows.chmod(0o555)
    try:
        code, out, _ = _run(str(root))
    finally:
        workflows.chmod(0o755)
    assert code == 2
    assert "not written: cannot be written" in out


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = _run(str(tmp_path / "nowhere"))
    assert code == 2 and "no such file or directory" in err


def test_scan_marks_fixable_findings(tmp_path: Path) -> None:
    root = _repository(tmp_path, (CASES / "token-migration" / "input.yml").read_bytes())
    result = CliRunner().invoke(app, ["scan", "--no-color", str(root)])
    assert "[fix: unsafe]" in result.stdout
    root2 = _repository(tmp_path / "b", (CASES / "pin-exact-tag" / "input.yml").read_bytes())
    result = CliRunner().invoke(app, ["scan", "--no-color", str(root2)])
    assert "[fix]" in result.stdout


def test_every_rule_that_fixes_documents_how() -> None:
    """A finding that carries a fix in any fixture case belongs to a rule whose page has an
    `Automatic fix` text (safe or unsafe, and how)."""
    from auditor.engine.scan import Options, scan
    from auditor.reading.catalogue import load_catalogue

    catalogue = load_catalogue()
    fixing: set[str] = set()
    for case in sorted((REPO_ROOT / "fixtures" / "cases").glob("*/*")):
        if case.is_dir():
            report = scan([case], Options())
            fixing |= {f.rule for f in report.findings if f.fix is not None}
    assert fixing, "the fixtures exercise fixes"
    undocumented = sorted(r for r in fixing if not catalogue[r].autofix)
    assert not undocumented
