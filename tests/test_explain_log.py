"""``pubaudit explain-log``: log parsing, diagnosis against the repository, the CLI.

The logs under ``fixtures/logs/`` are written in the formats the tools print (GitHub's
timestamped download with ``##[error]`` markers and ``%0A``-encoded workflow commands, the
step summary, uv's Debug rendering of its claims, twine's errors, GitLab's raw log with
section markers and colours). The repositories are built with ``write_tree`` and read with
the real configuration and workflow loaders.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.explainlog.explain import ONLINE_RULES, Diagnosis, diagnose
from auditor.explainlog.parse import LogFacts, logical_lines, parse_log
from auditor.explainlog.read import LogReadError, LogText, read_log
from auditor.explainlog.report import as_dict, explain, render_text
from auditor.publishers.sides import publisher_sides
from auditor.reading.catalogue import load_catalogue
from tests.conftest import REPO_ROOT, release_workflow, write_tree

LOGS = REPO_ROOT / "fixtures" / "logs"


def text_of(path: Path) -> str:
    """Bytes decoded as the command does (``read_text`` would turn GitLab's ``\r`` into
    line breaks)."""
    return path.read_bytes().decode("utf-8")


def facts_of(name: str) -> LogFacts:
    return parse_log(text_of(LOGS / name))


# ----------------------------------------------------------------- a repository to compare



def publisher(**values: object) -> str:
    """One ``[[tool.pubaudit.publishers]]`` table; defaults match the logs' run."""
    table = {"index": "pypi", "owner": "acme", "repository": "widget",
             "workflow": "release.yml", "environment": "pypi"} | values
    lines = ["[[tool.pubaudit.publishers]]"]
    for key, value in table.items():
        if value is None:
            continue
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def make_repo(root: Path, *tables: str, workflow: str = "release.yml",
              environment: str | None = "pypi", project: str = "acme-widget",
              remote: str = "acme/widget") -> Path:
    files = {
        "pyproject.toml": f'[project]\nname = "{project}"\nversion = "1.2.0"\n\n'
                          + "\n".join(tables),
        f".github/workflows/{workflow}": release_workflow(environment=environment or None),
        ".git/config": f'[remote "origin"]\n\turl = https://github.com/{remote}.git\n',
    }
    return write_tree(root, files)


def diagnose_log(name: str, root: Path) -> list[Diagnosis]:
    sides = publisher_sides(root)
    assert sides.config_errors == ()
    return diagnose(facts_of(name), sides.declarations, sides.expected,
                    sides.project.name if sides.project else None)


def only_failure(diagnoses: list[Diagnosis]) -> Diagnosis:
    failures = [d for d in diagnoses if not d.warning]
    assert len(failures) == 1, [d.kind for d in diagnoses]
    return failures[0]


def assert_never_weakens(diagnosis: Diagnosis) -> None:
    """No advice to unpin, drop an environment, or go back to tokens."""
    texts = [diagnosis.fix, *(m.fix for m in diagnosis.mismatches), *diagnosis.notes]
    for text in texts:
        assert not re.search(r"remove (the |its )?(job'?s? )?`?environment", text, re.I), text
        assert "Environment name empty" not in text
        assert "@release/v1`" not in text.replace("never `@release/v1`", ""), text
        assert not re.search(r"(use|add|create) an API token", text, re.I), text


# ----------------------------------------------------------------- normalising lines


def test_logical_lines_strip_github_dress() -> None:
    raw = "2026-03-14T09:26:53.1234567Z ##[error]\x1b[31mFile already exists\x1b[0m"
    assert logical_lines(raw) == ["File already exists"]
    encoded = "2026-03-14T09:26:53.1234567Z ::error::Trusted publishing exchange failure: " \
              "%0AToken request failed%0A%0A* `sub`: `repo:a/b:ref:refs/heads/main`"
    assert logical_lines(encoded) == ["Trusted publishing exchange failure:",
                                      "Token request failed", "",
                                      "* `sub`: `repo:a/b:ref:refs/heads/main`"]


def test_logical_lines_strip_gh_cli_prefix_and_crlf() -> None:
    raw = "publish\tPublish to PyPI\t\ufeff2026-03-14T09:26:53.1234567Z * `ref`: `refs/tags/v1`\r"
    assert logical_lines(raw) == ["* `ref`: `refs/tags/v1`"]
    assert logical_lines("a\tb\tnot a timestamp") == ["a\tb\tnot a timestamp"]


def test_crlf_log_keeps_line_numbers() -> None:
    text = (LOGS / "gha-multiline-error.log").read_bytes().decode().replace("\n", "\r\n")
    facts = parse_log(text)
    assert facts == parse_log(text.replace("\r\n", "\n"))


def test_logical_lines_strip_gitlab_dress() -> None:
    raw = "section_start:1741950010:step_script\r\x1b[0K\x1b[0K\x1b[36;1mExecuting " \
          "\"step_script\" stage of the job script\x1b[0;m"
    assert logical_lines(raw) == ['Executing "step_script" stage of the job script']
    stamped = "2024-05-06T10:11:12.123456Z 01O+ GitLab: Environment variable X not found"
    assert logical_lines(stamped) == ["GitLab: Environment variable X not found"]


# ----------------------------------------------------------------- what the parser finds

PARSED = {
    # file: (failure kinds, tool, platform, index of the first failure)
    "gha-workflow-extension.log": ({"exchange-failed", "invalid-publisher"},
                                   "gh-action-pypi-publish", "github", None),
    "gha-multiline-error.log": ({"exchange-failed", "invalid-publisher"},
                                "gh-action-pypi-publish", "github", None),
    "gha-testpypi.log": ({"exchange-failed", "invalid-publisher"},
                         "gh-action-pypi-publish", "github", "testpypi"),
    "gha-step-summary.md": ({"exchange-failed", "invalid-publisher"},
                            "gh-action-pypi-publish", "github", None),
    "gha-missing-id-token.log": ({"exchange-failed", "missing-id-token"},
                                 "gh-action-pypi-publish", "github", None),
    "gha-fork-pull-request.log": ({"exchange-failed", "missing-id-token", "fork-pull-request"},
                                  "gh-action-pypi-publish", "github", None),
    "gha-tag-object-pin.log": ({"image-not-found"}, "gh-action-pypi-publish", "github", None),
    "gha-non-linux-runner.log": ({"non-linux-runner"}, "gh-action-pypi-publish", "github",
                                 None),
    "gha-caller-denies-id-token.log": ({"caller-denies-id-token"}, None, "github", None),
    "gha-password-login.log": ({"password-login"}, "gh-action-pypi-publish", "github", None),
    "gha-file-exists.log": ({"file-exists"}, "gh-action-pypi-publish", "github", "pypi"),
    "gha-non-user-identity.log": ({"non-user-identity"}, "gh-action-pypi-publish", "github",
                                  "pypi"),
    "gha-pending-project-exists.log": ({"exchange-failed", "invalid-pending-publisher"},
                                       "gh-action-pypi-publish", "github", None),
    "gha-duplicate-attestation.log": ({"duplicate-attestation"}, "gh-action-pypi-publish",
                                      "github", "pypi"),
    "gha-attestation-build-config.log": ({"attestation-identity-mismatch"},
                                         "gh-action-pypi-publish", "github", "pypi"),
    "gha-invalid-auth.log": ({"invalid-auth"}, "gh-action-pypi-publish", "github", "pypi"),
    "gha-unknown-issuer.log": ({"exchange-failed", "unknown-issuer"},
                               "gh-action-pypi-publish", "github", None),
    "gha-job-workflow-ref.log": ({"exchange-failed", "invalid-publisher"},
                                 "gh-action-pypi-publish", "github", None),
    "gha-pull-request-target.log": ({"exchange-failed", "pull-request-target"},
                                    "gh-action-pypi-publish", "github", None),
    "gha-project-not-allowed.log": ({"project-not-allowed"}, "gh-action-pypi-publish",
                                    "github", "pypi"),
    "gha-metadata-too-new.log": ({"metadata-too-new"}, "gh-action-pypi-publish", "github",
                                 None),
    "gha-no-distributions.log": ({"no-distributions"}, "gh-action-pypi-publish", "github",
                                 None),
    "gha-reuse-token.log": ({"exchange-failed", "invalid-reuse-token"},
                            "gh-action-pypi-publish", "github", None),
    "gha-environment-protection.log": ({"caller-environment-protection"}, None, "github",
                                       None),
    "gha-reusable-caller.log": ({"reusable-workflow-warning", "exchange-failed",
                                 "invalid-publisher"}, "gh-action-pypi-publish", "github",
                                None),
    "uv-claims-struct.log": ({"exchange-failed", "invalid-publisher"}, "uv", "github", "pypi"),
    "uv-claims-enum.log": ({"exchange-failed", "invalid-publisher"}, "uv", "github",
                           "testpypi"),
    "uv-missing-credentials.log": ({"uv-missing-credentials"}, "uv", "github", "pypi"),
    "uv-id-token-permission.log": ({"missing-id-token"}, "uv", "github", "pypi"),
    "twine-invalid-publisher.log": ({"exchange-failed", "invalid-publisher"}, "twine",
                                    "github", "pypi"),
    "gitlab-twine-id-token.log": ({"exchange-failed", "gitlab-id-token-missing"}, "twine",
                                  "gitlab", "pypi"),
    "gitlab-uv-claims.log": ({"exchange-failed", "invalid-publisher"}, "uv", "gitlab", "pypi"),
    "gh-run-view-log-failed.log": ({"exchange-failed", "invalid-publisher"},
                                   "gh-action-pypi-publish", "github", None),
    "unknown.log": (set(), None, "github", None),
    "empty.log": (set(), None, None, None),
}


@pytest.mark.parametrize("name", sorted(PARSED))
def test_parse_fixture_logs(name: str) -> None:
    kinds, tool, platform, index = PARSED[name]
    facts = facts_of(name)
    assert {f.kind for f in facts.failures} == kinds
    assert (facts.tool, facts.platform, facts.index) == (tool, platform, index)


