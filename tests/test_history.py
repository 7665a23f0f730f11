"""``pubaudit history``: real git repositories made in the test, with fixed dates and
identity, audited through the library, typer's CliRunner and ``python -m auditor``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.history.audit import AuditedCredential, HistoryAudit, audit_history
from auditor.history.diff import ParseStats, parse, unquote_path
from auditor.history.gitlog import COMMIT_MARKER
from auditor.history.names import pypi_by_name
from auditor.history.recognise import recognise
from auditor.history.report import as_dict, render_json, render_text
from tests.conftest import REPO_ROOT

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")
SCHEMA = json.loads((REPO_ROOT / "auditor" / "schemas" / "history.schema.json")
                    .read_text(encoding="utf-8"))
runner = CliRunner()

# Shaped like real macaroons (pypi.org and test.pypi.org locations), but made up.
TOKEN = "pypi-AgEIcHlwaS5vcmc" + "CJDRkZjQ0N2Y1LTAwNjItNDk5Yy1iNGNhLTYzZTRiZDU5YjE0NgACKlsz" * 3
TEST_TOKEN = "pypi-AgENdGVzdC5weXBpLm9yZw" + "IkNGQ1MmE3NjgtMmE4Ny00YzFlLWE2NmMtN2I5ZmQ" * 3


def _env(date: str) -> dict[str, str]:
    return {**os.environ, "GIT_AUTHOR_NAME": "Maintainer", "GIT_AUTHOR_EMAIL": "m@example.org",
            "GIT_COMMITTER_NAME": "Maintainer", "GIT_COMMITTER_EMAIL": "m@example.org",
            "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


class Repo:
    """A repository whose commits the test writes, one dict of files at a time."""

    def __init__(self, root: Path, remote: str | None = "git@github.com:acme/widget.git"):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        if remote:
            self.git("remote", "add", "origin", remote)

    def git(self, *args: str, date: str = "2021-01-01T12:00:00+00:00") -> str:
        done = subprocess.run([GIT or "git", "-c", "commit.gpgsign=false", *args],
                              cwd=self.root, env=_env(date), check=True, capture_output=True,
                              text=True)
        return done.stdout.strip()

    def commit(self, date: str, files: dict[str, str | None], message: str = "change") -> str:
        for name, text in files.items():
            path = self.root / name
            if text is None:
                self.git("rm", "-q", name)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            self.git("add", name)
        self.git("commit", "-q", "--allow-empty", "-m", message, date=date)
        return self.git("rev-parse", "HEAD")


def workflow(publish_with: str, extra_env: str = "") -> str:
    return f"""name: Release
on:
  push:
    tags: ["v*"]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: pytest
        env:
          CODECOV_TOKEN: ${{{{ secrets.CODECOV_TOKEN }}}}
  publish:
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
{extra_env}    steps:
      - uses: actions/download-artifact@v4
      - uses: pypa/gh-action-pypi-publish@release/v1
{publish_with}"""


WITH_TOKEN = """        with:
          user: __token__
          password: ${{ secrets.PYPI_API_TOKEN }}
"""


def by_name(audit: HistoryAudit) -> dict[str, AuditedCredential]:
    return {c.history.credential.name: c for c in audit.credentials}


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.stdout, result.stderr


def validate(document: object) -> None:
    jsonschema.validate(document, SCHEMA, cls=jsonschema.Draft202012Validator)


# --- the migration: a token added, then removed for trusted publishing ----------------------

def test_token_removed_when_migrating_is_reported_as_a_leftover(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    added = repo.commit("2021-03-04T10:00:00+00:00",
                        {".github/workflows/release.yml": workflow(WITH_TOKEN),
                         "README.md": "widget\n"})
    repo.commit("2022-01-01T10:00:00+00:00", {"README.md": "widget, again\n"})
    removed = repo.commit("2023-05-06T10:00:00+00:00",
                          {".github/workflows/release.yml": workflow("")},
                          "Publish with trusted publishing")
    audit = audit_history(repo.root)
    assert audit.commits == 2  # the README commit does not touch a CI file
    assert [c.history.credential.name for c in audit.credentials] == ["PYPI_API_TOKEN"]
    [item] = audit.credentials
    history = item.history
    assert (history.credential.kind, history.credential.platform) == ("secret", "github")
    assert history.first is not None and history.first.hash == added
    assert history.first.date == "2021-03-04T10:00:00+00:00"
    assert history.last is not None and history.last.hash == removed
    assert [(u.path, u.job) for u in history.usages] == [
        (".github/workflows/release.yml", "publish")]
    assert history.feeds == ("password input of pypa/gh-action-pypi-publish",)
    assert history.indexes == ("pypi",) and not item.still_used
    assert [s.action for s in audit.checklist] == ["delete-secret", "revoke-token"]
    delete, revoke = audit.checklist
    assert delete.url == "https://github.com/acme/widget/settings/secrets/actions"
    assert "PYPI_API_TOKEN" in delete.text
    assert revoke.url == "https://pypi.org/manage/account/token/"
    assert audit.exit_code == 0
    text = render_text(audit, "r")
    assert "no longer used" in text and "(removed)" in text and "CODECOV" not in text
    assert text.index("Delete the GitHub Actions secret") < text.index("Revoke on PyPI")


def test_secret_still_used_says_migrate_first(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-03-04T10:00:00+00:00", {".github/workflows/release.yml": """on: push
jobs:
  upload:
    runs-on: ubuntu-latest
    steps:
      - run: uv publish
        env:
          UV_PUBLISH_TOKEN: ${{ secrets.RELEASE_KEY }}
