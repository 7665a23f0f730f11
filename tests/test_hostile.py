"""Hostile input through the whole pipeline: every case ends in a finding at a position (or a
clean scan), never a traceback, a hang or a blow-up.

Each case scans a temporary repository with the engine and then checks the report with
``tests/invariants.py`` (locations inside their files, every format renders, JSON matches the
schema). The heaviest cases also run the real CLI in a subprocess under an address-space
limit. Time limits here only turn a hang into a failure; they are deliberately generous and
say nothing about speed (``benchmarks/`` measures that).

Cases already covered by ``test_input.py`` (a plain syntax error, a small alias bomb, 100k
flow brackets, a NUL file, latin-1, an empty file, a list document, a top-level duplicate
key, a tab, a BOM, wrong value types, one symlink out) are extended here, not repeated.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
import yaml._yaml

from auditor.checks.findings import Finding
from auditor.engine.scan import Report
from auditor.github.guards import possible
from auditor.reading import yamlsource
from tests.conftest import scan_tree
from tests.invariants import check_report

W = ".github/workflows"
IN_PROCESS_LIMIT = 120  # seconds; a hang becomes a failure
CLI_TIMEOUT = 300
CLI_MEMORY = 1024 * 1024 * 1024  # address space of a CLI run (bytes)

PUBLISH = """\
on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
"""
ACTION_REF = "pypa/gh-action-pypi-publish@release/v1"


class Hang(Exception):  # not an OSError (TimeoutError is one): code under test catches those
    """The code under test ran past its time bound."""


@contextmanager
def time_bound(seconds: int) -> Iterator[None]:
    """Raise :class:`Hang` in the test if the body runs longer than ``seconds``; an outer
    bound is restored afterwards."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no result after {seconds} s: a hang or a blow-up")

    previous = signal.signal(signal.SIGALRM, expire)
    outer = signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.alarm(max(outer - seconds, 1))


@pytest.fixture(autouse=True)
def _bounded() -> Iterator[None]:
    with time_bound(IN_PROCESS_LIMIT):
        yield


