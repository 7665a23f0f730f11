"""``pubaudit history --online``: GitHub says which of the history's secrets are still
stored (repository, organisation, the jobs' environments), so the checklist deletes what
exists and skips what is gone; without a token or an answer, a notice and the offline
checklist. Real git repositories and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import REPO_ROOT
from tests.online_server import Recorded, serve
from tests.test_history import GIT, Repo, workflow

pytest.importorskip("httpx")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")
TOKEN = "ghp_0123456789abcdefghijABCDEFGHIJ012345"
SCHEMA = json.loads((REPO_ROOT / "auditor" / "schemas" / "history.schema.json")
                    .read_text(encoding="utf-8"))


def _listing(*names: str) -> dict[str, Any]:
    return {"total_count": len(names),
            "secrets": [{"name": n, "created_at": "2023-03-01T10:00:00Z",
                         "updated_at": "2023-03-01T10:00:00Z"} for n in names]}


ANSWERS = [
    {"path": "/repos/acme/widget/actions/secrets*", "json": _listing("PYPI_API_TOKEN",
                                                                        "CODECOV_TOKEN")},
    {"path": "/repos/acme/widget/actions/organization-secrets*", "json": _listing()},
    {"path": "/repos/acme/widget/environments/pypi/secrets*", "json": _listing()},
]


def _repository(tmp_path: Path) -> Path:
    repo = Repo(tmp_path / "widget")
    repo.commit("2022-01-01T12:00:00+00:00", {".github/workflows/release.yml": workflow(
        "        with:\n          password: ${{ secrets.OLD_PYPI_TOKEN }}\n")})
    repo.commit("2023-01-01T12:00:00+00:00", {".github/workflows/release.yml": workflow(
        "        with:\n          password: ${{ secrets.PYPI_API_TOKEN }}\n")})
    repo.commit("2024-01-01T12:00:00+00:00", {".github/workflows/release.yml": workflow("")},
                "trusted publishing")
    return repo.root


def _history(root: Path, answers: list[dict[str, Any]], token: str | None, tmp_path: Path
             ) -> tuple[subprocess.CompletedProcess[str], Recorded]:
    with serve(answers) as github:
        env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
        env |= {"GITHUB_API_URL": github.url, "PUBAUDIT_CACHE_DIR": str(tmp_path / "cache"),
                "NO_PROXY": "127.0.0.1"}
        if token:
            env["GH_TOKEN"] = token
        result = subprocess.run([sys.executable, "-m", "auditor", "history", str(root),
                                 "--online", "-f", "json"], capture_output=True, text=True,
                                env=env, cwd=REPO_ROOT, timeout=120)
    return result, github


def test_secrets_still_stored_are_deleted_and_gone_ones_skipped(tmp_path: Path) -> None:
    result, github = _history(_repository(tmp_path), ANSWERS, TOKEN, tmp_path)
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    stored = {c["name"]: c["stored"] for c in document["credentials"]}
    assert stored == {"PYPI_API_TOKEN": ["repository secret of acme/widget"],
                      "OLD_PYPI_TOKEN": []}
    deletes = [s for s in document["checklist"] if s["action"] == "delete-secret"]
    assert [s["credentials"] for s in deletes] == [["PYPI_API_TOKEN"]]
    assert "stored today as repository secret of acme/widget" in deletes[0]["text"]
    revokes = [s for s in document["checklist"] if s["action"] == "revoke-token"]
    assert "OLD_PYPI_TOKEN" in revokes[0]["text"], "a deleted secret's token may still work"
    assert document["notices"] == []
    assert not github.unmatched
    assert TOKEN not in result.stdout + result.stderr


def test_without_a_token_a_notice_and_the_offline_checklist(tmp_path: Path) -> None:
    result, github = _history(_repository(tmp_path), ANSWERS, None, tmp_path)
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    assert all(c["stored"] is None for c in document["credentials"])
    assert len([s for s in document["checklist"] if s["action"] == "delete-secret"]) == 2
    (notice,) = document["notices"]
    assert "GH_TOKEN" in notice["message"]
    assert github.requests == []


def test_a_forbidden_listing_is_a_notice_not_a_deletion(tmp_path: Path) -> None:
    forbidden = [{"path": "/repos/acme/widget/actions/secrets*", "status": 403,
                  "headers": {"X-Accepted-GitHub-Permissions": "secrets=read"},
                  "json": {"message": "Resource not accessible by personal access token"}}]
    result, _ = _history(_repository(tmp_path), forbidden, TOKEN, tmp_path)
    document = json.loads(result.stdout)
    assert all(c["stored"] is None for c in document["credentials"])
    assert len([s for s in document["checklist"] if s["action"] == "delete-secret"]) == 2
    assert document["notices"] and document["notices"][0]["status"] == 403
    assert result.returncode == 0


def test_text_names_where_each_secret_is_stored(tmp_path: Path) -> None:
    root = _repository(tmp_path)
    with serve(ANSWERS) as github:
        env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
        env |= {"GITHUB_API_URL": github.url, "GH_TOKEN": TOKEN, "NO_PROXY": "127.0.0.1",
                "PUBAUDIT_CACHE_DIR": str(tmp_path / "cache")}
        result = subprocess.run([sys.executable, "-m", "auditor", "history", str(root),
                                 "--online"], capture_output=True, text=True, env=env,
                                cwd=REPO_ROOT, timeout=120)
    assert "stored:      repository secret of acme/widget" in result.stdout
    assert "stored:      nowhere" in result.stdout