"""})
    audit = audit_history(repo.root)
    [item] = audit.credentials
    assert item.history.credential.name == "RELEASE_KEY"  # not PyPI by name: by its use
    assert item.history.feeds == ("UV_PUBLISH_TOKEN",)
    assert item.still_used and [(u.path, u.job) for u in item.used_today] == [
        (".github/workflows/release.yml", "upload")]
    assert [s.action for s in audit.checklist] == ["migrate"]
    assert "pubaudit scan" in audit.checklist[0].text
    assert "pubaudit publishers" in audit.checklist[0].text
    assert audit.exit_code == 1


def test_renamed_workflow_keeps_one_history(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    first = repo.commit("2021-01-01T00:00:00+00:00",
                        {".github/workflows/release.yml": workflow(WITH_TOKEN)})
    repo.git("mv", ".github/workflows/release.yml", ".github/workflows/publish.yml")
    renamed = repo.commit("2022-01-01T00:00:00+00:00", {}, "rename")
    [item] = audit_history(repo.root).credentials
    history = item.history
    assert history.files == (".github/workflows/publish.yml", ".github/workflows/release.yml")
    assert history.first is not None and history.first.hash == first
    assert history.last is not None and history.last.hash == renamed
    assert [u.path for u in item.used_today] == [".github/workflows/publish.yml"]


def test_gitlab_variable_and_what_gitlab_defines_itself(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r", "https://gitlab.com/acme/tools/widget.git")
    repo.commit("2021-01-01T00:00:00+00:00", {".gitlab-ci.yml": """stages: [deploy]
deploy:
  stage: deploy
  variables:
    TWINE_USERNAME: __token__
    TWINE_PASSWORD: $PYPI_TOKEN
  script:
    - twine upload dist/*
    - twine upload --repository-url $GITLAB_INDEX -p ${CI_JOB_TOKEN} dist/*
"""})
    repo.commit("2024-01-01T00:00:00+00:00", {".gitlab-ci.yml": """stages: [deploy]
deploy:
  stage: deploy
  id_tokens:
    PYPI_ID_TOKEN:
      aud: pypi
  script:
    - resp=$(curl -X POST https://pypi.org/_/oidc/mint-token -d "$PYPI_ID_TOKEN")
    - export MINTED_PYPI_TOKEN=$(python -c "$MINT" <<< "$resp")
    - twine upload -u __token__ -p "$MINTED_PYPI_TOKEN" dist/*
"""})
    audit = audit_history(repo.root)
    assert list(by_name(audit)) == ["PYPI_TOKEN"]
    [item] = audit.credentials
    assert (item.history.credential.kind, item.history.credential.platform) == (
        "variable", "gitlab")
    assert item.history.feeds == ("TWINE_PASSWORD",)
    assert [(u.path, u.job) for u in item.history.usages] == [(".gitlab-ci.yml", "deploy")]
    assert not item.still_used and audit.exit_code == 0
    delete = audit.checklist[0]
    assert "Settings → CI/CD → Variables" in delete.text
    assert delete.url == "https://gitlab.com/acme/tools/widget/-/settings/ci_cd"


def test_literal_token_is_reported_redacted_and_revoked_first(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00", {
        ".github/workflows/release.yml": workflow(WITH_TOKEN),
        "scripts/upload.sh": f"#!/bin/sh\nTWINE_PASSWORD={TOKEN} twine upload dist/*\n"})
    repo.commit("2021-02-01T00:00:00+00:00", {
        "scripts/upload.sh": "#!/bin/sh\ntwine upload dist/*\n"})
    repo.commit("2021-03-01T00:00:00+00:00", {".github/workflows/release.yml": workflow("")})
    audit = audit_history(repo.root)
    kinds = {c.history.credential.kind: c for c in audit.credentials}
    token = kinds["token"]
    assert token.history.credential.committed and not token.still_used
    assert token.history.files == ("scripts/upload.sh",)
    assert token.history.feeds == ("TWINE_PASSWORD",)
    assert TOKEN not in token.history.credential.name
    assert token.history.credential.name.startswith("pypi-AgEIcHl…")
    assert audit.checklist[0].action == "revoke-now"
    assert "even though a later commit removed it" in audit.checklist[0].text
    assert audit.exit_code == 1  # a committed token is public, removed or not
    for rendered in (render_text(audit, "r"), render_json(audit, "r")):
        assert TOKEN not in rendered and TOKEN[:30] not in rendered


def test_committed_pypirc_password_and_a_placeholder(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00", {".pypirc": """[distutils]
index-servers = pypi testpypi

[pypi]
username = __token__
password = ${PYPI_TOKEN}

[testpypi]
username = maintainer
password = hunter2-but-longer
"""})
    [item] = audit_history(repo.root).credentials
    credential = item.history.credential
    assert credential.kind == "pypirc-password" and "hunter2" not in credential.name
    assert item.history.indexes == ("testpypi",) and item.still_used
    assert [u.job for u in item.history.usages] == ["testpypi"]


@pytest.mark.parametrize(("publish_with", "index"), [
    ("""        with:
          password: ${{ secrets.TEST_PYPI_API_TOKEN }}
""", "testpypi"),
    ("""        with:
          password: ${{ secrets.UPLOAD }}
          repository-url: https://test.pypi.org/legacy/
""", "testpypi"),
    (WITH_TOKEN, "pypi"),
])
def test_testpypi_credentials_point_at_testpypi(tmp_path: Path, publish_with: str,
                                                index: str) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00",
                {".github/workflows/release.yml": workflow(publish_with)})
    repo.commit("2022-01-01T00:00:00+00:00", {".github/workflows/release.yml": workflow("")})
    audit = audit_history(repo.root)
    [item] = audit.credentials
    assert item.history.indexes == (index,)
    revoke = [s for s in audit.checklist if s.action == "revoke-token"]
    assert [s.url for s in revoke] == [f"https://{'test.' if index == 'testpypi' else ''}"
                                       "pypi.org/manage/account/token/"]


def test_two_uploads_in_one_workflow_keep_their_own_index(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00", {".github/workflows/release.yml": workflow(
        """        with:
          password: ${{ secrets.STAGING_UPLOAD }}
          repository-url: https://test.pypi.org/legacy/
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          password: ${{ secrets.PYPI_PASSWORD }}
""")})
    indexes = {name: c.history.indexes for name, c in by_name(audit_history(repo.root)).items()}
    assert indexes == {"STAGING_UPLOAD": ("testpypi",), "PYPI_PASSWORD": ("pypi",)}


NEAR_MISSES = """on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: codecov/codecov-action@v4
        with:
          token: ${{ secrets.CODECOV_TOKEN }}
      - uses: docker/login-action@v3
        with:
          password: ${{ secrets.DOCKER_PASSWORD }}
      - run: twine upload --repository-url $URL dist/*
        env:
          TWINE_USERNAME: ${{ secrets.PYPI_USERNAME }}
          TWINE_PASSWORD: ${{ secrets.GITHUB_TOKEN }}
          URL: ${{ vars.PYPI_URL }}
          GH_TOKEN: ${{ github.token }}
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          user: ${{ secrets.PYPI_USER }}
      - run: echo "$PYPI_TOKEN"  # a shell variable in a workflow is not a secret
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          password: ${{ secrets.NEXUS_PYPI_TOKEN }}  # another index: not revoked on PyPI
          repository-url: https://nexus.example.com/repository/pypi-internal/
"""
NEAR_MISS_PIPELINE = """test:
  script:
    - echo $CI_JOB_TOKEN $CODECOV_TOKEN
publish-internal:
  script:
    - uv publish
      --publish-url https://nexus.example.com/repository/pypi-releases/
      --password "$NEXUS_PYPI_PASSWORD"
"""


def test_non_pypi_secrets_and_near_misses_stay_silent(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00", {
        ".github/workflows/ci.yml": NEAR_MISSES,
        ".gitlab-ci.yml": NEAR_MISS_PIPELINE,
        "scripts/fake.sh": "TOKEN=pypi-----------------------------------------------------"
                           "-----------------------------------------------\n",
        ".pypirc": "[pypi]\nusername = __token__\npassword = <your token>\n",
        "docs/release.md": f"password: {TOKEN}\n"})  # outside the paths read
    audit = audit_history(repo.root)
    assert audit.credentials == () and audit.checklist == () and audit.exit_code == 0
    assert "No PyPI credential" in render_text(audit, "r")


@pytest.mark.parametrize(("name", "pypi"), [
    ("PYPI_API_TOKEN", True), ("PYPI_TOKEN", True), ("TEST_PYPI_PASSWORD", True),
    ("PYPI", True), ("TESTPYPI", True), ("TWINE_PASSWORD", True), ("pypi_password", True),
    ("UV_PUBLISH_TOKEN", True), ("POETRY_PYPI_TOKEN_PYPI", True), ("FLIT_PASSWORD", True),
    ("PYPI_USERNAME", False), ("PYPI_URL", False), ("PYPI_API_URL", False),
    ("CODECOV_TOKEN", False), ("GITHUB_TOKEN", False), ("NPM_TOKEN", False),
    ("TWINE_USERNAME", False), ("PYPI_REPOSITORY", False),
])
def test_pypi_by_name(name: str, pypi: bool) -> None:
    assert pypi_by_name(name) is pypi


@pytest.mark.parametrize("line", [
    "+          TWINE_PASSWORD: ${{ secrets.RELEASE }}",
    "+      - run: twine upload -u __token__ -p ${{ secrets.RELEASE }} dist/*",
    "+      - run: uv publish --token=${{ secrets.RELEASE }}",
    "+      - run: poetry config pypi-token.pypi ${{ secrets.RELEASE }}",
    "+          POETRY_PYPI_TOKEN_PYPI: ${{ secrets['RELEASE'] }}",
    "+          HATCH_INDEX_AUTH: \"${{ secrets.RELEASE }}\"",
    "+          MATURIN_PYPI_TOKEN: ${{ secrets.RELEASE }}",
])
def test_a_secret_handed_to_an_upload_is_a_credential(line: str) -> None:
    found = recognise(".github/workflows/release.yml", "", [line])
    assert [s.credential.name for s in found.sightings] == ["RELEASE"]
    assert found.sightings[0].feeds


@pytest.mark.parametrize("line", [
    "+      - run: twine upload -u ${{ secrets.RELEASE }} dist/*",
    "+          NPM_TOKEN: ${{ secrets.RELEASE }}",
    "+      - run: mysql -p ${{ secrets.RELEASE }}",
    "+          password: ${{ secrets.RELEASE }}",  # no publish action in sight
])
def test_a_secret_handed_elsewhere_is_not(line: str) -> None:
    assert recognise(".github/workflows/release.yml", "", [line]).sightings == ()


# --- errors: one line, exit 2 ---------------------------------------------------------------

def test_not_a_repository(tmp_path: Path) -> None:
    code, out, err = invoke("history", str(tmp_path))
    assert code == 2 and out == ""
    assert err == f"pubaudit: {tmp_path} is not in a git repository: there is no history to " \
                  "read\n"


def test_empty_repository(tmp_path: Path) -> None:
    Repo(tmp_path / "r")
    code, out, err = invoke("history", str(tmp_path / "r"))
    assert code == 2 and out == "" and "has no commits yet" in err
    assert len(err.splitlines()) == 1


def test_missing_path() -> None:
    code, _, err = invoke("history", "/nonexistent/widget")
    assert code == 2 and err == "pubaudit: no such file or directory: /nonexistent/widget\n"


def test_git_not_installed(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00", {".github/workflows/release.yml": "on: push\n"})
    env = {**os.environ, "PATH": str(tmp_path)}  # nothing there: no git
    done = subprocess.run([sys.executable, "-m", "auditor", "history", str(repo.root)],
                          capture_output=True, text=True, env=env, cwd=REPO_ROOT)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("pubaudit: git is not installed")
    assert len(done.stderr.splitlines()) == 1 and "Traceback" not in done.stderr


# --- the command line and the JSON contract -------------------------------------------------

@pytest.fixture
def leftover(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00",
                {".github/workflows/release.yml": workflow(WITH_TOKEN)})
    repo.commit("2022-01-01T00:00:00+00:00", {".github/workflows/release.yml": workflow("")})
    return repo


def test_json_output_matches_the_schema(leftover: Repo, tmp_path: Path) -> None:
    leftover.commit("2022-02-01T00:00:00+00:00",
                    {"scripts/x.sh": f"TWINE_PASSWORD={TEST_TOKEN}\n"})
    leftover.commit("2022-03-01T00:00:00+00:00", {"scripts/x.sh": None})
    code, out, _ = invoke("history", str(leftover.root), "-f", "json")
    document = json.loads(out)
    validate(document)
    assert code == 1 and document["schema_version"] == 1
    assert [c["kind"] for c in document["credentials"]] == ["secret", "token"]
    assert document["credentials"][1]["indexes"] == ["testpypi"]
    assert [s["step"] for s in document["checklist"]] == [1, 2, 3]
    assert document == as_dict(audit_history(leftover.root), str(leftover.root))
    empty = Repo(tmp_path / "quiet")
    empty.commit("2021-01-01T00:00:00+00:00", {"README.md": "x\n"})
    _, out, _ = invoke("history", str(empty.root), "-f", "json")
    validate(json.loads(out))


def test_output_file_and_exit_zero(leftover: Repo, tmp_path: Path) -> None:
    leftover.commit("2023-01-01T00:00:00+00:00",
                    {".github/workflows/release.yml": workflow(WITH_TOKEN)})
    target = tmp_path / "history.txt"
    code, out, _ = invoke("history", str(leftover.root), "-o", str(target))
    assert code == 1 and out == "" and "STILL USED" in target.read_text(encoding="utf-8")
    code, _, _ = invoke("history", str(leftover.root), "--exit-zero")
    assert code == 0
    code, _, err = invoke("history", str(leftover.root), "-o", str(tmp_path / "no" / "x"))
    assert code == 2 and "does not exist" in err


def test_as_a_subprocess_from_a_subdirectory(leftover: Repo) -> None:
    (leftover.root / "src").mkdir()
    done = subprocess.run([sys.executable, "-m", "auditor", "history", "src"],
                          capture_output=True, text=True, cwd=leftover.root,
                          env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert done.returncode == 0, done.stderr
    assert "GitHub Actions secret PYPI_API_TOKEN (PyPI): no longer used" in done.stdout
    assert "https://github.com/acme/widget/settings/secrets/actions" in done.stdout
    helped = subprocess.run([sys.executable, "-m", "auditor", "history", "--help"],
                            capture_output=True, text=True, cwd=REPO_ROOT)
    assert helped.returncode == 0
    for option in ("--format", "--output", "--exit-zero"):
        assert option in helped.stdout


# --- the stream -----------------------------------------------------------------------------

def test_parser_counts_hunk_lines_and_unquotes_paths() -> None:
    stream = [
        f"{COMMIT_MARKER}abc\x002021-01-01T00:00:00+00:00\x001609459200", "",
        'diff --git "a/scripts/caf\\303\\251.sh" "b/scripts/caf\\303\\251.sh"',
        '--- "a/scripts/caf\\303\\251.sh"', '+++ "b/scripts/caf\\303\\251.sh"',
        "@@ -1,2 +1,2 @@ deploy:", "--- not a header", "+++ not a header either", " same",
        "diff --git a/x.bin b/x.bin", "Binary files a/x.bin and b/x.bin differ",
        "diff --git a/gone.yml b/gone.yml", "--- a/gone.yml", "+++ /dev/null",
        "@@ -1 +0,0 @@", "-bye", "\\ No newline at end of file"]
    stats = ParseStats()
    hunks = list(parse(stream, stats))
    assert stats.commits == 1 and [h.path for h in hunks] == ["scripts/café.sh", "gone.yml"]
    assert hunks[0].lines == ("--- not a header", "+++ not a header either", " same")
    assert hunks[0].header == "deploy:" and hunks[1].lines == ("-bye",)
    assert unquote_path('"a\\tb\\"c"') == 'a\tb"c' and unquote_path("plain") == "plain"


def _fast_import_stream(commits: int) -> tuple[bytes, dict[str, int]]:
    """A history of ``commits`` commits: each changes the CI workflow, every tenth also the
    README; a PyPI token secret is added at commit 100 and removed at 40,000, a TestPyPI one
    added at 49,000 and kept."""
    events = {"added": 100, "removed": 40_000, "test_added": 49_000}
    out: list[bytes] = []
    for n in range(1, commits + 1):
        env = ""
        if events["added"] <= n < events["removed"]:
            env += "          TWINE_PASSWORD: ${{ secrets.PYPI_API_TOKEN }}\n"
        if n >= events["test_added"]:
            env += "          UV_PUBLISH_TOKEN: ${{ secrets.TEST_PYPI_TOKEN }}\n"
        body = (f"on: push\njobs:\n  release:\n    runs-on: ubuntu-latest\n    steps:\n"
                f"      - run: echo build {n}\n        env:\n          N: '{n}'\n{env}")
        message = f"commit {n}\n"
        stamp = 1_600_000_000 + n * 60
        out.append(f"commit refs/heads/main\nmark :{n}\n"
                   f"author M <m@example.org> {stamp} +0000\n"
                   f"committer M <m@example.org> {stamp} +0000\n"
                   f"data {len(message)}\n{message}".encode())
        data = body.encode()
        out.append(b"M 100644 inline .github/workflows/ci.yml\n" +
                   f"data {len(data)}\n".encode() + data + b"\n")
        if n % 10 == 0:
            readme = f"widget {n}\n".encode()
            out.append(b"M 100644 inline README.md\n" + f"data {len(readme)}\n".encode() +
                       readme + b"\n")
    return b"".join(out) + b"done\n", events


def test_a_long_history_in_one_stream(tmp_path: Path) -> None:
    """50,000 commits made with git fast-import: the audit reads them all (no timing here;
    docs/history.md has the measured figure)."""
    commits = 50_000
    repo = Repo(tmp_path / "big")
    stream, events = _fast_import_stream(commits)
    marks = tmp_path / "marks"
    subprocess.run([GIT or "git", "fast-import", "--quiet", "--done",
                    f"--export-marks={marks}"], input=stream, cwd=repo.root, check=True,
                   env=_env("2021-01-01T00:00:00+00:00"), capture_output=True)
    repo.git("reset", "-q", "--hard", "main")
    hashes = dict(line.split() for line in marks.read_text().splitlines())
    audit = audit_history(repo.root)
    assert audit.commits == commits
    found = by_name(audit)
    assert set(found) == {"PYPI_API_TOKEN", "TEST_PYPI_TOKEN"}
    old, new = found["PYPI_API_TOKEN"], found["TEST_PYPI_TOKEN"]
    assert old.history.first is not None and old.history.last is not None
    assert old.history.first.hash == hashes[f":{events['added']}"]
    assert old.history.last.hash == hashes[f":{events['removed']}"]
    assert old.history.commits == 2 and not old.still_used
    assert new.history.first is not None
    assert new.history.first.hash == hashes[f":{events['test_added']}"]
    assert new.history.indexes == ("testpypi",) and new.still_used
    assert [(u.path, u.job) for u in old.history.usages] == [
        (".github/workflows/ci.yml", "release")]


def test_github_names_are_case_insensitive_and_reusable_inputs_are_not_secrets() -> None:
    lines = ["+          password: ${{ secrets.pypi_token }}",
             "+          password: ${{ secrets.pypi-token }}",
             "+          PYPI_TOKEN: ${{ secrets.PYPI_TOKEN }}"]
    found = recognise(".github/workflows/release.yml", "", lines)
    assert [s.credential.name for s in found.sightings] == ["PYPI_TOKEN", "PYPI_TOKEN"]


def test_a_token_added_and_removed_on_a_merged_branch_is_found(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00", {"tox.ini": "[tox]\n"})
    repo.git("checkout", "-q", "-b", "feature")
    added = repo.commit("2021-01-02T00:00:00+00:00",
                        {"tox.ini": f"[testenv:release]\nsetenv = TWINE_PASSWORD={TOKEN}\n"})
    repo.commit("2021-01-03T00:00:00+00:00", {"tox.ini": "[tox]\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("2021-01-04T00:00:00+00:00", {"README.md": "x\n"})
    repo.git("merge", "-q", "--no-ff", "-m", "merge", "feature",
             date="2021-01-05T00:00:00+00:00")
    [item] = audit_history(repo.root).credentials
    assert item.history.first is not None and item.history.first.hash == added
    assert [(u.path, u.job) for u in item.history.usages] == [("tox.ini", "testenv:release")]


def test_a_job_named_like_an_event_is_a_job() -> None:
    # twine's release job, added after the docs job: git names "  docs:" above the hunk
    lines = ["       - name: Build docs", "         run: python -m tox -e docs", "+",
             "+  release:", "+    runs-on: ubuntu-latest", "+    steps:",
             "+      - run: tox -e release", "+        env:",
             "+          TWINE_PASSWORD: ${{ secrets.PYPI_TOKEN }}"]
    found = recognise(".github/workflows/main.yml", "  docs:", lines)
    assert [s.job for s in found.sightings] == ["release"]
    top = recognise(".github/workflows/main.yml", "on:",
                    ["+env:", "+  TWINE_PASSWORD: ${{ secrets.PYPI_TOKEN }}"])
    assert [s.job for s in top.sightings] == [None]


def test_hostile_file_names_are_printed_inert(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    name = ".github/workflows/x\x1b[2J\n::error::y.yml"
    repo.commit("2021-01-01T00:00:00+00:00", {name: workflow(WITH_TOKEN)})
    audit = audit_history(repo.root)
    [item] = audit.credentials
    assert item.history.files == (name,) and item.still_used
    text = render_text(audit, "r")
    assert "\x1b" not in text and "\\x1b" in text
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())
    assert json.loads(render_json(audit, "r"))["credentials"][0]["usages"][0]["path"] == name


def test_short_help() -> None:
    code, out, _ = invoke("history", "-h")
    assert code == 0 and "Usage: pubaudit history" in out and "--exit-zero" in out
    code, out, _ = invoke("--help")
    assert code == 0 and "history" in out


def test_other_ci_services_and_windows_variables(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2016-01-01T00:00:00+00:00", {
        "appveyor.yml": """environment:
  PYPI_PASSWD:
    secure: c2VjcmV0
deploy_script:
  - ps: Invoke-Expression "python -m twine upload -u __token__ --password $env:PYPI_PASSWD dist/*"
  - cmd: python -m twine upload -p %WHEEL_UPLOAD% dist/*.whl
  - ps: echo $env:PYTHON
""",
        ".travis.yml": "deploy:\n  script: twine upload -u __token__ -p $TRAVIS_PYPI dist/*\n"})
    repo.commit("2020-01-01T00:00:00+00:00", {"appveyor.yml": None, ".travis.yml": None})
    audit = audit_history(repo.root)
    found = {name: c.history.feeds for name, c in by_name(audit).items()}
    assert found == {"PYPI_PASSWD": ("twine --password",), "WHEEL_UPLOAD": ("twine -p",),
                     "TRAVIS_PYPI": ("twine -p",)}
    assert all(c.history.credential.platform == "ci" for c in audit.credentials)
    assert "the settings of the CI service that ran appveyor.yml" in audit.checklist[0].text


def test_a_shallow_clone_says_what_is_missing(leftover: Repo, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run([GIT or "git", "clone", "-q", "--depth", "1", leftover.root.as_uri(),
                    str(clone)], check=True, capture_output=True,
                   env=_env("2024-01-01T00:00:00+00:00"))
    audit = audit_history(clone)
    assert audit.credentials == () and audit.commits == 1
    assert audit.notes[0].startswith("this is a shallow clone")
    assert "fetch-depth: 0" in render_text(audit, "clone")
    assert not audit_history(leftover.root).notes


def test_long_lines_are_cut_and_counted() -> None:
    from io import BytesIO

    from auditor.history.gitlog import MAX_LINE, LogStream, _lines

    huge = b"+" + b"a" * (3 * 1024 * 1024)  # spans several reads of the pipe
    data = b"first\n" + huge + b"\n" + b"b" * (MAX_LINE + 5) + b"\nlast\n" + b"tail"
    stream = LogStream(iter(()))
    lines = list(_lines(stream, BytesIO(data)))
    assert [len(line) for line in lines] == [5, MAX_LINE, MAX_LINE, 4, 4]
    assert lines[0] == "first" and lines[-2:] == ["last", "tail"]
    assert stream.long_lines == 2 and stream.exhausted and not stream.truncated


def test_a_stream_over_its_bound_is_cut_with_a_note(leftover: Repo,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from auditor.history import gitlog

    monkeypatch.setattr(gitlog, "MAX_BYTES", 64)
    audit = audit_history(leftover.root)
    assert audit.commits <= 1
    assert any("older commits were not read" in note for note in audit.notes)


def test_a_gitlab_variable_only_a_script_reads(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r", "git@gitlab.com:acme/widget.git")
    repo.commit("2021-01-01T00:00:00+00:00", {
        ".gitlab-ci.yml": "publish:\n  script:\n    - ./scripts/publish.sh\n",
        "scripts/publish.sh": '#!/bin/sh\ntwine upload -u __token__ -p "$PYPI_UPLOAD" dist/*\n',
        "scripts/minted.sh": 'TOKEN=$(python mint.py "$PYPI_ID_TOKEN")\n'
                             'twine upload -u __token__ -p "$TOKEN" dist/*\n'})
    audit = audit_history(repo.root)
    [item] = audit.credentials
    assert (item.history.credential.platform, item.history.credential.name) == (
        "gitlab", "PYPI_UPLOAD")
    assert item.history.feeds == ("twine -p",) and item.still_used
    assert [u.path for u in item.used_today] == ["scripts/publish.sh"]


def test_release_files_that_read_a_github_secret_are_listed_with_it(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00", {
        ".github/workflows/release.yml": """on: push
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - run: tox -e release && make upload
        env:
          TWINE_PASSWORD: ${{ secrets.PYPI_TOKEN }}
""",
        "tox.ini": "[testenv:release]\ncommands = twine upload -p {env:TWINE_PASSWORD} dist/*\n",
        "Makefile": "upload:\n\ttwine upload --password $(TWINE_PASSWORD) dist/*\n",
        "noxfile.py": 'def release(session):\n    token = os.environ["TWINE_PASSWORD"]\n'})
    removed = repo.commit("2023-01-01T00:00:00+00:00", {".github/workflows/release.yml":
                                                        "on: push\n"})
    audit = audit_history(repo.root)
    [item] = audit.credentials
    assert item.history.credential.name == "PYPI_TOKEN" and not item.still_used
    assert [(u.path, u.job) for u in item.history.usages] == [
        (".github/workflows/release.yml", "release"), ("Makefile", "upload"),
        ("noxfile.py", "release"), ("tox.ini", "testenv:release")]
    assert item.history.last is not None and item.history.last.hash == removed
    assert "tox.ini (section testenv:release)" in render_text(audit, "r")


def test_a_release_file_alone_is_the_maintainers_environment(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00", {
        ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    steps:\n      - run: tox\n",
        "Makefile": "release:\n\ttwine upload -p $(PYPI_TOKEN) dist/*\n"})
    assert audit_history(repo.root).credentials == ()


def test_the_repository_config_cannot_run_a_program(leftover: Repo, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    command = f"sh -c 'touch {marker}' --"
    for key, value in (("diff.evil.textconv", command), ("diff.evil.command", command),
                       ("diff.external", command), ("core.pager", command),
                       ("log.showSignature", "true"), ("gpg.program", command),
                       ("core.fsmonitor", command)):
        leftover.git("config", key, value)
    leftover.commit("2022-06-01T00:00:00+00:00", {".gitattributes": "* diff=evil\n",
                                                  ".github/workflows/x.yml": "on: push\n"})
    marker.unlink(missing_ok=True)  # committing may have run the fsmonitor hook
    audit = audit_history(leftover.root)
    assert [c.history.credential.name for c in audit.credentials] == ["PYPI_API_TOKEN"]
    assert not marker.exists()


def test_a_long_file_full_of_secrets_is_read_in_one_pass() -> None:
    # 5,000 credential lines in one job: each line's job and step come from one pass and
    # a bounded window, not a scan back to the top of the file per line
    lines = [" on: push", " jobs:", "   publish:", "     env:"]
    lines += [f"       TWINE_PASSWORD_{n}: ${{{{ secrets.PYPI_TOKEN_{n} }}}}"
              for n in range(5_000)]
    found = recognise(".github/workflows/release.yml", "", lines, every_line=True)
    assert len(found.sightings) == 5_000
    assert {s.job for s in found.sightings} == {"publish"}


def test_a_submodule_is_not_a_file_to_read(leftover: Repo) -> None:
    head = leftover.git("rev-parse", "HEAD")
    leftover.git("update-index", "--add", "--cacheinfo", f"160000,{head},scripts/vendored")
    (leftover.root / "scripts" / "vendored").mkdir(parents=True)
    leftover.commit("2022-06-01T00:00:00+00:00", {})
    audit = audit_history(leftover.root)
    assert audit.notes == () and len(audit.credentials) == 1


def test_a_commented_out_secret_is_not_used(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00",
                {".github/workflows/release.yml": workflow(WITH_TOKEN)})
    repo.commit("2022-01-01T00:00:00+00:00", {".github/workflows/release.yml": workflow(
        WITH_TOKEN.replace("password:", "# password:")),
        "scripts/notes.sh": f"# old token: {TOKEN}\n"})
    found = {c.history.credential.kind: c for c in audit_history(repo.root).credentials}
    assert not found["secret"].still_used  # commented out when migrating
    assert found["token"].still_used  # a token in a comment is committed all the same


@pytest.mark.parametrize(("declaration", "environment"), [
    ("    environment: pypi\n", ("pypi",)),
    ("    environment:\n      name: release\n      url: https://pypi.org/p/widget\n",
     ("release",)),
    ("    environment: { name: 'pypi', url: https://pypi.org/p/widget }\n", ("pypi",)),
    ("    environment: ${{ inputs.target }}\n", ()),
    ("", ()),
])
def test_the_jobs_environment_is_where_the_secret_may_live(
        tmp_path: Path, declaration: str, environment: tuple[str, ...]) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit("2021-01-01T00:00:00+00:00", {".github/workflows/release.yml": f"""on: push
jobs:
  build:
    runs-on: ubuntu-latest
    environment: docs
    steps:
      - run: make
  publish:
    runs-on: ubuntu-latest
{declaration}    steps:
      - run: twine upload dist/*
        env:
          TWINE_PASSWORD: ${{{{ secrets.PYPI_TOKEN }}}}
"""})
    repo.commit("2022-01-01T00:00:00+00:00", {".github/workflows/release.yml": "on: push\n"})
    audit = audit_history(repo.root)
    [item] = audit.credentials
    assert item.history.environments == environment
    delete = audit.checklist[0].text
    if environment:
        assert f"Settings → Environments → {environment[0]} (https://github.com/acme/widget/" \
               "settings/environments)" in delete
    else:
        assert "an environment secret is under Settings → Environments" in delete
