"""``--online`` from the command line: off by default (httpx not even imported), a clear
exit 2 without httpx, notices in every format without changing the exit code, and the
token in no output and no cache file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import REPO_ROOT
from tests.online_server import Recorded, serve

CASES = REPO_ROOT / "fixtures" / "cases"
TOKEN = "ghp_0123456789abcdefghijABCDEFGHIJ012345"


def run(args: list[str], env: dict[str, str] | None = None, cwd: Path = REPO_ROOT
        ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("GH_TOKEN", "GITHUB_TOKEN", "PUBAUDIT_CACHE_DIR")}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          env=base | (env or {}), timeout=120)


def test_without_online_httpx_is_not_imported() -> None:
    result = run(["-X", "importtime", "-m", "auditor", "scan", "fixtures/demo"])
    assert result.returncode == 1
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "auditor.engine.scan" in imported
    assert not {m for m in imported if m.split(".")[0] in ("httpx", "httpcore", "anyio")}
    assert not {m for m in imported if m.startswith("auditor.online")}


def test_online_without_httpx_exits_2_with_an_install_hint(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "httpx"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named httpx')\n")
    result = run(["-m", "auditor", "scan", "fixtures/demo", "--online"],
                 {"PYTHONPATH": f"{tmp_path / 'shadow'}{os.pathsep}{REPO_ROOT}"})
    assert result.returncode == 2
    assert "--online needs httpx" in result.stderr and "pubaudit[online]" in result.stderr
    assert result.stdout == ""


def test_no_cache_without_online_is_a_usage_error() -> None:
    result = run(["-m", "auditor", "scan", "fixtures/demo", "--no-cache"])
    assert result.returncode == 2 and "--no-cache" in result.stderr


def test_help_names_online() -> None:
    result = run(["-m", "auditor", "scan", "--help"])
    assert "--online" in result.stdout and "--no-cache" in result.stdout


def _online(case: str, args: list[str], tmp_path: Path, token: str | None = TOKEN,
            cache: bool = True, runs: int = 1, command: str = "scan"
            ) -> tuple[subprocess.CompletedProcess[str], dict[str, Recorded], Path]:
    source = CASES / case
    recorded = json.loads((source / "exchanges.json").read_text(encoding="utf-8"))
    root = tmp_path / "repo"
    if not root.exists():
        shutil.copytree(source, root, ignore=shutil.ignore_patterns("exchanges.json"))
        if (root / "dot-git").is_dir():
            (root / "dot-git").rename(root / ".git")
    cache_dir = tmp_path / "cache"
    with ExitStack() as stack:
        servers = {name: stack.enter_context(serve(recorded.get(name, [])))
                   for name in ("github", "server", "pypi", "testpypi")}
        env = {"GITHUB_API_URL": servers["github"].url,
               "GITHUB_SERVER_URL": servers["server"].url,
               "PUBAUDIT_PYPI_URL": servers["pypi"].url,
               "PUBAUDIT_TESTPYPI_URL": servers["testpypi"].url,
               "PUBAUDIT_CACHE_DIR": str(cache_dir), "NO_PROXY": "127.0.0.1"}
        if token:
            env["GH_TOKEN"] = token
        for _ in range(runs):  # the last run's requests only
            for server in servers.values():
                server.requests.clear()
            result = run(["-m", "auditor", command, str(root), "--online",
                          *([] if cache else ["--no-cache"]), *args], env)
    return result, servers, cache_dir


NOTICE_CASE = "unprotected-environment/silent-environments-forbidden-is-a-notice"
ONE = ["--select", "unprotected-environment"]


def test_json_notices_validate_and_do_not_change_the_exit_code(tmp_path: Path) -> None:
    result, _, _ = _online(NOTICE_CASE, ["-f", "json", *ONE], tmp_path)
    document = json.loads(result.stdout)
    schema = json.loads((REPO_ROOT / "auditor" / "schemas" / "report.schema.json")
                        .read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    (notice,) = document["notices"]
    assert notice["status"] == 403 and notice["rule"] == "unprotected-environment"
    assert notice["endpoint"].endswith("/repos/acme/widget/environments?per_page=100")
    assert "actions=read" in notice["message"]
    offline = run(["-m", "auditor", "scan", str(CASES / NOTICE_CASE), "-f", "json", *ONE])
    assert result.returncode == offline.returncode
    assert "notices" not in json.loads(offline.stdout)
    assert result.stderr == "", "no progress line when stderr is not a terminal"


def test_sarif_notices_are_tool_execution_notifications(tmp_path: Path) -> None:
    from tests.test_formats import assert_valid_sarif

    result, _, _ = _online(NOTICE_CASE, ["-f", "sarif", *ONE], tmp_path)
    document: dict[str, Any] = json.loads(result.stdout)
    assert_valid_sarif(document)
    (invocation,) = document["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["associatedRule"] == {"id": "unprotected-environment"}
    assert "actions=read" in note["message"]["text"]


def test_text_prints_notices_and_the_token_nowhere(tmp_path: Path) -> None:
    result, servers, cache_dir = _online(NOTICE_CASE, ONE, tmp_path)
    assert "notice: unprotected-environment: could not read the environments" in result.stdout
    assert "1 notice (not checked)" in result.stdout
    assert TOKEN not in result.stdout + result.stderr
    assert all(r.headers.get("authorization") == f"Bearer {TOKEN}"
               for r in servers["github"].requests)
    for path in cache_dir.rglob("*"):
        if path.is_file():
            assert TOKEN not in path.read_text(encoding="utf-8", errors="replace")


def test_private_repository_answers_are_not_cached(tmp_path: Path) -> None:
    _, _, cache_dir = _online(
        "unprotected-environment/silent-private-repository-plan-limits", ONE, tmp_path)
    assert list(cache_dir.glob("*.json")) == [], "a private repository: nothing stored"


def test_second_run_is_answered_by_the_cache(tmp_path: Path) -> None:
    result, servers, _ = _online("unprotected-environment/fires-no-protection-at-all", ONE,
                                 tmp_path, runs=2)
    assert "unprotected-environment" in result.stdout
    assert servers["github"].requests == [], "both answers were fresh (max-age=60)"


def test_secret_listings_are_never_cached(tmp_path: Path) -> None:
    case = "leftover-secret/fires-repository-organisation-and-environment-secrets"
    result, servers, cache_dir = _online(case, ["--select", "leftover-secret"], tmp_path,
                                         runs=2)
    assert "PYPI_API_TOKEN" in result.stdout
    assert all("secrets" in path for path in servers["github"].paths())
    assert len(servers["github"].paths()) == 3
    for path in cache_dir.glob("*.json"):
        assert "secrets" not in json.loads(path.read_text())["url"]


def test_no_cache_writes_nothing(tmp_path: Path) -> None:
    _, _, cache_dir = _online("unprotected-environment/fires-no-protection-at-all", ONE,
                              tmp_path, cache=False)
    assert not cache_dir.exists()


def test_token_is_not_sent_over_plain_http_to_another_host(tmp_path: Path) -> None:
    from auditor.online.settings import may_carry_token

    assert may_carry_token("https://api.github.com")
    assert may_carry_token("http://127.0.0.1:8080")
    assert not may_carry_token("http://github.example.com")


@pytest.mark.parametrize("flag", ["scan", "publishers"])
def test_online_is_offered_by_scan_and_publishers(flag: str) -> None:
    assert "--online" in run(["-m", "auditor", flag, "--help"]).stdout


def test_publishers_online_shows_what_the_provenance_recorded(tmp_path: Path) -> None:
    case = "provenance-mismatch/fires-published-from-another-repository"
    result, servers, _ = _online(case, [], tmp_path, command="publishers", token=None)
    assert result.returncode == 0
    assert ("job publish → PyPI: Widget_Tools 0.2.0 by GitHub repository someone/widget-fork, "
            "workflow release.yml, environment pypi (NOT this job)") in result.stdout
    assert servers["github"].requests == []
    as_json, _, _ = _online(case, ["-f", "json"], tmp_path / "json", command="publishers",
                            token=None)
    document = json.loads(as_json.stdout)
    (row,) = document["provenance"]
    assert row["this_job"] is False and row["version"] == "0.2.0"
    assert row["publishers"] == [{"kind": "GitHub", "repository": "someone/widget-fork",
                                  "workflow": "release.yml", "environment": "pypi"}]
    assert document["notices"] == [] and document["publishers"]


def test_publishers_online_refuses_toml() -> None:
    result = run(["-m", "auditor", "publishers", "fixtures/demo", "--online", "-f", "toml"])
    assert result.returncode == 2 and "text and json" in result.stderr


def _stderr_on_a_terminal(case: str, args: list[str], tmp_path: Path) -> str:
    """Run ``scan --online`` with stderr on a pseudo-terminal; what it wrote there."""
    import pty

    source = CASES / case
    recorded = json.loads((source / "exchanges.json").read_text(encoding="utf-8"))
    root = tmp_path / "repo"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("exchanges.json"))
    (root / "dot-git").rename(root / ".git")
    with serve(recorded["github"]) as github:
        primary, secondary = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
        env |= {"GITHUB_API_URL": github.url, "NO_PROXY": "127.0.0.1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "auditor", "scan", str(root), "--online", "--no-cache",
             "--select", "unprotected-environment", *args], cwd=REPO_ROOT, env=env,
            stdout=subprocess.PIPE, stderr=secondary)
        os.close(secondary)
        process.communicate(timeout=60)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(primary)
    return b"".join(chunks).decode("utf-8", errors="replace")


def test_progress_line_on_a_terminal_only_without_quiet(tmp_path: Path) -> None:
    case = "unprotected-environment/fires-no-protection-at-all"
    shown = _stderr_on_a_terminal(case, [], tmp_path / "a")
    assert "pubaudit: online call 1:" in shown and "online call 2:" in shown
    assert shown.endswith("\r\x1b[K"), "the line is cleared before the report"
    assert _stderr_on_a_terminal(case, ["-q"], tmp_path / "b") == ""


def test_token_is_not_sent_over_http_to_another_host() -> None:
    from auditor.online.run import Runner
    from auditor.online.settings import Settings

    runner = Runner(Settings(github_api="http://github.example.com", token="ghp_secret",
                             token_source="GH_TOKEN"))
    client = runner.github
    assert not client.has_token
    assert "authorization" not in {k.lower() for k in client.transport._client.headers}
    assert runner._token_notice is not None and "not sent" in runner._token_notice.message
    runner.close()


def test_pypi_client_never_has_credentials() -> None:
    from auditor.online.run import Runner
    from auditor.online.settings import Settings

    runner = Runner(Settings(token="ghp_secret", token_source="GH_TOKEN"))
    for index in ("pypi", "testpypi"):
        headers = runner.index(index).transport._client.headers
        assert "authorization" not in {k.lower() for k in headers}
    assert runner.server()._client.headers.get("authorization") is None
    runner.close()


@pytest.mark.parametrize("fmt,expected", [
    ("concise", "notice: unprotected-environment: could not read the environments"),
    ("github", "::warning title=pubaudit%3A not checked (unprotected-environment)::could not"),
    ("markdown", "### Not checked (online)"),
])
def test_other_formats_show_notices(fmt: str, expected: str, tmp_path: Path) -> None:
    result, _, _ = _online(NOTICE_CASE, ["-f", fmt, *ONE], tmp_path)
    assert expected in result.stdout, result.stdout


def test_several_repositories_name_the_root_of_each_notice(tmp_path: Path) -> None:
    case = CASES / NOTICE_CASE
    recorded = json.loads((case / "exchanges.json").read_text(encoding="utf-8"))
    roots = []
    for name in ("one", "two"):
        root = tmp_path / name
        shutil.copytree(case, root, ignore=shutil.ignore_patterns("exchanges.json"))
        (root / "dot-git").rename(root / ".git")
        roots.append(str(root))
    with serve(recorded["github"]) as github:
        result = run(["-m", "auditor", "scan", *roots, "--online", "--no-cache", "-f", "json",
                      *ONE], {"GITHUB_API_URL": github.url, "GH_TOKEN": TOKEN,
                              "NO_PROXY": "127.0.0.1"})
    document = json.loads(result.stdout)
    schema = json.loads((REPO_ROOT / "auditor" / "schemas" / "report.schema.json")
                        .read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)
    # each repository asks for itself, and each notice names the root it belongs to
    assert sorted(n["root"] for n in document["notices"]) == sorted(roots)