def build(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` verbatim (no dedent, no newline translation)."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return root


def audit(root: Path, files: dict[str, str | bytes] | None = None) -> Report:
    """Scan ``root`` (after writing ``files``) and check the report's invariants."""
    if files:
        build(root, files)
    report = scan_tree(root)
    check_report(report, root)
    return report


def findings(report: Report, rule: str, path: str | None = None) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule and
            (path is None or f.location.path == path)]


def where(finding: Finding) -> tuple[int, int, int, int]:
    loc = finding.location
    return (loc.line, loc.column, loc.end_line, loc.end_column)


def cli(root: Path, *args: str, timeout: int = CLI_TIMEOUT) -> subprocess.CompletedProcess[str]:
    """``python -m auditor scan`` in a subprocess with a memory cap; no traceback allowed."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CLI_MEMORY, CLI_MEMORY))

    env = {k: v for k, v in os.environ.items() if k != "PUBAUDIT_DEBUG"} | {"NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "scan", *args], cwd=root, capture_output=True,
        text=True, timeout=timeout, preexec_fn=cap_memory, env=env, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode in (0, 1), (proc.returncode, proc.stderr[-3000:])
    return proc


def cli_json(root: Path, *args: str, timeout: int = CLI_TIMEOUT) -> dict[str, object]:
    proc = cli(root, ".", "--format", "json", *args, timeout=timeout)
    document = json.loads(proc.stdout)
    assert isinstance(document, dict)
    return document


def json_findings(document: dict[str, object], rule: str) -> list[dict[str, object]]:
    items = document["findings"]
    assert isinstance(items, list)
    return [f for f in items if f["rule"] == rule]


# --------------------------------------------------------------------------- alias bombs


def billion_laughs(levels: int = 9) -> str:
    lines = ["on: push", 'lol0: &l0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\njobs: {}\n"


def test_billion_laughs_is_refused_at_the_alias_that_overflows(tmp_path: Path) -> None:
    report = audit(tmp_path, {f"{W}/bomb.yml": billion_laughs(), f"{W}/ok.yml": PUBLISH})
    [bomb] = findings(report, "invalid-yaml", f"{W}/bomb.yml")
    assert "alias" in bomb.message
    # 10^5 nodes fit under the limit; the document overflows while expanding lol6 (line 8)
    assert bomb.location.line == 8 and bomb.location.column > 1
    assert findings(report, "unpinned-action", f"{W}/ok.yml"), "other files still audited"


def test_wide_alias_fan_out_is_refused(tmp_path: Path) -> None:
    """One big anchor used many times (no nesting): linear text, quadratic expansion."""
    text = ("on: push\nbase: &b [" + ", ".join(["x"] * 2000) + "]\nuses:\n" +
            "  - *b\n" * 500 + "jobs: {}\n")
    report = audit(tmp_path, {f"{W}/fan.yml": text})
    [bomb] = findings(report, "invalid-yaml")
    assert "alias" in bomb.message and 3 < bomb.location.line < 504


def test_alias_bomb_through_merge_keys_is_refused(tmp_path: Path) -> None:
    lines = ["on: push", "m0: &m0 {" + ", ".join(f"k{i}: v" for i in range(50)) + "}"]
    for level in range(1, 6):
        lines.append(f"m{level}: &m{level} [" + ", ".join([f"*m{level - 1}"] * 20) + "]")
    lines.append("jobs:\n  j:\n    <<: *m0\n    runs-on: ubuntu-latest\n    steps: []")
    report = audit(tmp_path, {f"{W}/merge-bomb.yml": "\n".join(lines) + "\n"})
    assert any("alias" in f.message for f in findings(report, "invalid-yaml"))


def test_billion_laughs_through_the_cli_under_a_memory_cap(tmp_path: Path) -> None:
    build(tmp_path, {f"{W}/bomb.yml": billion_laughs(12), f"{W}/ok.yml": PUBLISH})
    document = cli_json(tmp_path)
    [bomb] = json_findings(document, "invalid-yaml")
    assert "alias" in str(bomb["message"])


# --------------------------------------------------------------------------- size limits


def big_workflow(size: int) -> tuple[str, int]:
    """A valid workflow of about ``size`` bytes whose upload step is on the returned line."""
    head = "on: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    env:\n"
    filler = "      PAD_{:07d}: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
    tail = f"    steps:\n      - uses: {ACTION_REF}\n"
    count = (size - len(head) - len(tail)) // len(filler.format(0))
    text = head + "".join(filler.format(i) for i in range(count)) + tail
    return text, text.count("\n")


def test_file_just_under_the_size_limit_is_audited(tmp_path: Path) -> None:
    text, upload_line = big_workflow(int(4.9 * 1024 * 1024))
    assert len(text) < yamlsource.MAX_BYTES
    document_root = build(tmp_path, {f"{W}/big.yml": text})
    document = cli_json(document_root)
    [pin] = json_findings(document, "unpinned-action")
    location = pin["location"]
    assert isinstance(location, dict)
    assert (location["line"], location["column"]) == (upload_line, 15)


def test_file_over_the_size_limit_is_a_finding_not_a_parse(tmp_path: Path) -> None:
    text, _ = big_workflow(10 * 1024 * 1024)
    report = audit(tmp_path, {f"{W}/huge.yml": text, f"{W}/ok.yml": PUBLISH})
    [huge] = findings(report, "invalid-yaml", f"{W}/huge.yml")
    assert "5 MB" in huge.message and where(huge) == (1, 1, 1, 1)
    assert findings(report, "unpinned-action", f"{W}/ok.yml")


def test_over_the_limit_through_the_cli(tmp_path: Path) -> None:
    text, _ = big_workflow(10 * 1024 * 1024)
    build(tmp_path, {f"{W}/huge.yml": text})
    document = cli_json(tmp_path)
    assert json_findings(document, "invalid-yaml")


# --------------------------------------------------------------------------- nesting

LIBYAML: tuple[int, int, int] = yaml._yaml.get_version()


@pytest.mark.parametrize(("name", "text", "line", "column"), [
    # 10k nested block sequences on one line ("- - - ... x"), under a step list: three
    # mappings enclose it, so the 198th sequence (column 7 + 2 * 197) is one too many
    ("block-sequences", "on: push\njobs:\n  a:\n    steps:\n      " + "- " * 10_000 + "x\n",
     5, 401),
    # block mappings need an indentation step per level: 1000 levels fit in 0.5 MB
    ("block-mappings", "on: push\njobs:\n" + "".join(
        " " * (i + 1) + f"k{i}:\n" for i in range(1000)), 202, 201),
    # a run of "[" may each open a flow key, so the scanner reads ahead of the events: a libyaml
    # with its own 1000-level limit (0.2.6, in PyYAML 6.0.3+ wheels) refuses at the bracket
    # where it stopped, an older one reaches pubaudit's limit first (column 5 + 199)
    ("flow-sequences", "on: [" + "[" * 10_000 + "]" * 10_000 + "]\n", 1,
     5 + 199 if LIBYAML < (0, 2, 6) else 1004),
    ("flow-mappings", "on: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
     1, 5 + 4 * (yamlsource.MAX_DEPTH - 1)),
    # root mapping + 100 "{a: [" pairs = 201 collections: the 100th "[" (column 7 + 5 * 99 + 4)
    ("unclosed-flow", "on: push\njobs: " + "{a: [" * 5_000 + "\n", 2, 506),
])
def test_deep_nesting_is_refused_where_it_gets_too_deep(
        tmp_path: Path, name: str, text: str, line: int, column: int) -> None:
    report = audit(tmp_path, {f"{W}/{name}.yml": text})
    [deep] = findings(report, "invalid-yaml")
    assert "nesting deeper" in deep.message
    assert (deep.location.line, deep.location.column) == (line, column)


def test_nesting_just_under_the_limit_is_audited(tmp_path: Path) -> None:
    levels = yamlsource.MAX_DEPTH - 5
    text = PUBLISH + "    env:\n      deep: " + "[" * levels + "]" * levels + "\n"
    report = audit(tmp_path, {f"{W}/deep.yml": text})
    assert not findings(report, "invalid-yaml")
    assert findings(report, "unpinned-action")


def test_deep_nesting_through_the_cli(tmp_path: Path) -> None:
    build(tmp_path, {f"{W}/deep.yml": "on: " + "[" * 10_000 + "\n",
                     f"{W}/deep2.yml": "a:\n  " + "- " * 10_000 + "x\n"})
    document = cli_json(tmp_path)
    assert len(json_findings(document, "invalid-yaml")) == 2


# --------------------------------------------------------------------------- bytes and lines


def test_binary_action_and_workflow_are_findings(tmp_path: Path) -> None:
    noise = bytes(range(256)) * 64
    report = audit(tmp_path, {f"{W}/bin.yml": noise, ".github/actions/x/action.yml": noise,
                              f"{W}/ok.yml": PUBLISH})
    paths = {f.location.path for f in findings(report, "invalid-yaml")}
    assert paths == {f"{W}/bin.yml", ".github/actions/x/action.yml"}


def test_invalid_utf8_points_at_the_bad_byte(tmp_path: Path) -> None:
    data = PUBLISH.encode() + "      - run: echo caf\u00e9 \xff\n".encode("latin-1")
    report = audit(tmp_path, {f"{W}/bad.yml": data})
    [bad] = findings(report, "invalid-yaml")
    # "      - run: echo caf" is 21 bytes; then latin-1 é (0xe9) starts no valid UTF-8 sequence
    assert (bad.location.line, bad.location.column) == (7, 22)
    assert "UTF-8" in bad.message and "0xe9" in bad.message


CRLF_CASES = {
    "crlf": PUBLISH.replace("\n", "\r\n").encode(),
    "cr": PUBLISH.replace("\n", "\r").encode(),
    "bom-crlf": b"\xef\xbb\xbf" + PUBLISH.replace("\n", "\r\n").encode(),
    "bom-lf": b"\xef\xbb\xbf" + PUBLISH.encode(),
}


@pytest.mark.parametrize("name", sorted(CRLF_CASES))
def test_line_endings_and_bom_keep_exact_positions(tmp_path: Path, name: str) -> None:
    report = audit(tmp_path, {f"{W}/{name}.yml": CRLF_CASES[name]})
    [pin] = findings(report, "unpinned-action")
    assert where(pin) == (6, 15, 6, 15 + len(ACTION_REF))
    [on] = findings(report, "branch-push-publish")
    assert where(on)[:2] == (1, 1), "the BOM is not a column"


@pytest.mark.parametrize(("text", "position"), [
    ("on: push\njobs:\n  a:\n    runs-on: [x\n    steps: []\n", (5, 10)),
    ("on: push\njobs:\n  a: b: c\n", (3, 7)),
])
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_syntax_error_position_is_the_same_whatever_the_newlines(
        tmp_path: Path, text: str, position: tuple[int, int], newline: str) -> None:
    report = audit(tmp_path, {f"{W}/a.yml": text.replace("\n", newline).encode()})
    [bad] = findings(report, "invalid-yaml")
    assert (bad.location.line, bad.location.column) == position


@pytest.mark.parametrize("breaker", ["\x85", "\u2028", "\u2029"])
def test_yaml11_line_breaks_do_not_shift_lines(tmp_path: Path, breaker: str) -> None:
    """NEL/LS/PS are line breaks to libyaml (YAML 1.1) only; GitHub, editors and SARIF
    count CR/LF. Regression: every position after such a character was one line late,
    and LS inside a plain scalar was reported as invalid YAML."""
    text = PUBLISH.replace("jobs:\n", f"name: caf{breaker}e\njobs:\n")
    report = audit(tmp_path, {f"{W}/a.yml": text})
    assert not findings(report, "invalid-yaml")
    [pin] = findings(report, "unpinned-action")
    assert (pin.location.line, pin.location.column) == (7, 15)


def test_yaml11_line_breaks_stay_in_scalar_values() -> None:
    document = yamlsource.load('a: "x\x85y"\nb: p\u2028q\n')
    root = document.root
    assert isinstance(root, yamlsource.Mapping)
    assert yamlsource.text_of(root.get("a")) == "x\x85y"
    assert yamlsource.text_of(root.get("b")) == "p\u2028q"
    b = root.key("b")
    assert b is not None and b.start.line == 1


@pytest.mark.parametrize(("char", "name"), [("\x0c", "form feed"), ("\x07", "bell"),
                                            ("\x1b", "escape"), ("\ufffe", "non-character")])
def test_control_characters_are_reported_where_they_are(
        tmp_path: Path, char: str, name: str) -> None:
    """Regression: reader errors carried no position and were reported at 1:1."""
    text = PUBLISH.replace("runs-on: ubuntu-latest", f"runs-on: \u00e9\u00e9{char}x")
    report = audit(tmp_path, {f"{W}/a.yml": text})
    [bad] = findings(report, "invalid-yaml")
    assert (bad.location.line, bad.location.column) == (4, 16), name


def test_tab_indentation_and_tabs_inside_values(tmp_path: Path) -> None:
    bad = "on: push\njobs:\n  a:\n\truns-on: ubuntu-latest\n"
    fine = PUBLISH + "      - run: \"printf 'a\\tb'\"\n      - run: |\n          echo\ta\tb\n"
    report = audit(tmp_path, {f"{W}/bad.yml": bad, f"{W}/fine.yml": fine})
    [tab] = findings(report, "invalid-yaml")
    assert tab.location.path == f"{W}/bad.yml" and tab.location.line == 4


# --------------------------------------------------------------------------- keys


def test_duplicate_keys_deep_in_the_tree_point_at_the_second_key(tmp_path: Path) -> None:
    text = PUBLISH + """\
        with:
          repository-url: https://test.pypi.org/legacy/
          repository-url: https://upload.pypi.org/legacy/
  publish:
    runs-on: ubuntu-latest
    steps: []
"""
    report = audit(tmp_path, {f"{W}/dup.yml": text})
    dups = sorted((f.location.line, f.location.column) for f in findings(report, "invalid-yaml"))
    assert dups == [(9, 11), (10, 3)]


def test_non_string_keys(tmp_path: Path) -> None:
    text = PUBLISH + """\
    1: one
    ~: null key
    ? [a, b]
    : list key
    ? {x: 1}
    : map key
    3.10: float
    null: again
"""
    report = audit(tmp_path, {f"{W}/keys.yml": text})
    collection_keys = sorted(f.location.line for f in findings(report, "invalid-yaml")
                             if "plain value" in f.message)
    assert collection_keys == [9, 11]
    assert findings(report, "unpinned-action"), "the rest of the job is still audited"


@pytest.mark.parametrize(("key", "has_on"), [("on", True), ("'on'", True), ('"on"', True),
                                             ("true", False), ("True", False), ("yes", False),
                                             ("y", False)])
def test_on_and_its_yaml11_look_alikes(tmp_path: Path, key: str, has_on: bool) -> None:
    """``on`` (quoted or not) is the trigger key and YAML 1.1's other booleans are not: the
    loader keeps keys as written instead of turning ``on`` into True."""
    report = audit(tmp_path, {f"{W}/a.yml": PUBLISH.replace("on: push", f"{key}: push", 1)})
    missing_on = [f for f in findings(report, "invalid-workflow") if "`on:`" in f.message]
    assert bool(missing_on) is not has_on
    assert bool(findings(report, "branch-push-publish")) is has_on


# --------------------------------------------------------------------------- merge keys


MERGED_JOB = """\
on:
  push:
    tags: ["v*"]
x-job: &job
  runs-on: ubuntu-latest
  environment: pypi
  permissions:
    id-token: write
jobs:
  publish:
    <<: *job
    runs-on: ubuntu-22.04
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
"""


def test_merge_key_brings_in_the_anchored_keys(tmp_path: Path) -> None:
    """Regression: libyaml's plain style is "" not None, so ``<<`` was never recognised
    and the job looked like it had no runs-on, environment or permissions."""
    report = audit(tmp_path, {f"{W}/merge.yml": MERGED_JOB})
    assert not findings(report, "invalid-workflow")
    assert not findings(report, "invalid-yaml"), "an override is not a duplicate key"
    assert not findings(report, "missing-id-token")
    assert not findings(report, "missing-environment")
    document = yamlsource.load(MERGED_JOB)
    assert isinstance(document.root, yamlsource.Mapping)
    jobs = document.root.get("jobs")
    assert isinstance(jobs, yamlsource.Mapping)
    job = jobs.get("publish")
    assert isinstance(job, yamlsource.Mapping)
    assert yamlsource.text_of(job.get("runs-on")) == "ubuntu-22.04", "explicit key wins"
    assert [k.start.line for k in job.merge_keys] == [10]


@pytest.mark.parametrize("target", ["*s", "*l", "[*s, *m]", "3", "[]"])
def test_merge_key_with_a_non_mapping_is_reported_at_the_merge_key(
        tmp_path: Path, target: str) -> None:
    text = ("on: push\nx-s: &s scalar\nx-l: &l [1, 2]\nx-m: &m {runs-on: x}\njobs:\n"
            f"  a:\n    <<: {target}\n    runs-on: ubuntu-latest\n    steps: []\n")
    report = audit(tmp_path, {f"{W}/a.yml": text})
    [bad] = findings(report, "invalid-yaml")
    assert "merge key" in bad.message and (bad.location.line, bad.location.column) == (7, 5)


def test_null_values_are_null_under_the_c_loader() -> None:
    document = yamlsource.load("a: ~\nb:\nc: null\nd: '~'\ne: x\n")
    root = document.root
    assert isinstance(root, yamlsource.Mapping)
    nulls = {k: v.is_null for k, v in root.index.items() if isinstance(v, yamlsource.Scalar)}
    assert nulls == {"a": True, "b": True, "c": True, "d": False, "e": False}


# --------------------------------------------------------------------------- document shapes


@pytest.mark.parametrize(("text", "word"), [
    ("- on: push\n- jobs: {}\n", "list"),
    ("just a scalar\n", "single value"),
    ("", "empty"),
    ("# only\n# comments\n", "empty"),
    ("---\n", "empty"),
    ("~\n", "empty"),
    ("null\n", "empty"),
    ("--- |\n  a block\n", "single value"),
])
def test_workflow_that_is_not_a_mapping(tmp_path: Path, text: str, word: str) -> None:
    report = audit(tmp_path, {f"{W}/shape.yml": text, f"{W}/ok.yml": PUBLISH})
    [shape] = [f for f in report.findings if f.location.path == f"{W}/shape.yml"]
    assert shape.rule == "invalid-workflow" and word in shape.message
    assert shape.location.line <= max(text.count("\n"), 1) + 1


def test_several_documents_in_a_workflow(tmp_path: Path) -> None:
    report = audit(tmp_path, {f"{W}/multi.yml": PUBLISH + "---\n" + PUBLISH})
    [multi] = findings(report, "invalid-yaml")
    assert multi.location.line == 7 and "document" in multi.message


@pytest.mark.parametrize("rel", [f"{W}/empty.yml", ".github/actions/x/action.yml",
                                 "pyproject.toml", "pubaudit.toml", ".pypirc", ".git/config",
                                 ".gitlab-ci.yml", ".gitignore", "setup.cfg"])
def test_empty_files_anywhere(tmp_path: Path, rel: str) -> None:
    report = audit(tmp_path, {rel: b"", f"{W}/ok.yml": PUBLISH})
    assert findings(report, "unpinned-action", f"{W}/ok.yml")


# --------------------------------------------------------------------------- many jobs


def many_jobs(count: int, needs: bool) -> str:
    jobs = "".join(
        f"  j{i}:\n    runs-on: ubuntu-latest\n" +
        (f"    needs: [j{(i + 1) % count}]\n" if needs else "") +
        "    steps:\n      - run: python -m twine upload dist/*\n"
        for i in range(count))
    return "on:\n  push:\n    tags: ['v*']\npermissions:\n  id-token: write\njobs:\n" + jobs


def test_ten_thousand_jobs_finish(tmp_path: Path) -> None:
    build(tmp_path, {f"{W}/many.yml": many_jobs(10_000, needs=False)})
    document = cli_json(tmp_path)
    publish_jobs = document["publish_jobs"]
    assert isinstance(publish_jobs, list) and len(publish_jobs) == 10_000


def work(func: Callable[[], object]) -> int:
    """Python calls plus lines executed while running ``func()``: a deterministic measure
    of work, so growth can be asserted without timing anything."""
    events = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal events
        events += 1
        return tracer

    sys.settrace(tracer)
    try:
        func()
    finally:
        sys.settrace(None)
    return events


def test_work_grows_linearly_with_a_needs_chain(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    build(small, {f"{W}/a.yml": many_jobs(30, needs=True)})
    build(large, {f"{W}/a.yml": many_jobs(120, needs=True)})
    ratio = work(lambda: scan_tree(large)) / work(lambda: scan_tree(small))
    assert ratio < 4 * 2, f"4x the jobs cost {ratio:.1f}x the work"


def test_needs_cycles_finish_and_every_job_is_audited(tmp_path: Path) -> None:
    text = many_jobs(300, needs=True) + """\
  self:
    runs-on: ubuntu-latest
    needs: self
    steps: [{run: python -m twine upload dist/*}]
  ping:
    runs-on: ubuntu-latest
    needs: [pong, ping, missing]
    if: always()
    steps: [{run: python -m twine upload dist/*}]
  pong:
    runs-on: ubuntu-latest
    needs: ping
    steps: [{run: python -m twine upload dist/*}]
"""
    report = audit(tmp_path, {f"{W}/cycle.yml": text})
    assert report.publish_job_count == 303


# --------------------------------------------------------------------------- file system


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_files(tmp_path: Path) -> None:
    build(tmp_path, {f"{W}/secret.yml": PUBLISH, f"{W}/ok.yml": PUBLISH, "notes.txt": "x",
                     "pyproject.toml": "[project]\nname = 'x'\n"})
    for rel in (f"{W}/secret.yml", "notes.txt", "pyproject.toml"):
        (tmp_path / rel).chmod(0)
    try:
        report = audit(tmp_path)
    finally:
        for rel in (f"{W}/secret.yml", "notes.txt", "pyproject.toml"):
            (tmp_path / rel).chmod(0o644)
    [unreadable] = findings(report, "invalid-yaml", f"{W}/secret.yml")
    assert "cannot be read" in unreadable.message
    assert findings(report, "unpinned-action", f"{W}/ok.yml")


FAKE_TOKEN = "pypi-" + "AgEIcHlwaS5vcmcCJGQ3ZmQ1Y2U2LTk4MjItNDNmMi05ZjM5LTFkOWFlYzE0NmI5NQACKlsz"


def test_symlinks_never_lead_out_of_the_tree(tmp_path: Path) -> None:
    outside = build(tmp_path / "outside", {
        ".pypirc": f"[pypi]\nusername = __token__\npassword = {FAKE_TOKEN}\n",
        "release.yml": PUBLISH + f"      - run: twine upload -p {FAKE_TOKEN} dist/*\n",
        "notes.txt": f"token {FAKE_TOKEN}\n"})
    repo = build(tmp_path / "repo", {f"{W}/ok.yml": PUBLISH})
    (repo / ".pypirc").symlink_to(outside / ".pypirc")
    (repo / W / "linked.yml").symlink_to(outside / "release.yml")
    (repo / "vendored").symlink_to(outside, target_is_directory=True)
    (repo / ".github" / "actions").symlink_to(outside, target_is_directory=True)
    (repo / "loop").symlink_to(repo, target_is_directory=True)
    (repo / W / "dangling.yml").symlink_to(repo / "missing.yml")
    report = audit(repo)
    assert not any(FAKE_TOKEN[:12] in f.message for f in report.findings)
    assert not findings(report, "hardcoded-token")
    assert not findings(report, "committed-pypirc")
    assert {f.location.path for f in report.findings} <= {
        f"{W}/ok.yml", f"{W}/linked.yml", f"{W}/dangling.yml"}
    [linked] = findings(report, "invalid-yaml", f"{W}/linked.yml")
    assert "outside the scanned tree" in linked.message
    assert findings(report, "invalid-yaml", f"{W}/dangling.yml")


def test_symlink_inside_the_tree_is_read(tmp_path: Path) -> None:
    repo = build(tmp_path, {"shared/release.yml": PUBLISH})
    (repo / W).mkdir(parents=True)
    (repo / W / "release.yml").symlink_to(repo / "shared" / "release.yml")
    report = audit(repo)
    assert findings(report, "unpinned-action", f"{W}/release.yml")


@pytest.mark.parametrize("shape", ["self", "pair"])
def test_symlink_file_loops(tmp_path: Path, shape: str) -> None:
    repo = build(tmp_path, {f"{W}/ok.yml": PUBLISH})
    if shape == "self":
        (repo / "self.txt").symlink_to("self.txt")
    else:
        (repo / W / "a.yml").symlink_to("b.yml")
        (repo / W / "b.yml").symlink_to("a.yml")
    report = audit(repo)
    assert findings(report, "unpinned-action", f"{W}/ok.yml")


def test_fifo_in_the_tree_does_not_block(tmp_path: Path) -> None:
    repo = build(tmp_path, {f"{W}/ok.yml": PUBLISH})
    os.mkfifo(repo / W / "pipe.yml")
    with time_bound(5):
        report = audit(repo)
    assert findings(report, "unpinned-action", f"{W}/ok.yml")


@pytest.mark.parametrize("content", [
    b"\x00\x01\x02\xff" * 4096,
    b'[remote "origin"\n url = = =\n[[[\n\xff\xfe',
    b'[remote "origin"]\n\turl = \n\turl = ://\n\turl = git@:\n\turl = https://github.com/\n',
])
def test_git_config_garbage(tmp_path: Path, content: bytes) -> None:
    report = audit(tmp_path, {".git/config": content, f"{W}/ok.yml": PUBLISH})
    assert findings(report, "unpinned-action")
    assert all(f.location.path != ".git/config" for f in report.findings)


def test_git_config_huge_with_origin_past_the_read_limit(tmp_path: Path) -> None:
    content = b'[remote "origin"]\n' + b"\tfetch = +refs/heads/*:refs/x/*\n" * 200_000 + \
        b"\turl = https://github.com/owner/repo.git\n"
    build(tmp_path, {".git/config": content, f"{W}/ok.yml": PUBLISH})
    document = cli_json(tmp_path)
    assert document["publish_jobs"]


def test_git_is_a_file_pointing_nowhere(tmp_path: Path) -> None:
    report = audit(tmp_path, {".git": "gitdir: ../../nowhere/../x\n", f"{W}/ok.yml": PUBLISH})
    assert findings(report, "unpinned-action")


def test_git_file_with_a_nul_byte(tmp_path: Path) -> None:
    report = audit(tmp_path, {".git": "gitdir: x\x00y\n", f"{W}/ok.yml": PUBLISH})
    assert findings(report, "unpinned-action")


# --------------------------------------------------------------------------- pyproject


def test_pyproject_binary_is_a_config_finding(tmp_path: Path) -> None:
    report = audit(tmp_path, {"pyproject.toml": b"\x00\x01\x02\xff" * 100,
                              f"{W}/ok.yml": PUBLISH})
    assert findings(report, "invalid-config", "pyproject.toml")
    assert findings(report, "unpinned-action")


@pytest.mark.parametrize("text", [
    "[project]\nname = 3\nlicense = 4\nlicense-files = 5\nversion = []\n",
    "project = 3\ntool = 'x'\n",
    "[project]\nname = ['x']\n[tool]\nuv = 3\n",
    "[tool.uv]\nindex = 'x'\n[[tool.uv.index]]\n",
    "[[tool.uv.index]]\nname = 3\nurl = []\n[[tool.uv.index]]\nname = 'x'\npublish-url = 1\n",
    "[tool]\npubaudit = 3\n",
])
def test_pyproject_wrong_types_do_not_crash(tmp_path: Path, text: str) -> None:
    report = audit(tmp_path, {"pyproject.toml": text, f"{W}/ok.yml": PUBLISH})
    assert findings(report, "unpinned-action")


def test_pyproject_publishers_not_a_table_is_reported_at_the_key(tmp_path: Path) -> None:
    text = "[project]\nname = 'x'\n\n[tool.pubaudit]\npublishers = \"x\"\n"
    report = audit(tmp_path, {"pyproject.toml": text, f"{W}/ok.yml": PUBLISH})
    [bad] = findings(report, "invalid-config")
    assert bad.location.line == 5 and "publishers" in bad.message


def test_pyproject_wrong_types_through_the_cli_exit_2(tmp_path: Path) -> None:
    build(tmp_path, {"pyproject.toml": "[tool.pubaudit]\npublishers = 'x'\nrules = 3\n",
                     f"{W}/ok.yml": PUBLISH})
    proc = subprocess.run([sys.executable, "-m", "auditor", "scan", "."], cwd=tmp_path,
                          capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "invalid-config" in proc.stdout


def test_pyproject_that_is_not_toml_is_a_finding(tmp_path: Path) -> None:
    report = audit(tmp_path, {"pyproject.toml": "[project\nname = 'x'\n",
                              f"{W}/ok.yml": PUBLISH})
    assert [f for f in report.findings if f.location.path == "pyproject.toml"]


def test_invalid_select_is_reported(tmp_path: Path) -> None:
    report = audit(tmp_path, {"pyproject.toml": "[tool.pubaudit]\nselect = 'x'\n",
                              f"{W}/ok.yml": PUBLISH})
    assert findings(report, "invalid-config")


# --------------------------------------------------------------------------- local references


def caller(target: str) -> str:
    return ("on:\n  workflow_call:\n  push:\n    tags: ['v*']\njobs:\n  call:\n"
            f"    uses: ./{W}/{target}\n    permissions:\n      id-token: write\n"
            f"  pub:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: {ACTION_REF}\n")


@pytest.mark.parametrize("explicit", [False, True], ids=["tree", "files"])
def test_reusable_workflow_call_cycles(tmp_path: Path, explicit: bool) -> None:
    build(tmp_path, {".git/config": "", f"{W}/a.yml": caller("b.yml"),
                     f"{W}/b.yml": caller("a.yml"), f"{W}/self.yml": caller("self.yml")})
    if explicit:
        from auditor.engine.scan import Options, scan

        report = scan([tmp_path / W / "a.yml"], Options())
        check_report(report, report.root)
        assert {f.location.path for f in report.findings} >= {f"{W}/a.yml", f"{W}/b.yml"}
    else:
        report = audit(tmp_path)
        paths = {f.location.path for f in findings(report, "unpinned-action")}
        assert paths == {f"{W}/a.yml", f"{W}/b.yml", f"{W}/self.yml"}


def test_uses_dot_pointing_at_itself(tmp_path: Path) -> None:
    report = audit(tmp_path, {
        f"{W}/a.yml": "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                      f"      - uses: ./\n      - uses: ./{W}/a.yml\n      - uses: ./.github/"
                      "actions/me\n      - uses: ./../../etc\n      - uses: ./.\n",
        ".github/actions/me/action.yml": "runs:\n  using: composite\n  steps:\n"
                                         "    - uses: ./.github/actions/me\n    - uses: ./\n",
        "action.yml": "runs:\n  using: composite\n  steps:\n    - uses: ./\n"
                      "    - run: twine upload dist/*\n      shell: bash\n"})
    assert report.publish_job_count, "the upload in ./action.yml is reached through uses: ./"


# --------------------------------------------------------------------------- scripts and guards


def test_megabyte_run_script_with_unclosed_quotes_and_heredocs(tmp_path: Path) -> None:
    chunk = ["echo \"unclosed $(foo 'bar", "cat <<EOF", "twine upload dist/* ${{ secrets.X",
             "(( [ `x", "if then fi <<-'Q'", "python - <<'PY'", "print(\"\"\"", "PY"]
    lines = [f"          {chunk[i % len(chunk)]}" for i in range(1_000_000 // 20)]
    text = (PUBLISH + "      - run: |\n" + "\n".join(lines) + "\n" +
            "      - run: twine upload --password ${{ secrets.PYPI_TOKEN }} dist/*\n")
    report = audit(tmp_path, {f"{W}/big-run.yml": text})
    last_line = text.count("\n")
    tokens = [f for f in findings(report, "leftover-token") if f.location.line == last_line]
    assert tokens and tokens[0].location.column == text.splitlines()[-1].index("--password") + 1


def test_many_commands_in_one_script_keep_their_own_lines(tmp_path: Path) -> None:
    """Regression: positions.scalar_span re-counted the script from its start for every
    command (quadratic); it now indexes line starts once."""
    count = 5000
    step = "          echo {:05d} && twine upload dist/* --password ${{{{ secrets.T }}}}\n"
    text = PUBLISH + "      - run: |\n" + "".join(step.format(i) for i in range(count))
    report = audit(tmp_path, {f"{W}/many.yml": text})
    column = step.format(0).index("--password") + 1
    lines = sorted((f.location.line, f.location.column) for f in findings(report, "leftover-token"))
    assert lines == [(8 + i, column) for i in range(count)]


@pytest.mark.parametrize("files", [
    {f"{W}/a.yml": PUBLISH + "        with:\n          repository-url: https://[pypi.org/\n"},
    {f"{W}/a.yml": PUBLISH + "      - run: twine upload --repository-url 'https://[x' dist/*\n"},
    {f"{W}/a.yml": PUBLISH + "      - run: uv publish --index x\n",
     "pyproject.toml": "[[tool.uv.index]]\nname = 'x'\npublish-url = 'https://[x'\n"},
], ids=["action-input", "twine-option", "uv-index"])
def test_unclosed_ipv6_bracket_in_an_index_url(tmp_path: Path, files: dict[str, str]) -> None:
    report = audit(tmp_path, dict(files))
    assert findings(report, "unpinned-action")


@pytest.mark.parametrize("files", [
    {f"{W}/dynamic.yml": PUBLISH.replace(
        "    runs-on:", "    environment: ${{ inputs.env }}\n    runs-on:")},
    {".gitlab-ci.yml": "publish:\n  environment:\n    name: $DEPLOY_ENV\n  id_tokens:\n"
                       "    PYPI_ID_TOKEN:\n      aud: pypi\n  script:\n    - uv publish\n"},
], ids=["github", "gitlab"])
def test_dynamic_environment_keeps_the_json_report_valid(
        tmp_path: Path, files: dict[str, str]) -> None:
    audit(tmp_path, dict(files))


@pytest.mark.parametrize("shape", ["nested-expr", "parens", "nots", "ors", "ands", "mixed"])
def test_deep_if_expressions(tmp_path: Path, shape: str) -> None:
    """Regression for guards: parenthesis unwrapping was quadratic in the nesting (10k
    parentheses took over a minute per evaluation); splitting scanned char by char."""
    n = 10_000
    push = "github.event_name == 'push'"
    expr = {
        "nested-expr": "${{ " * n + push + " }}" * n,
        "parens": "${{ " + "(" * n + push + ")" * n + " }}",
        "nots": "${{ " + "!" * n + push + " }}",
        "ors": "${{ " + " || ".join([push] * n) + " }}",
        "ands": "${{ " + " && ".join([push] * n) + " }}",
        "mixed": "${{ " + "(!(a && " * n + "b" + "))" * n + " }}",
    }[shape]
    text = PUBLISH.replace("    runs-on:", f"    if: \"{expr}\"\n    runs-on:")
    report = audit(tmp_path, {f"{W}/if.yml": text})
    assert findings(report, "unpinned-action")


@pytest.mark.parametrize("shape", ["parens", "ors", "nots"])
def test_guard_work_grows_linearly(shape: str) -> None:
    """Regression: unwrapping n parentheses took n passes over the text (quadratic)."""
    push = "github.event_name == 'push'"

    def guard(n: int) -> str:
        if shape == "parens":
            return "(" * n + push + ")" * n
        if shape == "ors":
            return " || ".join(f"github.event_name == 'e{i}'" for i in range(n))
        return "!" * n + push

    ratio = work(lambda: possible(guard(2000), "push", "tag")) / work(
        lambda: possible(guard(500), "push", "tag"))
    assert ratio < 4 * 2, f"4x the nesting cost {ratio:.1f}x the work"


def test_guard_evaluation_keeps_its_meaning_at_depth() -> None:
    push = "github.event_name == 'push'"
    tag = "startsWith(github.ref, 'refs/tags/')"
    deep = "(" * 10_000 + push + ")" * 10_000
    assert possible(f"${{{{ {deep} }}}}", "push", "branch")
    assert not possible(f"${{{{ {deep} }}}}", "pull_request", "branch")
    assert not possible(f"(({push})) && (({tag}))", "push", "branch")
    assert possible(f"(({push})) && (({tag}))", "push", "tag")
    assert possible(f"({push}) || ({tag})", "release", "tag")
    assert possible(f"!({push})", "release", "branch")
    assert not possible(f"!(({push}))", "push", "tag")
    assert possible("((github.event_name == 'push')", "pull_request", "branch"), "unbalanced"
    assert possible(f"'(' != ')' && {push}", "push", "branch")
    assert not possible(f"'(' == ')' && {push}", "push", "branch"), "literals compare"


def test_long_alphanumeric_line_is_scanned_in_bounded_time(tmp_path: Path) -> None:
    """A 1 MB hex line: the credentials-in-URL pre-filter used to retry its scheme part at
    every letter of the run (quadratic, hours); it now starts at ``://``."""
    build(tmp_path, {"firmware.hex": "0123456789abcdef" * 62_500 + "\n",
                     f"{W}/ok.yml": PUBLISH})
    with time_bound(30):
        report = audit(tmp_path)
    assert findings(report, "unpinned-action")


def test_colon_run_after_a_scheme_is_scanned_in_bounded_time(tmp_path: Path) -> None:
    build(tmp_path, {"bundle.min.js": "x='https://" + "a:" * 500_000 + "'\n",
                     f"{W}/ok.yml": PUBLISH})
    with time_bound(10):
        report = audit(tmp_path)
    assert findings(report, "unpinned-action")


# --------------------------------------------------------------------------- output safety
# Issue 16, items 5 and 6: no secret in any output, and output is inert.

TOKEN = "pypi-AgEIcHlwaS5vcmc" + "Qk9HVVNUT0tFTmJvZ3VzdG9rZW4xMjM0NTY3ODkw" * 4
OTHER_SECRETS = ("ghp_" + "A1b2C3d4E5" * 4, "glpat-" + "x1Y2z3W4v5" * 3,
                 "npm_" + "Q1w2E3r4T5" * 4, "AKIAIOSFODNN7EXAMPLE", "hunter2secretpass",
                 "MIIEowIBAAKCAQEAzZ1bogusbogusbogusbogusbogusbogusbogus")
SCAN_FORMATS = ("text", "json", "sarif", "github", "markdown")
NASTY = "\x1b]0;pwned\x07\x1b[2J\x08\x00\r\u202e"
YAML_NASTY = r"\e]0;pwned\a\e[2J\b\0\r\u202e"  # the same, in a YAML double-quoted string


def run(root: Path, *args: str, stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    """Any pubaudit command in a subprocess; output decoded strictly as UTF-8."""
    env = {k: v for k, v in os.environ.items() if k != "PUBAUDIT_DEBUG"} | {"NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "auditor", *args], cwd=root,
                          capture_output=True, input=(stdin or "").encode(), timeout=CLI_TIMEOUT,
                          env=env, check=False)
    assert b"Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode in (0, 1, 2), (proc.returncode, proc.stderr[-3000:])
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(),
                                       proc.stderr.decode())


def every_output(root: Path, log: str = "") -> dict[str, str]:
    """stdout and stderr of every command and format, by a name for the assertion."""
    outputs = {}
    for fmt in SCAN_FORMATS:
        proc = run(root, "scan", ".", "--format", fmt)
        outputs[f"scan {fmt}"] = proc.stdout + proc.stderr
    for fmt in ("text", "toml", "json"):
        proc = run(root, "publishers", ".", "--format", fmt)
        outputs[f"publishers {fmt}"] = proc.stdout + proc.stderr
    for fmt in ("text", "json"):
        proc = run(root, "explain-log", "-", "--path", ".", "--format", fmt, stdin=log)
        outputs[f"explain-log {fmt}"] = proc.stdout + proc.stderr
    return outputs


def secret_repository(root: Path) -> Path:
    pem = ("-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join([OTHER_SECRETS[5]] * 3)
           + "\n-----END RSA PRIVATE KEY-----\n")
    return build(root, {
        f"{W}/release.yml": (
            "on: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n    steps:\n"
            f"      - uses: {ACTION_REF}\n        with:\n          password: {TOKEN}\n"
            f"      - run: twine upload -p {TOKEN} dist/*  # {TOKEN}\n"
            f"        env:\n          GH: {OTHER_SECRETS[0]}\n          GL: {OTHER_SECRETS[1]}\n"
            f"          NPM: {OTHER_SECRETS[2]}\n          AWS: {OTHER_SECRETS[3]}\n"
            f"          PIP_INDEX_URL: https://me:{OTHER_SECRETS[4]}@pypi.example.com/simple\n"),
        ".github/actions/up/action.yml": (
            "name: up\nruns:\n  using: composite\n  steps:\n"
            f"    - run: twine upload -p {TOKEN} dist/*\n      shell: bash\n"),
        ".pypirc": f"[pypi]\nusername = __token__\npassword = {TOKEN}\n",
        "setup.cfg": f"[metadata]\nname = demo\n# {TOKEN}\n",
        "key.pem": pem,
        "pyproject.toml": (f'[project]\nname = "demo"\n[tool.pubaudit]\nignore = ["{TOKEN}"]\n'
                           f'# https://me:{OTHER_SECRETS[4]}@pypi.example.com/simple\n'),
    })


def test_no_secret_in_any_output(tmp_path: Path) -> None:
    root = secret_repository(tmp_path)
    log = (f"Uploading with token {TOKEN}\nERROR HTTPError: 403 Forbidden from "
           f"https://upload.pypi.org/legacy/ {OTHER_SECRETS[0]}\n")
    outputs = every_output(root, log)
    assert "hardcoded-token" in outputs["scan json"]  # the secrets were seen
    assert "invalid-config" in outputs["scan json"]
    for name, output in outputs.items():
        for secret in (TOKEN, TOKEN[:40], *OTHER_SECRETS):
            assert secret not in output, f"{name} prints {secret[:12]}..."
    assert "pypi-AgEIcHl" in outputs["scan text"]  # masks keep a recognisable prefix
    assert "https://me:***@pypi.example.com" in outputs["scan text"]


@pytest.mark.parametrize("text, expected", [
    (f"x {TOKEN} y", "x pypi-AgEIcHl…"),
    ("https://u:p4ss@host/x", "https://u:***@host/x"),
    ("https://u:${{ secrets.P }}@host", "https://u:${{ secrets.P }}@host"),
    ("ghp_" + "a1" * 20, "ghp_a1a1…"),
    ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSF…"),
    ("-----BEGIN PRIVATE KEY-----\n  abc\n-----END PRIVATE KEY-----",
     "-----BEGIN PRIVATE KEY-----\n  ***\n-----END PRIVATE KEY-----"),
    ("no secret here: pypi-short", "no secret here: pypi-short"),
])
def test_redact(text: str, expected: str) -> None:
    from auditor.output.redact import redact

    assert redact(text).startswith(expected)
    assert redact(redact(text)) == redact(text)


def hostile_repository(root: Path, name: str = "rel.yml") -> Path:
    return build(root, {
        f"{W}/{name}": (
            "on: push\njobs:\n"
            f'  "pub\\n::error::pwned{YAML_NASTY}":\n    runs-on: ubuntu-latest\n'
            f'    environment: "env\\n::error::pwned{YAML_NASTY}"\n'
            "    permissions:\n      id-token: write\n    steps:\n"
            f'      - name: "{YAML_NASTY}"\n        uses: {ACTION_REF}\n'),
        "pyproject.toml": '[project]\nname = "demo"\n',
    })


def _assert_inert(name: str, output: str) -> None:
    for char in "\x1b\x07\x08\x00\r\u202e":
        assert char not in output, f"{name} prints {char!r}"
    for line in output.splitlines():
        assert not line.lstrip().startswith("::error::pwned"), f"{name}: {line!r}"


def test_human_output_is_inert(tmp_path: Path) -> None:
    root = hostile_repository(tmp_path)
    outputs = every_output(root, log=f"ERROR {NASTY}\n::error::pwned\n")
    for name, output in outputs.items():
        if name.endswith("json") or name.endswith("sarif"):
            continue  # escaped by JSON
        _assert_inert(name, output)
        if name != "scan github":
            assert not any(line.lstrip().startswith("::") for line in output.splitlines()), \
                name
    assert "\\x1b]0;pwned" in outputs["publishers text"]


def test_publishers_toml_is_valid_toml(tmp_path: Path) -> None:
    import tomllib

    root = hostile_repository(tmp_path)
    output = run(root, "publishers", ".", "--format", "toml").stdout
    document = tomllib.loads(output)
    environment = document["tool"]["pubaudit"]["publishers"][0]["environment"]
    assert environment.startswith("env\n::error::pwned\x1b")  # escaped, and still the value
    _assert_inert("publishers toml", output)


def test_github_commands_escape_names_and_messages(tmp_path: Path) -> None:
    root = hostile_repository(tmp_path, "a%0A::error::x,y:z.yml")
    output = run(root, "scan", ".", "--format", "github").stdout
    lines = output.splitlines()
    assert lines and all(line.startswith("::") for line in lines[:-1])
    assert all("::error::pwned" not in line.split("::", 2)[1] for line in lines[:-1])
    assert "file=.github/workflows/a%250A%3A%3Aerror%3A%3Ax%2Cy%3Az.yml" in output


def test_non_utf8_file_name(tmp_path: Path) -> None:
    name = os.fsdecode(b"\xff.yml")
    build(tmp_path, {f"{W}/{name}": PUBLISH})
    for fmt in SCAN_FORMATS:
        proc = run(tmp_path, "scan", ".", "--format", fmt)
        assert proc.returncode in (0, 1), (fmt, proc.stderr)
        assert "missing-id-token" in proc.stdout or fmt == "markdown"
        if fmt == "text":
            assert "\\xff.yml" in proc.stdout
        if fmt == "sarif":
            assert "%FF.yml" in proc.stdout
        if fmt == "json":
            paths = {f["location"]["path"] for f in json.loads(proc.stdout)["findings"]}
            assert os.fsencode(f"{W}/{name}") in {os.fsencode(p) for p in paths}
    for fmt in ("text", "toml", "json"):
        assert run(tmp_path, "publishers", ".", "--format", fmt).returncode == 0


def test_one_line_workflow_output_is_linear(tmp_path: Path) -> None:
    jobs = ", ".join(f"j{i}: {{runs-on: x, steps: [{{uses: {ACTION_REF}}}]}}"
                     for i in range(1000))
    build(tmp_path, {f"{W}/w.yml": f"{{on: push, jobs: {{{jobs}}}}}\n"})
    size = (tmp_path / W / "w.yml").stat().st_size
    with time_bound(60):
        for fmt in SCAN_FORMATS:
            proc = run(tmp_path, "scan", ".", "--format", fmt)
            assert "missing-id-token" in proc.stdout or fmt == "markdown"
            findings = max(proc.stdout.count("missing-id-token"), 1)
            assert len(proc.stdout) < 20 * size + 20_000 * findings, (fmt, len(proc.stdout))
    text = run(tmp_path, "scan", ".", "--format", "text").stdout
    assert "…" in text
    assert max(len(line) for line in text.splitlines()) < 1000


def test_excerpt_clips_around_the_span() -> None:
    from auditor.formats.excerpt import CONTEXT, clip

    line = "a" * 5000 + "TARGET" + "b" * 5000
    excerpt = clip(line, [], 5000, 5006)
    assert excerpt.text[excerpt.start:excerpt.end] == "TARGET"
    assert excerpt.text.startswith("…") and excerpt.text.endswith("…")
    assert len(excerpt.text) <= 2 * CONTEXT + 8
    masked = clip("x\x1by " + TOKEN, [(4, 4 + len(TOKEN), "MASK")], 4, 4 + len(TOKEN))
    assert masked.text == "x\\x1by MASK"
    assert masked.text[masked.start:masked.end] == "MASK"


@pytest.mark.parametrize("workflow", ["ok.yml\\u0000.yml", "ok\\u202e.yml", "ok\\u001b.yml"])
def test_publishers_and_scan_agree_on_malformed_declarations(tmp_path: Path,
                                                             workflow: str) -> None:
    build(tmp_path, {
        f"{W}/ok.yml": ("on: push\njobs:\n  publish:\n    runs-on: ubuntu-latest\n"
                        "    permissions:\n      id-token: write\n    steps:\n"
                        f"      - uses: {ACTION_REF}\n"),
        "pyproject.toml": (
            '[project]\nname = "demo"\n[[tool.pubaudit.publishers]]\nindex = "pypi"\n'
            'owner = "o"\nrepository = "r"\n'
            f'workflow = "{workflow}"\n'),
    })
    scan_json = json.loads(run(tmp_path, "scan", ".", "--format", "json").stdout)
    assert json_findings(scan_json, "publisher-malformed")
    listed = json.loads(run(tmp_path, "publishers", ".", "--format", "json").stdout)
    assert [p["status"] for p in listed["publishers"]] == ["malformed"]
    text = run(tmp_path, "publishers", ".").stdout
    assert "is malformed" in text
    assert not any(line.endswith(" matches") for line in text.splitlines())

# --------------------------------------------------------------------------- special files


SPECIAL_TARGETS = [".gitignore", ".pypirc", "README.md", ".gitlab-ci.yml",
                   ".github/actions/build/action.yml", ".git/config", "pyproject.toml",
                   "setup.cfg", "pubaudit.toml"]


@pytest.mark.parametrize("rel", SPECIAL_TARGETS)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_special_files_are_never_read(tmp_path: Path, rel: str, kind: str) -> None:
    repo = build(tmp_path, {f"{W}/ok.yml": PUBLISH})
    (repo / rel).parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(repo / rel)
    else:
        (repo / rel).symlink_to("/dev/zero")
    with time_bound(20):
        report = audit(repo)
    assert findings(report, "unpinned-action", f"{W}/ok.yml")


def test_character_device_linked_inside_the_tree_is_not_read(tmp_path: Path) -> None:
    from auditor.reading.source import read_regular

    (tmp_path / "zero").symlink_to("/dev/zero")
    assert "not a regular file" in str(read_regular(tmp_path / "zero", 1024))
    assert "outside the scanned tree" in str(read_regular(tmp_path / "zero", 1024, tmp_path))
    os.mkfifo(tmp_path / "pipe")
    assert "not a regular file" in str(read_regular(tmp_path / "pipe", 1024, tmp_path))
    (tmp_path / "big").write_bytes(b"x" * 2048)
    assert "larger than" in str(read_regular(tmp_path / "big", 1024, tmp_path))
    assert read_regular(tmp_path / "big", 4096, tmp_path) == b"x" * 2048


# --------------------------------------------------------------------------- TOML and JSON


@pytest.mark.parametrize(("text", "word"), [
    ("[project]\nname = 'x'\nv = 1" + "0" * 5000 + "\n", "digits"),
    ("a = " + "[" * 100_000 + "]" * 100_000 + "\n", "nesting"),
    ("a = " + "{b = " * 50_000 + "1" + "}" * 50_000 + "\n", "nesting"),
    ("[project]\nname = 'x'\n" + "# " + "x" * (3 * 1024 * 1024) + "\n", "larger"),
])
def test_hostile_pyproject_is_a_config_finding(tmp_path: Path, text: str, word: str) -> None:
    report = audit(tmp_path, {"pyproject.toml": text, f"{W}/ok.yml": PUBLISH})
    [bad] = findings(report, "invalid-config", "pyproject.toml")
    assert word in bad.message
    assert findings(report, "unpinned-action")


def test_pyproject_invalid_utf8_points_at_the_byte(tmp_path: Path) -> None:
    report = audit(tmp_path, {"pyproject.toml": b"[project]\nname = '\xff'\n",
                              f"{W}/ok.yml": PUBLISH})
    [bad] = findings(report, "invalid-config", "pyproject.toml")
    assert "UTF-8" in bad.message and bad.location.line == 2


@pytest.mark.parametrize("text", [
    "select = [1" + "0" * 5000 + "]\n",
    "select = " + "[" * 100_000 + "]" * 100_000 + "\n",
])
def test_hostile_config_option_exits_2(tmp_path: Path, text: str) -> None:
    build(tmp_path, {"bad.toml": text, f"{W}/ok.yml": PUBLISH})
    proc = subprocess.run([sys.executable, "-m", "auditor", "scan", ".", "--config", "bad.toml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=CLI_TIMEOUT,
                          check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]


@pytest.mark.parametrize("text", [
    '{"fingerprints": [1' + "0" * 100_000 + "]}",
    "[" * 100_000 + "]" * 100_000,
    '{"fingerprints": ["\xff"]}',
])
def test_hostile_baseline_is_a_baseline_error(tmp_path: Path, text: str) -> None:
    from auditor.engine.scan import BaselineError, read_baseline

    (tmp_path / "b.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(BaselineError, match="cannot read it"):
        read_baseline(tmp_path / "b.json")



# --------------------------------------------------------------------------- unbreakable, part two


def long_host_repository(root: Path, labels: int) -> Path:
    """An upload URL whose host is ``labels`` times ``a.`` before ``pypi.org``, in the
    publish action's ``repository-url`` and in a twine command."""
    url = "https://" + "a." * labels + "pypi.org/legacy/"
    return build(root, {f"{W}/w.yml": (
        "on:\n  push:\n    tags: ['v*']\njobs:\n  publish:\n    runs-on: ubuntu-latest\n"
        "    environment: pypi\n    permissions:\n      id-token: write\n    steps:\n"
        f"      - uses: {ACTION_REF}\n        with:\n          repository-url: \"{url}\"\n"
        f"      - run: twine upload --repository-url {url} dist/*\n")})


def test_long_upload_host_work_grows_linearly(tmp_path: Path) -> None:
    small = long_host_repository(tmp_path / "small", 2_000)
    large = long_host_repository(tmp_path / "large", 8_000)
    assert len(findings(audit(large), "wrong-index-url")) == 2
    ratio = work(lambda: scan_tree(large)) / work(lambda: scan_tree(small))
    assert ratio < 4 * 2, f"4x the host cost {ratio:.1f}x the work"


def test_long_host_does_not_slow_the_url_patterns() -> None:
    from auditor.checks.credentials import _URL_RE
    from auditor.output.redact import redact
    from auditor.upload.indexes import _near_pypi_host

    host = "a." * 700_000 + "pypi.org"
    assert not _near_pypi_host(host) and _near_pypi_host("pypl.org")
    with time_bound(20):
        assert redact(f"https://{host}/legacy/") == f"https://{host}/legacy/"
        assert _URL_RE.search(f"x https://{host}/legacy/") is None
    assert redact("git+https://u:hunter2@example.org/x") == "git+https://u:***@example.org/x"


def test_megabyte_upload_host_in_every_format(tmp_path: Path) -> None:
    root = long_host_repository(tmp_path, 700_000)  # a 1.4 MB line
    with time_bound(100):
        for fmt in (*SCAN_FORMATS, "concise"):
            proc = run(root, "scan", ".", "--format", fmt)
            assert proc.returncode == 1, (fmt, proc.stderr[-2000:])


def many_workflows(root: Path, count: int) -> Path:
    """``count`` small publishing workflows (tag trigger, environment, id-token)."""
    return build(root, {f"{W}/w{i}.yml": (
        "on:\n  push:\n    tags: ['v*']\njobs:\n  publish:\n    runs-on: ubuntu-latest\n"
        "    environment: pypi\n    permissions:\n      id-token: write\n    steps:\n"
        f"      - uses: {ACTION_REF}\n") for i in range(count)})


def test_work_grows_linearly_with_the_number_of_workflows(tmp_path: Path) -> None:
    small = many_workflows(tmp_path / "small", 100)
    large = many_workflows(tmp_path / "large", 400)
    assert len(findings(audit(large), "unpinned-action")) == 400
    ratio = work(lambda: scan_tree(large)) / work(lambda: scan_tree(small))
    assert ratio < 4 * 1.5, f"4x the workflows cost {ratio:.1f}x the work"


def one_line_jobs(root: Path, count: int) -> Path:
    """A flow mapping of ``count`` uploading jobs, all on one line."""
    jobs = ", ".join(f'j{i}: {{runs-on: x, steps: [{{run: "twine upload dist/*"}}]}}'
                     for i in range(count))
    return build(root, {f"{W}/w.yml": f"{{on: push, jobs: {{{jobs}}}}}\n"})


def test_one_line_of_jobs_hashes_and_parses_the_line_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The C-level work (hashing, comment regex) is invisible to ``work()``: count the bytes
    hashed and the lines searched for an ignore comment instead."""
    import hashlib

    from auditor.engine import scan as engine

    hashed = searched = 0

    def sha256_hex(data: bytes = b"") -> str:
        nonlocal hashed
        hashed += len(data)
        return hashlib.sha256(data).hexdigest()

    def ignored_names(line: str) -> Any:
        nonlocal searched
        searched += len(line)
        return real_ignored(line)

    from auditor.reading.suppression import ignored_names as real_ignored

    monkeypatch.setattr(engine, "sha256_hex", sha256_hex)
    monkeypatch.setattr(engine, "ignored_names", ignored_names)
    costs = []
    for count in (200, 800):
        hashed = searched = 0
        root = one_line_jobs(tmp_path / str(count), count)
        report = audit(root)
        assert len({f.location.path for f in report.findings}) == 1
        assert len(findings(report, "missing-id-token")) >= count
        costs.append((hashed, searched, work(functools.partial(scan_tree, root))))
    for small, large in zip(costs[0], costs[1], strict=True):
        assert large < 4 * 2 * small, f"4x the jobs cost {large / small:.1f}x"


def gitlab_rule(depth: int) -> str:
    return ("publish:\n  environment: pypi\n  id_tokens:\n    PYPI_ID_TOKEN:\n      aud: pypi\n"
            f"  rules:\n    - if: '{'(' * depth}$CI_COMMIT_TAG{')' * depth}'\n"
            "  script:\n    - twine upload dist/*\n")


@pytest.mark.parametrize(("depth", "tag_only"), [(10, True), (50, True), (500, False),
                                                  (100_000, False)])
def test_deeply_parenthesised_gitlab_rule_is_unknown_not_a_crash(
        tmp_path: Path, depth: int, tag_only: bool) -> None:
    from auditor.gitlab.conditions import FALSE, UNKNOWN, without_tag

    expression = "(" * depth + "$CI_COMMIT_TAG" + ")" * depth
    assert without_tag(expression) == (FALSE if tag_only else UNKNOWN)
    report = audit(tmp_path, {".gitlab-ci.yml": gitlab_rule(depth)})
    assert bool(findings(report, "gitlab-unprotected-publish")) is not tag_only


def reference_fan_out(levels: int, width: int = 10) -> str:
    """``.l0`` has ``width`` script lines; each further level references the one below
    ``width`` times, so the publish job's script is ``width ** levels`` lines."""
    out = [".l0:\n  script:\n" + "".join(f"    - echo {i}\n" for i in range(width))]
    out += [f".l{level}:\n  script:\n" + f"    - !reference [.l{level - 1}, script]\n" * width
            for level in range(1, levels)]
    out.append("publish:\n  environment: pypi\n  id_tokens:\n    PYPI_ID_TOKEN:\n"
               "      aud: pypi\n  rules:\n    - if: $CI_COMMIT_TAG\n  script:\n"
               f"    - !reference [.l{levels - 1}, script]\n    - twine upload dist/*\n")
    return "".join(out)


def test_reference_fan_out_is_bounded(tmp_path: Path) -> None:
    from auditor.gitlab.model import MAX_EXPANDED_ITEMS

    costs = {}
    for levels in (3, 6, 11):
        root = build(tmp_path / str(levels), {".gitlab-ci.yml": reference_fan_out(levels)})
        report = audit(root)
        too_large = [f for f in findings(report, "invalid-workflow")
                     if f"more than {MAX_EXPANDED_ITEMS}" in f.message]
        assert len(too_large) == (levels > 4), levels
        assert report.inventory, "the upload after the expansion is still seen"
        costs[levels] = work(functools.partial(scan_tree, root))
    assert costs[11] < 2 * costs[6], costs


def calling_each_other(root: Path, calls: int, files: int = 8) -> Path:
    """``files`` reusable workflows, each calling the next ``calls`` times; the fourth is
    also started by ``pull_request_target`` and the last one publishes."""
    out: dict[str, str | bytes] = {}
    for i in range(files):
        event = "  pull_request_target:\n" if i == 3 else ""
        head = f"on:\n  push:\n    tags: ['v*']\n{event}  workflow_call:\njobs:\n"
        jobs = "".join(f"  call{j}:\n    uses: ./{W}/w{i + 1}.yml\n" for j in range(calls))
        if i == files - 1:
            jobs = (f"  publish:\n    runs-on: x\n    permissions:\n      id-token: write\n"
                    f"    steps:\n      - uses: {ACTION_REF}\n")
        out[f"{W}/w{i}.yml"] = head + jobs
    return build(root, out)


def test_reusable_workflows_calling_each_other_many_times(tmp_path: Path) -> None:
    small = calling_each_other(tmp_path / "small", 4)
    large = calling_each_other(tmp_path / "large", 16)
    for root in (small, large):
        [dangerous] = findings(audit(root), "dangerous-publish-trigger")
        assert dangerous.location.path == f"{W}/w3.yml"
        assert "the calling job" in [label for label, _ in dangerous.related]
    ratio = work(functools.partial(scan_tree, large)) / work(functools.partial(scan_tree, small))
    assert ratio < 4 * 1.5, f"4x the calls cost {ratio:.1f}x the work"


def test_walk_does_not_follow_links_to_special_trees(tmp_path: Path) -> None:
    repo = build(tmp_path, {f"{W}/ok.yml": PUBLISH})
    for name in ("proc", "dev", "sys"):
        (repo / f"link-{name}").symlink_to(f"/{name}", target_is_directory=True)
    (repo / W / "up").symlink_to(tmp_path.parent, target_is_directory=True)
    with time_bound(20):
        report = audit(repo)
    assert report.files == 1
    assert findings(report, "unpinned-action", f"{W}/ok.yml")


def test_walk_stays_on_the_scanned_filesystem(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory on another device (as ``/proc`` is under ``/``) is not entered; the
    device of a real mount is simulated, as a test cannot mount one."""
    from auditor.repository import discovery

    repo = build(tmp_path, {f"{W}/ok.yml": PUBLISH, f"mounted/{W}/other.yml": PUBLISH})
    real = discovery._device

    def device(path: str) -> int | None:
        found = real(path)
        return None if found is None else found + 1 if path.endswith("mounted") else found

    monkeypatch.setattr(discovery, "_device", device)
    report = audit(repo)
    assert {f.location.path for f in report.findings} == {f"{W}/ok.yml"}


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_explain_log_refuses_a_special_file(tmp_path: Path, kind: str) -> None:
    log = tmp_path / "run.log"
    if kind == "fifo":
        os.mkfifo(log)
    else:
        log.symlink_to("/dev/zero")
    proc = subprocess.run([sys.executable, "-m", "auditor", "explain-log", str(log)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          check=False)
    assert proc.returncode == 2, proc.stderr
    assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr
