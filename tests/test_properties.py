"""Property tests: whatever YAML (or almost-YAML) a repository holds, the whole pipeline
finishes, every location lies inside its file, spans never run backwards, and every format
renders, with the JSON report valid against its schema (``tests/invariants.py``).

Inputs are generated documents (nested mappings, lists and scalars over workflow words,
dumped by PyYAML in block or flow style), the same documents after text mutations, and real
files of the shared corpus after line and byte mutations. The number of examples is modest
so the file runs in seconds; ``PUBAUDIT_HYPOTHESIS_EXAMPLES=2000`` runs a long session.

Known bugs found here are pinned as deterministic cases in ``test_hostile.py``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.engine.scan import Options, scan
from tests.conftest import CORPUS
from tests.invariants import check_report

# The default run is derandomised (the same examples every time: CI never flaps); a long
# exploratory run with PUBAUDIT_HYPOTHESIS_EXAMPLES draws fresh examples. No example database
# is written into the working tree; a failure prints its example.
_LONG_RUN = os.environ.get("PUBAUDIT_HYPOTHESIS_EXAMPLES")
EXAMPLES = int(_LONG_RUN or "100")
SETTINGS = settings(deadline=None, max_examples=EXAMPLES, derandomize=not _LONG_RUN,
                    database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

KEYS = ["on", "jobs", "steps", "uses", "run", "permissions", "id-token", "contents",
        "environment", "name", "url", "with", "password", "user", "repository-url",
        "runs-on", "needs", "if", "env", "shell", "workflow_call", "workflow_dispatch", "push",
        "pull_request", "pull_request_target", "release", "types", "tags", "branches",
        "strategy", "matrix", "include", "secrets", "inputs", "outputs", "attestations",
        "skip-existing", "packages-dir", "persist-credentials", "<<", "true", "1", ""]
WORDS = ["push", "write", "read", "none", "ubuntu-latest", "windows-latest", "pypi",
         "testpypi", "release", "published", "v*", "main", "bash", "true", "false", "~",
         "pypa/gh-action-pypi-publish@release/v1",
         "pypa/gh-action-pypi-publish@76f52bc884231f62b9a034ebfe128415bbaabdfe",
         "actions/checkout@v4", "actions/upload-artifact@v4", "./", "./.github/actions/x",
         "./.github/workflows/other.yml", "docker://alpine:3", "owner/repo/path@ref",
         "twine upload dist/*", "python -m twine upload --repository testpypi dist/*",
         "uv publish --trusted-publishing always", "uv publish --token $T",
         "poetry publish --build", "hatch publish", "flit publish", "pdm publish",
         "maturin upload", "gem push x.gem", "npm publish", "cargo publish",
         "echo ${{ secrets.PYPI_API_TOKEN }}", "${{ secrets.PYPI_API_TOKEN }}",
         "${{ github.event_name == 'push' && startsWith(github.ref, 'refs/tags/') }}",
         "github.event_name != 'pull_request'", "${{ matrix.os }}", "${{ inputs.env }}",
         "https://upload.pypi.org/legacy/", "https://test.pypi.org/legacy/",
         "pypi-AgEIcHlwaS5vcmc" + "A" * 60, "cat <<EOF\ntwine upload\nEOF\n",
         "if true; then\n  twine upload dist/*\nfi\n", "'unclosed", '"unclosed', "a: b",
         "- x", "#", "&a", "*a", "!tag", "%", "@", "`", "{", "[", "|", ">", "\t", "é", "😀",
         "\x85", "\u2028", "\ufeff"]

scalars = (st.sampled_from(WORDS) | st.text(max_size=12) | st.integers(-5, 10**6) |
           st.booleans() | st.none() | st.floats(allow_nan=False, allow_infinity=False))
keys = st.sampled_from(KEYS) | st.text(min_size=1, max_size=8)
documents = st.recursive(
    scalars,
    lambda children: (st.lists(children, max_size=4) |
                      st.dictionaries(keys, children, max_size=5)),
    max_leaves=40)


ACTIONS = [w for w in WORDS if "@" in w or w.startswith(("./", "docker://"))]
COMMANDS = [w for w in WORDS if " " in w and "@" not in w]
GUARDS = ["github.event_name == 'push'", "startsWith(github.ref, 'refs/tags/')",
          "${{ github.event_name == 'release' }}", "always()", "github.ref_type == 'tag'",
          "needs.check.outputs.publish == 'true'", "!cancelled() && (a || b)"]
maybe_garbage = documents.filter(lambda d: not isinstance(d, (dict, list)))
triggers = st.sampled_from([
    "push", "release", "workflow_dispatch", "pull_request_target", ["push", "pull_request"],
    {"push": {"tags": ["v*"]}}, {"push": {"branches": ["main"]}},
    {"release": {"types": ["published"]}}, {"workflow_call": None, "push": None},
    {"schedule": [{"cron": "0 0 * * *"}]}]) | documents
permissions = (st.none() | st.sampled_from(["write-all", "read-all", {}]) |
               st.dictionaries(st.sampled_from(["id-token", "contents", "packages",
                                                "attestations", "actions"]),
                               st.sampled_from(["write", "read", "none"]) | maybe_garbage,
                               max_size=3) | documents)
environments = (st.sampled_from(["pypi", "testpypi", "release", "${{ inputs.env }}", ""]) |
                st.fixed_dictionaries({"name": st.sampled_from(["pypi", "testpypi", "x"])},
                                      optional={"url": st.sampled_from(WORDS)}) | documents)
with_inputs = st.dictionaries(
    st.sampled_from(["password", "user", "repository-url", "repository_url", "attestations",
                     "skip-existing", "packages-dir", "verbose", "print-hash",
                     "persist-credentials", "path", "name"]), scalars, max_size=3)
steps = st.one_of(
    st.fixed_dictionaries({"uses": st.sampled_from(ACTIONS)},
                          optional={"with": with_inputs, "if": st.sampled_from(GUARDS),
                                    "name": scalars}),
    st.fixed_dictionaries(
        {"run": st.sampled_from(COMMANDS) | st.lists(st.sampled_from(COMMANDS), min_size=1,
                                                     max_size=4).map("\n".join)},
        optional={"env": st.dictionaries(st.sampled_from(
            ["TWINE_PASSWORD", "TWINE_USERNAME", "UV_PUBLISH_TOKEN", "PYPI_TOKEN",
             "TWINE_REPOSITORY_URL"]), scalars, max_size=2),
            "if": st.sampled_from(GUARDS), "shell": st.sampled_from(["bash", "pwsh"])}),
    st.dictionaries(st.sampled_from(["uses", "run", "with", "env", "if", "id"]), documents,
                    max_size=3))
jobs = st.fixed_dictionaries(
    {"runs-on": st.sampled_from(["ubuntu-latest", "windows-latest", "${{ matrix.os }}"]) |
     scalars, "steps": st.lists(steps, max_size=5)},
    optional={"permissions": permissions, "environment": environments,
              "needs": st.sampled_from(["build", "publish", ["build", "test"]]),
              "if": st.sampled_from(GUARDS),
              "strategy": st.fixed_dictionaries({"matrix": st.dictionaries(
                  st.sampled_from(["os", "python", "include"]), documents, max_size=2)}),
              "uses": st.sampled_from(ACTIONS), "with": with_inputs,
              "secrets": st.sampled_from(["inherit", {"token": "${{ secrets.T }}"}])})


@st.composite
def workflows(draw: st.DrawFn) -> dict[str, Any]:
    """A document shaped like a workflow (with garbage in places), so the rules run too."""
    names = draw(st.lists(st.sampled_from(["publish", "build", "release", "test",
                                           "pypi-publish", "check"]),
                          min_size=1, max_size=4, unique=True))
    document: dict[str, Any] = {"on": draw(triggers)}
    document.update(draw(st.fixed_dictionaries({}, optional={
        "name": scalars, "permissions": permissions, "env": documents})))
    document["jobs"] = {name: draw(jobs | documents) for name in names}
    return document


def dump(document: object, flow: bool) -> str:
    try:
        return yaml.safe_dump(document, sort_keys=False, default_flow_style=flow,
                              allow_unicode=True, width=60)
    except yaml.YAMLError:  # PyYAML cannot dump every generated value; not our concern
        return "on: push\n"


# One mutation: (operation, position, second position, inserted text)
MUTATION_OPS = ["delete", "duplicate", "swap", "indent", "dedent", "insert", "replace",
                "truncate", "crlf", "tab"]
INSERTS = [":", "- ", "'", '"', "{", "}", "[", "]", "&a ", "*a", "!!str ", "|", ">-", "#",
           "%YAML 1.1\n", "@", "`", "\t", "\r", "\n", "\x00", "\x85", "\u2028", "\ufeff",
           "é", "😀", "${{", "}}", "<<: *a", "---\n", "...\n", "? ", ",", "\\", "  "]
mutations = st.lists(st.tuples(st.sampled_from(MUTATION_OPS), st.integers(0, 10**6),
                               st.integers(0, 10**6),
                               st.sampled_from(INSERTS) | st.text(max_size=4)),
                     max_size=6)


def mutate(text: str, ops: list[tuple[str, int, int, str]]) -> str:
    """Apply line and character mutations; positions are taken modulo the current size."""
    for op, a, b, insert in ops:
        lines = text.split("\n")
        i, j = a % len(lines), b % len(lines)
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "indent":
            lines[i] = " " * (1 + b % 4) + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][1 + b % 4:] if lines[i].startswith(" ") else lines[i]
        elif op == "crlf":
            lines[i] += "\r"
        elif op == "tab":
            lines[i] = "\t" + lines[i].lstrip(" ")
        if op not in ("insert", "replace", "truncate"):
            text = "\n".join(lines)
            continue
        at = a % (len(text) + 1)
        if op == "insert":
            text = text[:at] + insert + text[at:]
        elif op == "replace":
            text = text[:at] + insert + text[at + 1 + b % 8:]
        else:
            text = text[:at]
    return text


def audit(files: dict[str, bytes], explicit: str | None = None) -> None:
    """Scan a temporary repository holding ``files`` and check every invariant."""
    with tempfile.TemporaryDirectory(prefix="pubaudit-prop-") as name:
        root = Path(name)
        for rel, data in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        report = scan([root / explicit] if explicit else [root], Options())
        check_report(report, report.root)


WORKFLOW = ".github/workflows/generated.yml"


@SETTINGS
@given(documents, st.booleans())
def test_generated_documents(document: object, flow: bool) -> None:
    audit({WORKFLOW: dump(document, flow).encode()})


@SETTINGS
@given(workflows(), st.booleans(), st.booleans())
def test_generated_workflows(document: dict[str, Any], flow: bool, explicit: bool) -> None:
    text = dump(document, flow)
    audit({WORKFLOW: text.encode(), ".github/actions/x/action.yml": dump(
        {"runs": {"using": "composite", "steps": next(
            (job["steps"] for job in document["jobs"].values() if isinstance(job, dict)
             and "steps" in job), [])}}, flow).encode()}, WORKFLOW if explicit else None)


@SETTINGS
@given(workflows(), st.booleans(), mutations)
def test_mutated_generated_workflows(document: dict[str, Any], flow: bool,
                                     ops: list[tuple[str, int, int, str]]) -> None:
    audit({WORKFLOW: mutate(dump(document, flow), ops).encode("utf-8", "surrogatepass")})


CORPUS_FILES = sorted(
    p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".toml")
) if CORPUS.is_dir() else []
# Where a corpus file goes in the temporary repository, by its own name.
_TARGETS: dict[str, Callable[[Path], str]] = {
    ".toml": lambda p: "pyproject.toml",
    "action": lambda p: ".github/actions/x/action.yml",
    ".yml": lambda p: ".gitlab-ci.yml" if "gitlab" in p.as_posix() else WORKFLOW,
}


def target_of(path: Path) -> str:
    if path.name in ("action.yml", "action.yaml"):
        return _TARGETS["action"](path)
    return _TARGETS[".toml" if path.suffix == ".toml" else ".yml"](path)


needs_corpus = pytest.mark.skipif(not CORPUS_FILES, reason="../shared/corpus is not present")


@needs_corpus
@SETTINGS
@given(st.sampled_from(CORPUS_FILES or [Path("none")]), mutations)
def test_mutated_corpus_files(path: Path, ops: list[tuple[str, int, int, str]]) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    audit({target_of(path): mutate(text, ops).encode("utf-8", "surrogatepass")})


@needs_corpus
@SETTINGS
@given(st.sampled_from(CORPUS_FILES or [Path("none")]),
       st.lists(st.tuples(st.integers(0, 10**7), st.binary(min_size=1, max_size=3)),
                min_size=1, max_size=4))
def test_corpus_files_with_raw_bytes(path: Path, edits: list[tuple[int, bytes]]) -> None:
    data = path.read_bytes()
    for at, blob in edits:
        at %= len(data) + 1
        data = data[:at] + blob + data[at:]
    audit({target_of(path): data})


# Pieces of every secret shape, broken and whole, among ordinary words: the texts the
# redaction's quick pre-check must never wave through while the full pattern matches.
_SECRET_PIECES = ["pypi-", "AgEIcHlwaS5vcmc", "github_pat_", "ghp_", "gh", "glpat-", "npm_",
                  "AKIA", "ASIA", "://", "https", "@", ":", "user", "-----BEGIN ",
                  "RSA PRIVATE KEY-----", "A" * 16, "A" * 40, "x" * 20, "x" * 50, "x" * 90,
                  "_", "-", " ", "\u2003", "'", "<", "/", "\n", "ok", "pypa/gh-action-pypi-publish"]


@SETTINGS
@given(st.lists(st.sampled_from(_SECRET_PIECES), max_size=12))
def test_redaction_pre_check_never_hides_a_secret(pieces: list[str]) -> None:
    from auditor.output import redact

    text = "".join(pieces)
    if redact._secret_re().search(text) is not None:
        assert redact._may_hold_secret(text), text
    if any(pattern.search(text) for pattern in redact.pypi_token_res()):
        assert redact.may_hold_pypi_token(text), text


@pytest.mark.parametrize(("text", "maybe"), [
    ("uses: pypa/gh-action-pypi-publish@release/v1", False),
    ("see https://docs.pypi.org/trusted-publishers/ and uses: actions/checkout@v4", False),
    ("password: pypi-" + "A" * 64, False),  # one short of the shortest PyPI token
    ("password: pypi-" + "A" * 65, True),
    ("url: https://user:secret@example.org/simple/", True),
    ("url: https://user@example.org/ then a: b@c", False),
    ("key: AKIA" + "B" * 16, True),
    # many links and one @ at the very end: read once, not once per link
    ("://a" * 100_000 + "@", False),
])
def test_redaction_pre_check_examples(text: str, maybe: bool) -> None:
    from auditor.output import redact

    assert redact._may_hold_secret(text) is maybe
    if not maybe:
        assert redact._secret_re().search(text) is None