def test_every_fixture_log_is_covered() -> None:
    assert {p.name for p in LOGS.iterdir()} == set(PARSED) | {
        "gha-environment-missing.log", "gha-environment-different.log",
        "gha-environment-case.log", "gha-owner-renamed.log", "gha-repository-case.log"}


@pytest.mark.parametrize("path", sorted(LOGS.iterdir()), ids=lambda p: p.name)
def test_trigger_scan_finds_what_a_full_scan_finds(path: Path) -> None:
    text = text_of(path)
    assert parse_log(text) == parse_log(text, every_line=True)


MESSAGES = [
    ("Credential not found for API token.", "twine-no-credentials"),
    ("WARNING  This environment is not supported for trusted publishing",
     "twine-no-credentials"),
    ("error: No OIDC token discovered: are you in a supported trusted publishing environment?",
     "uv-no-oidc"),
    ("audience retrieval failed: repository at pypi.example.com does not indicate trusted "
     "publishing support", "audience-not-supported"),
    ("* `not-enabled`: GitHub trusted publishing functionality not enabled", "not-enabled"),
    ("* `invalid-token`: malformed or invalid token", "invalid-token"),
    ("* `invalid-payload`: malformed JWT", "invalid-payload"),
    ("##[error]Container action is only supported on Linux", "non-linux-runner"),
    ("python: can't open file '/home/runner/work/_actions/pypa/gh-action-pypi-publish/release/"
     "v1/create-docker-action.py': [Errno 2] No such file or directory", "container-job"),
    ("400 Bad Request Invalid attestations supplied during upload: Attestations are only "
     "supported when using Trusted Publishing", "attestations-need-trusted-publishing"),
    ("403 Invalid API Token: project-scoped token is not valid for project: 'foo'",
     "token-scope"),
    ("HTTPError: 403 Forbidden The user 'bob' isn't allowed to upload to project 'foo'.",
     "project-not-allowed"),
    ('You are using "pypa/gh-action-pypi-publish@master". The "master" branch of this project '
     "has been sunset and will not receive any updates", "master-branch-sunset"),
    ("* `invalid-publisher`: valid token, but no corresponding publisher (JWT issuer "
     "https://ghe.example/_services/token does not match expected issuer)", "unknown-issuer"),
    ("InvalidDistribution: Invalid distribution metadata: unrecognized or malformed field "
     "'license-file'", "metadata-too-new"),
    ("Failed to get PyPI token via GitHub Actions OIDC", "missing-id-token"),
    ("GitHub: missing or insufficient OIDC token permissions, the ACTIONS_ID_TOKEN_REQUEST_URL "
     "environment variable was unset", "missing-id-token"),
    ("Environment variable ACTIONS_ID_TOKEN_REQUEST_TOKEN not set, is the `id-token: write` "
     "permission missing?", "missing-id-token"),
    ("HTTPError: 400 Bad Request from https://upload.pypi.org/legacy/ User bob has two factor "
     "auth enabled, an API Token or Trusted Publisher must be used to upload in place of "
     "password.", "password-login"),
    ("The following distributions already have publish attestations: dist/a.whl",
     "duplicate-attestation"),
    ("ERROR    InvalidDistribution: Unknown distribution format: 'artifact'",
     "no-distributions"),
]


@pytest.mark.parametrize(("message", "kind"), MESSAGES)
def test_one_line_messages(message: str, kind: str) -> None:
    dressed = parse_log(f"2026-03-14T09:26:53.1234567Z ##[error]\x1b[31m{message}\x1b[0m\n")
    kinds = {f.kind for f in dressed.failures}
    assert kind in kinds
    assert {f.kind for f in parse_log(message, every_line=True).failures} == kinds


def test_guards_hold_on_every_line_a_pattern_matches() -> None:
    """Each pattern's guard literals are a fast reject: no line the pattern matches may lack
    all of them (checked on the fixtures and the messages above)."""
    from auditor.explainlog.parse import PATTERNS

    texts = [text_of(p) for p in LOGS.iterdir()] + [m for m, _ in MESSAGES]
    checked = 0
    for text in texts:
        for raw in text.split("\n"):
            for line in logical_lines(raw):
                for pattern in PATTERNS:
                    if pattern.regex.search(line):
                        checked += 1
                        assert any(g in line for g in pattern.guard), (pattern.kind, line)
    assert checked > 60


def test_action_claims_with_lines_and_missing() -> None:
    facts = facts_of("gha-step-summary.md")
    [claims] = facts.claim_sets
    assert claims.source == "gh-action-pypi-publish"
    assert claims.value("job_workflow_ref") == \
        "acme/widget/.github/workflows/release.yml@refs/tags/v1.2.0"
    environment = claims.get("environment")
    assert environment is not None and environment.value is None and environment.line == 24
    assert [f.line for f in facts.failures if f.kind == "invalid-publisher"] == [6]
    assert facts.failures[-1].get("reason") == "All lookup strategies exhausted"


def test_claims_in_a_multiline_error_keep_their_own_lines() -> None:
    [claims] = facts_of("gha-multiline-error.log").claim_sets
    assert [(c.name, c.line) for c in claims.claims][:2] == [("sub", 29), ("repository", 30)]
    assert claims.value("workflow_ref", ) == \
        "acme/widget/.github/workflows/release.yaml@refs/tags/v1.2.0"


def test_uv_claims_struct_and_enum() -> None:
    [old] = facts_of("uv-claims-struct.log").claim_sets
    assert old.source == "uv" and not old.has("environment")
    assert old.value("ref") == "refs/tags/v1.2.0" and old.get("ref") is not None
    assert old.value("sub") == "repo:acme/widget:environment:pypi"
    [new] = facts_of("uv-claims-enum.log").claim_sets
    environment = new.get("environment")
    assert environment is not None and environment.value == "testpypi"
    assert environment.line == 18  # the line of the string inside Some(...)
    [gitlab] = facts_of("gitlab-uv-claims.log").claim_sets
    assert gitlab.provider == "gitlab"
    assert gitlab.value("ci_config_ref_uri") == \
        "gitlab.com/acme/tools/widget//ci/release.yml@refs/tags/v1.2.0"


def test_uv_one_line_debug_and_escapes() -> None:
    text = ('Token claims, which must match the PyPI configuration: OidcTokenClaims { sub: '
            '"repo:a/b:ref:refs/heads/main", repository: "a/b", repository_owner: "a", '
            'repository_owner_id: "1", job_workflow_ref: "a/b/.github/workflows/x\\"y.yml'
            '@refs/heads/main", r#ref: "refs/heads/main" }\nerror: later line\n')
    [claims] = parse_log(text).claim_sets
    assert claims.value("job_workflow_ref") == 'a/b/.github/workflows/x"y.yml@refs/heads/main'
    assert claims.value("ref") == "refs/heads/main"
    none = parse_log("Token claims, which must match the publisher configuration: GitHub(\n"
                     "    GitHubTokenClaims {\n        sub: \"repo:a/b:ref:refs/tags/v1\",\n"
                     "        environment: None,\n    },\n)\n").claim_sets[0]
    environment = none.get("environment")
    assert environment is not None and environment.value is None and environment.line == 4


def test_uv_response_json_reason() -> None:
    [failure] = facts_of("uv-claims-struct.log").of_kind("invalid-publisher")
    assert failure.get("reason") == "Publisher with matching claims was not found"
    assert failure.line == 9


def test_dress_does_not_move_line_numbers() -> None:
    facts = facts_of("gitlab-twine-id-token.log")
    [failure] = facts.of_kind("gitlab-id-token-missing")
    assert failure.line == 11 and failure.get("variable") == "PYPI_ID_TOKEN"
    lines = text_of(LOGS / "gitlab-twine-id-token.log").split("\n")
    assert "PYPI_ID_TOKEN" in lines[failure.line - 1]


# ----------------------------------------------------------------- reading bounded input


def test_read_log_refuses_binary_and_archives() -> None:
    for data, words in ((b"\x7fELF\x02\x01\x00\x00binary", "binary"),
                        (b"PK\x03\x04zipdata", "zip archive"),
                        (b"\x1f\x8b\x08\x00gzip", "gzip")):
        with pytest.raises(LogReadError, match=words):
            read_log(io.BytesIO(data))


def test_read_log_decodes_utf16_and_bom() -> None:
    text = "line one\nFile already exists\n"
    assert read_log(io.BytesIO(text.encode("utf-16"))).text == text
    assert read_log(io.BytesIO(b"\xef\xbb\xbf" + text.encode())).text == text
    assert read_log(io.BytesIO(b"ok \xff\xfe broken utf-8\n")).text.startswith("ok ")


class _Pipe(io.BytesIO):
    """A non-seekable stream, like standard input from a pipe, giving at most ``step``
    bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        super().__init__(data)
        self.step = step

    def seekable(self) -> bool:
        return False

    def read(self, size: int | None = -1) -> bytes:
        return super().read(self.step if size is None or size < 0 else min(size, self.step))


@pytest.mark.parametrize("kind", ["file", "pipe", "pipe-one-chunk"])
def test_read_log_keeps_the_tail_with_true_line_numbers(kind: str) -> None:
    filler = b"".join(b"2026-03-14T09:26:53.1234567Z [%06d] compiling module\n" % i
                      for i in range(5000))
    tail = b"ERROR    HTTPError: 400 Bad Request\n         File already exists ('a.tar.gz')\n"
    data = filler + tail
    stream = io.BytesIO(data) if kind == "file" else \
        _Pipe(data, 7000 if kind == "pipe" else len(data))
    text = read_log(stream, max_bytes=50_000)
    assert text.skipped_bytes > 0 and text.notice is not None
    facts = parse_log(text.text, text.first_line)
    [failure] = facts.of_kind("file-exists")
    assert failure.line == 5002
    assert facts.lines == data.count(b"\n")


def test_huge_log_is_bounded(tmp_path: Path) -> None:
    """Over the 32 MB bound: the tail is read, the failure at the end is found, with its
    true line number and a notice, in bounded time and memory."""
    block = b"".join(b"2026-03-14T09:26:53.1234567Z [%05d/99999] Building CXX object core%d.o\n"
                     % (i, i) for i in range(10000))
    log = tmp_path / "huge.log"
    with log.open("wb") as handle:
        for _ in range(60):
            handle.write(block)
        handle.write((LOGS / "gha-workflow-extension.log").read_bytes())
    result = run_cli("explain-log", str(log), "--path", str(tmp_path), "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert document["notices"] and "read only its last" in document["notices"][0]
    kinds = {f["kind"]: f["line"] for f in document["failures"]}
    assert kinds == {"invalid-publisher": 600000 + 15}


# ----------------------------------------------------------------- diagnosis: each field


def test_workflow_extension_swap(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(), workflow="release.yaml")
    diagnosis = only_failure(diagnose_log("gha-workflow-extension.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.field, mismatch.claim, mismatch.declared) == \
        ("workflow", "release.yaml", "release.yml")
    assert diagnosis.rule == "publisher-workflow-mismatch"
    assert "Workflow name `release.yaml`" in mismatch.fix
    assert 'workflow = "release.yaml"' in mismatch.fix and "pyproject.toml:" in mismatch.fix
    assert "`.yml` is not `.yaml`" in mismatch.fix and mismatch.line == 15
    assert_never_weakens(diagnosis)


def test_workflow_case_from_uv_claims(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher())
    diagnosis = only_failure(diagnose_log("uv-claims-struct.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.claim, mismatch.declared) == ("Release.yml", "release.yml")
    assert "letter case" in mismatch.fix
    assert any("defines no publish job in this checkout" in n for n in diagnosis.notes)


@pytest.mark.parametrize(("declared", "words"), [
    ("Release", "not a file name"),
    (".github/workflows/release.yaml", "file name only"),
    ("publish.yml", "renamed after the publisher was registered"),
])
def test_workflow_hints(tmp_path: Path, declared: str, words: str) -> None:
    root = make_repo(tmp_path, publisher(workflow=declared), workflow="release.yaml")
    diagnosis = only_failure(diagnose_log("gha-workflow-extension.log", root))
    [mismatch] = diagnosis.mismatches
    assert mismatch.field == "workflow" and words in mismatch.fix, mismatch.fix


def test_reusable_caller_declared(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(workflow="ci.yml"), workflow="publish.yml")
    diagnoses = diagnose_log("gha-reusable-caller.log", root)
    diagnosis = only_failure(diagnoses)
    assert diagnosis.rule == "reusable-workflow-publish"
    [mismatch] = diagnosis.mismatches
    assert (mismatch.claim, mismatch.declared) == ("publish.yml", "ci.yml")
    assert "Move the publish job from `publish.yml` into `ci.yml`" in mismatch.fix
    assert all(d.kind != "reusable-workflow-warning" for d in diagnoses)


def test_reusable_warning_kept_when_another_field_is_the_cause(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(workflow="publish.yml", environment="release"),
                     workflow="publish.yml")
    diagnoses = diagnose_log("gha-reusable-caller.log", root)
    assert [d.kind for d in diagnoses] == ["invalid-publisher", "reusable-workflow-warning"]
    assert diagnoses[1].warning and diagnoses[0].mismatches[0].field == "environment"


def test_environment_missing_in_the_run(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(), environment=None)
    diagnosis = only_failure(diagnose_log("gha-environment-missing.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.field, mismatch.claim, mismatch.declared) == ("environment", None, "pypi")
    assert "add `environment: pypi` to the publishing job (`publish` in " \
           ".github/workflows/release.yml)" in mismatch.fix
    assert diagnosis.rule == "publisher-environment-mismatch"
    assert_never_weakens(diagnosis)


def test_environment_different(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(), environment="release")
    diagnosis = only_failure(diagnose_log("gha-environment-different.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.claim, mismatch.declared) == ("release", "pypi")
    assert "Environment name `release`" in mismatch.fix
    assert "set it on the publishing job" in mismatch.fix
    assert_never_weakens(diagnosis)


def test_environment_case_only_is_not_the_cause_on_github(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(), environment="PyPI")
    diagnosis = only_failure(diagnose_log("gha-environment-case.log", root))
    assert diagnosis.mismatches == ()
    assert any("only in case" in n and "not the cause" in n for n in diagnosis.notes)
    assert "matches every claim PyPI checks" in diagnosis.fix


def test_declared_any_environment_accepts_the_runs(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(environment=None), environment="release")
    diagnosis = only_failure(diagnose_log("gha-environment-different.log", root))
    assert diagnosis.mismatches == ()
    assert_never_weakens(diagnosis)


def test_owner_renamed(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher())
    diagnosis = only_failure(diagnose_log("gha-owner-renamed.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.field, mismatch.claim, mismatch.declared) == ("owner", "acme-labs", "acme")
    assert "renamed or transferred" in mismatch.fix and "Owner `acme-labs`" in mismatch.fix
    assert diagnosis.rule == "publisher-repository-mismatch"
    assert any("git remote `origin` is `acme/widget`" in n for n in diagnosis.notes)


def test_owner_case_only_is_a_declaration_typo(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(owner="Acme"))
    diagnosis = only_failure(diagnose_log("gha-workflow-extension.log", root))
    assert [m.field for m in diagnosis.mismatches] == ["workflow"]
    assert any("only in case" in n and "not the cause" in n for n in diagnosis.notes)


def test_repository_case_is_the_cause(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher())
    diagnosis = only_failure(diagnose_log("gha-repository-case.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.field, mismatch.claim, mismatch.declared) == \
        ("repository", "Widget", "widget")
    assert "as typed and compares it exactly" in mismatch.fix


def test_testpypi_without_a_testpypi_publisher(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher())
    diagnosis = only_failure(diagnose_log("gha-testpypi.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.field, mismatch.claim, mismatch.declared) == ("index", "testpypi", "pypi")
    assert "https://test.pypi.org/manage/account/publishing/" in mismatch.fix
    assert 'index = "testpypi"' in mismatch.fix
    assert diagnosis.rule == "publisher-missing-for-index"


def test_testpypi_publisher_declared(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(), publisher(index="testpypi", environment="testpypi"))
    diagnosis = only_failure(diagnose_log("uv-claims-enum.log", root))
    assert diagnosis.mismatches == ()  # everything PyPI checks matches the declaration
    assert "https://test.pypi.org/" in diagnosis.fix


def test_pending_publisher_for_an_existing_project(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(pending=True))
    diagnosis = only_failure(diagnose_log("gha-pending-project-exists.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.field, mismatch.declared, mismatch.expected) == ("pending", "true", "false")
    assert "pending = false" in mismatch.fix
    assert "https://pypi.org/manage/project/acme-widget/settings/publishing/" in mismatch.fix
    assert diagnosis.rule == "pending-project-exists"
    assert "--online" in render_text_of(diagnosis)


def test_pending_project_name_differs(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(pending=True, project="widget"))
    diagnosis = only_failure(diagnose_log("gha-non-user-identity.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.field, mismatch.claim, mismatch.declared) == \
        ("project", "acme-widget", "widget")
    assert 'project = "acme-widget"' in mismatch.fix
    assert "https://pypi.org/manage/account/publishing/" in mismatch.fix
    assert diagnosis.rule == "publisher-project-mismatch"


def test_pending_project_name_normalised(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(pending=True, project="Acme.Widget"))
    diagnosis = only_failure(diagnose_log("gha-non-user-identity.log", root))
    assert diagnosis.mismatches == ()  # PEP 503: Acme.Widget is acme-widget


def test_second_project_without_publisher(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher())
    diagnosis = only_failure(diagnose_log("gha-project-not-allowed.log", root))
    assert "acme-widget-extras/settings/publishing/" in diagnosis.fix
    assert any("No publisher for `acme-widget-extras`" in n for n in diagnosis.notes)


def test_gitlab_claims_compared_the_gitlab_way(tmp_path: Path) -> None:
    gitlab = publisher(provider="gitlab", owner="ACME/tools", workflow="ci/release.yml",
                       environment="release")
    root = make_repo(tmp_path, gitlab)
    diagnosis = only_failure(diagnose_log("gitlab-uv-claims.log", root))
    [mismatch] = diagnosis.mismatches  # namespace case is fine, environment case is not
    assert (mismatch.field, mismatch.claim, mismatch.declared) == \
        ("environment", "Release", "release")
    assert "case-sensitively" in mismatch.fix


def test_gitlab_included_file_declared(tmp_path: Path) -> None:
    gitlab = publisher(provider="gitlab", owner="acme/tools", workflow="ci/publish.yml",
                       environment="Release")
    diagnosis = only_failure(diagnose_log("gitlab-uv-claims.log", make_repo(tmp_path, gitlab)))
    [mismatch] = diagnosis.mismatches
    assert mismatch.field == "workflow" and diagnosis.rule == "publisher-workflow-mismatch"
    assert "top-level" in mismatch.fix


def test_no_declaration_gives_the_values_to_register(tmp_path: Path) -> None:
    root = make_repo(tmp_path, environment=None)
    diagnosis = only_failure(diagnose_log("gha-environment-missing.log", root))
    assert diagnosis.rule == "undeclared-publisher"
    assert "Owner `acme`, Repository name `widget`, Workflow name `release.yml`" in \
        diagnosis.fix
    assert "adding `environment: pypi`" in diagnosis.fix
    assert_never_weakens(diagnosis)


def test_gh_cli_output_is_diagnosed_like_the_download(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(), workflow="release.yaml")
    [downloaded] = diagnose_log("gha-workflow-extension.log", root)
    [from_cli] = diagnose_log("gh-run-view-log-failed.log", root)
    assert downloaded == from_cli


def test_uv_missing_credentials_for_a_host_that_does_not_exist() -> None:
    text = "error: Failed to publish\n  Caused by: Missing credentials for " \
           "https://upload.test.pypi.org/legacy/\n  Caused by: dns error: No such host\n"
    [diagnosis] = diagnose(parse_log(text), (), (), None)
    assert diagnosis.rule == "wrong-index-url"
    assert "https://test.pypi.org/legacy/" in diagnosis.fix


def test_no_declaration_run_from_another_file(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    diagnosis = only_failure(diagnose_log("gha-workflow-extension.log", root))
    assert any("`release.yaml` defines no publish job in this checkout" in n
               for n in diagnosis.notes)


def test_twine_without_claims_compares_the_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(workflow="publish.yml"))
    diagnosis = only_failure(diagnose_log("twine-invalid-publisher.log", root))
    [mismatch] = diagnosis.mismatches
    assert (mismatch.claim, mismatch.declared, mismatch.expected) == \
        (None, "publish.yml", "release.yml")
    assert any("twine does not print them" in n for n in diagnosis.notes)


def test_job_workflow_ref_at_another_ref(tmp_path: Path) -> None:
    diagnosis = only_failure(diagnose_log("gha-job-workflow-ref.log", make_repo(tmp_path)))
    assert diagnosis.rule == "reusable-workflow-publish"
    assert "uses: ./.github/workflows/publish.yml" in diagnosis.fix
    assert "refs/heads/main" in diagnosis.fix


# ----------------------------------------------------------------- diagnosis: other families

FAMILIES = {
    "gha-missing-id-token.log": ("missing-id-token", "missing-id-token", "id-token: write"),
    "gha-fork-pull-request.log": ("fork-pull-request", "dangerous-publish-trigger",
                                  "tag pushes"),
    "gha-tag-object-pin.log": ("image-not-found", "tag-object-pin",
                               "@cef221092ed1bacb1cc03d23a2d87d1d172e277b # v1.14.0"),
    "gha-non-linux-runner.log": ("non-linux-runner", "non-linux-publish-runner",
                                 "ubuntu-latest"),
    "gha-caller-denies-id-token.log": ("caller-denies-id-token", "caller-denies-id-token",
                                       "id-token: write"),
    "gha-password-login.log": ("password-login", "password-login", "remove `user:`"),
    "gha-file-exists.log": ("file-exists", "matrix-publish", "one publish job"),
    "gha-duplicate-attestation.log": ("duplicate-attestation", "duplicate-attestation",
                                      "separate jobs"),
    "gha-attestation-build-config.log": ("attestation-identity-mismatch",
                                         "reusable-workflow-publish",
                                         "from `publish.yml` into `ci.yml`"),
    "gha-invalid-auth.log": ("invalid-auth", "leftover-token", "revoke the token"),
    "gha-unknown-issuer.log": ("unknown-issuer", None, "github.com"),
    "gha-pull-request-target.log": ("pull-request-target", "dangerous-publish-trigger",
                                    "tag pushes"),
    "gha-metadata-too-new.log": ("metadata-too-new", "outdated-publish-action",
                                 "@dc37677b2e1c63e2034f94d8a5b11f265b73ba33 # v1.14.2"),
    "gha-no-distributions.log": ("no-distributions", "artifact-path-mismatch",
                                 "merge-multiple"),
    "gha-reuse-token.log": ("invalid-reuse-token", None, "re-run"),
    "gha-environment-protection.log": ("caller-environment-protection", None,
                                       "keep the protection rules"),
    "uv-missing-credentials.log": ("uv-missing-credentials", "uv-publish-fallback",
                                   "--trusted-publishing always"),
    "uv-id-token-permission.log": ("missing-id-token", "missing-id-token", "id-token: write"),
    "gitlab-twine-id-token.log": ("gitlab-id-token-missing", "gitlab-missing-id-token",
                                  "PYPI_ID_TOKEN: {aud: pypi}"),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_failure_families(tmp_path: Path, name: str) -> None:
    kind, rule, words = FAMILIES[name]
    diagnosis = only_failure(diagnose_log(name, make_repo(tmp_path)))
    assert (diagnosis.kind, diagnosis.rule) == (kind, rule)
    assert words in diagnosis.fix, diagnosis.fix
    assert_never_weakens(diagnosis)


def test_tag_object_not_in_the_table() -> None:
    text = "Unable to find image 'ghcr.io/pypa/gh-action-pypi-publish:" + "ab" * 20 + \
           "' locally\ndocker: Error response from daemon: manifest unknown.\n"
    [diagnosis] = diagnose(parse_log(text), (), (), None)
    assert "git ls-remote" in diagnosis.fix and "never `@release/v1`" in diagnosis.fix


def test_image_of_a_wrapping_composite_action() -> None:
    text = "Unable to find image 'ghcr.io/acme/release-tools:main' locally\n"
    [diagnosis] = diagnose(parse_log(text), (), (), None)
    assert diagnosis.rule == "non-linux-publish-runner" and "directly" in diagnosis.fix


def test_every_rule_named_exists() -> None:
    """Rules named by diagnoses are in the catalogue (online ones may come later)."""
    known = set(load_catalogue()) | ONLINE_RULES
    named: set[str] = set()
    for path in LOGS.iterdir():
        for diagnosis in diagnose(parse_log(text_of(path)), (), (), None):
            if diagnosis.rule:
                named.add(diagnosis.rule)
    named |= {"publisher-workflow-mismatch", "publisher-environment-mismatch",
              "publisher-repository-mismatch", "publisher-missing-for-index",
              "publisher-project-mismatch", "reusable-workflow-publish",
              "unpinned-action", "wrong-index-url"}
    assert named - known == set()


def test_unknown_log_explains_nothing(tmp_path: Path) -> None:
    assert diagnose_log("unknown.log", make_repo(tmp_path, publisher())) == []


def render_text_of(diagnosis: Diagnosis) -> str:
    from auditor.explainlog.report import Explanation

    return render_text(Explanation("x.log", parse_log(""), (diagnosis,), ()))


# ----------------------------------------------------------------- the command


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path = REPO_ROOT
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "auditor", *args], capture_output=True,
                          input=stdin.decode() if stdin is not None else None, text=True,
                          cwd=cwd, timeout=120)


def test_documented_example_is_what_the_command_prints(tmp_path: Path) -> None:
    page = (REPO_ROOT / "docs" / "explain-log.md").read_text(encoding="utf-8")
    shown = page.split("## Example", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    write_tree(tmp_path, {
        "pyproject.toml": '[project]\nname = "acme-widget"\nversion = "1.2.0"\n\n'
                          + publisher(),
        ".github/workflows/release.yaml": release_workflow(),
        ".git/config": '[remote "origin"]\n\turl = https://github.com/acme/widget.git\n'})
    (tmp_path / "failed.log").write_bytes((LOGS / "gha-workflow-extension.log").read_bytes())
    result = run_cli("explain-log", "failed.log", cwd=tmp_path)
    assert result.stdout == shown


def test_cli_explains_with_the_repository(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(), workflow="release.yaml")
    result = run_cli("explain-log", str(LOGS / "gha-workflow-extension.log"), "--path", str(root))
    assert result.returncode == 1, result.stderr
    assert "gha-workflow-extension.log:15: failure [invalid-publisher]" in result.stdout
    assert "Workflow name `release.yaml`" in result.stdout
    assert "1 failure explained" in result.stdout and result.stderr == ""


def test_cli_json_shape(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(), environment=None)
    result = run_cli("explain-log", str(LOGS / "gha-environment-missing.log"), "--path",
                     str(root), "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"schema_version", "tool", "log", "lines", "notices", "uploader",
                             "platform", "index", "failures", "claims", "mismatches"}
    assert document["schema_version"] == 1 and document["uploader"] == "gh-action-pypi-publish"
    [failure] = document["failures"]
    assert {"kind", "line", "excerpt", "rule", "explanation", "fix"} <= set(failure)
    assert (failure["kind"], failure["line"]) == ("invalid-publisher", 15)
    [mismatch] = document["mismatches"]
    assert {k: mismatch[k] for k in ("field", "claim", "declared", "failure")} == \
        {"field": "environment", "claim": None, "declared": "pypi",
         "failure": "invalid-publisher"}
    [claims] = document["claims"]
    assert claims["values"]["environment"] == {"value": None, "line": 15}


def test_cli_stdin_and_unknown_log_exit_zero(tmp_path: Path) -> None:
    result = run_cli("explain-log", "-", "--path", str(tmp_path),
                     stdin=(LOGS / "unknown.log").read_bytes())
    assert result.returncode == 0, result.stderr
    assert "no known trusted-publishing failure found in stdin" in result.stdout


def test_cli_empty_log(tmp_path: Path) -> None:
    result = run_cli("explain-log", str(LOGS / "empty.log"), "--path", str(tmp_path))
    assert result.returncode == 0 and "the log is empty" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("explain-log", "missing.log"), "cannot read missing.log"),
    (("explain-log", "fixtures"), "is a directory"),
    (("explain-log", "fixtures/logs/empty.log", "--path", "nowhere"), "--path: no such"),
    (("explain-log", "fixtures/logs/empty.log", "--config", "nowhere.toml"), "--config"),
])
def test_cli_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_config_error_is_a_notice(tmp_path: Path) -> None:
    root = make_repo(tmp_path, publisher(colour="blue"), environment=None)
    result = run_cli("explain-log", str(LOGS / "gha-environment-missing.log"), "--path",
                     str(root), "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert any("colour" in notice for notice in document["notices"])
    assert document["failures"][0]["kind"] == "invalid-publisher"


def test_cli_binary_log(tmp_path: Path) -> None:
    binary = tmp_path / "log.bin"
    binary.write_bytes(bytes(range(256)) * 8)
    result = run_cli("explain-log", str(binary), "--path", str(tmp_path))
    assert result.returncode == 2 and "binary" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_of_a_warning_only_log_exits_zero() -> None:
    text = "##[warning]Potential workflow misconfiguration: %0AThe claims in this token " \
           "suggest that the calling workflow is a reusable workflow.%0A\n"
    explanation = explain(LogText(text, 1, len(text), 0), "w.log", (), (), None)
    assert explanation.exit_code == 0
    failures = as_dict(explanation)["failures"]
    assert isinstance(failures, list)
    assert [f["kind"] for f in failures] == ["reusable-workflow-warning"]
