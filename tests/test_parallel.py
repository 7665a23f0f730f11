"""A tree of repositories audited by several processes gives the report one process gives.

``auditor.engine.parallel`` forks workers for a large tree of repositories; every format
must come out byte-identical to ``jobs=1``, whatever was dealt to which worker, and a worker
that fails must cost time, never findings.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import auditor.engine.scan as engine
from auditor.engine.parallel import deal, run_parts, worker_count
from auditor.engine.scan import Options, Report, scan
from auditor.reading.config import Config
from auditor.repository.discovery import tree_of_repositories, walk_tree
from tests.conftest import CORPUS, UNPINNED_RELEASE, release_workflow, write_tree
from tests.invariants import formats, render

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="workers are forked on Linux only")

TOKEN_UPLOAD = """
name: Upload
on:
  release:
    types: [published]
jobs:
  upload:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: python -m build
      - uses: pypa/gh-action-pypi-publish@release/v1
        with:
          password: ${{ secrets.PYPI_API_TOKEN }}
      - uses: pypa/gh-action-pypi-publish@release/v1  # the same step twice: one fingerprint
        with:
          password: ${{ secrets.PYPI_API_TOKEN }}
"""

GITLAB_UPLOAD = """
publish:
  stage: deploy
  image: python:3.12
  rules:
    - if: $CI_COMMIT_TAG
  variables:
    TWINE_USERNAME: __token__
    TWINE_PASSWORD: $PYPI_TOKEN
  script:
    - python -m build
    - twine upload dist/*
"""

IGNORED = UNPINNED_RELEASE.format(comment="  # pubaudit: ignore[unpinned-action]")

# A leaked token in a file of no repository: read by whichever worker gets the shared files.
LEAK = "deploy with pypi-AgEIcHlwaS5vcmc" + "A" * 60 + "\n"


def tree_of_six(root: Path) -> Path:
    """Six repositories (one nested in another, one GitLab), shared files at the top and a
    configuration file every worker reads."""
    return write_tree(root, {
        "alpha/.github/workflows/release.yml": release_workflow(),
        "alpha/.github/workflows/upload.yml": TOKEN_UPLOAD,
        "alpha/pyproject.toml": '[project]\nname = "alpha"\n',
        "beta/.github/workflows/release.yml": UNPINNED_RELEASE.format(comment=""),
        "beta/tools/inner/.github/workflows/upload.yml": TOKEN_UPLOAD,
        "gamma/.gitlab-ci.yml": GITLAB_UPLOAD,
        "delta/.github/workflows/ignored.yml": IGNORED,
        "delta/notes.txt": LEAK,
        "epsilon/.github/workflows/upload.yml": TOKEN_UPLOAD,
        "zeta/.github/workflows/release.yml": release_workflow(environment=None),
        "README.md": LEAK,
        "pubaudit.toml": "[tool.pubaudit]\nfail-on = \"loud\"\n",
    })


def counting_parts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record how many parts each scan was split into (the real runner still runs)."""
    sizes: list[int] = []

    def recording(parts: list[object], work: Callable[[object], object]) -> list[object]:
        sizes.append(len(parts))
        return run_parts(parts, work)

    monkeypatch.setattr("auditor.engine.parallel.run_parts", recording)
    return sizes


def rendered(report: Report) -> dict[str, str]:
    return {name: render(report, name) for name in formats()}


@pytest.mark.parametrize("jobs", [2, 3, 6])
def test_every_format_is_identical_to_one_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    root = tree_of_six(tmp_path)
    serial = scan([root], Options(jobs=1))
    sizes = counting_parts(monkeypatch)
    split = scan([root], Options(jobs=jobs))
    assert sizes == [jobs], "the tree was not split as asked"
    rules = {f.rule for f in serial.findings}
    # the cases the merge must get right: per-file duplicates, shared files, inline ignores,
    # the configuration's own finding (read by every worker, reported once), GitLab
    assert {"leftover-token", "unpinned-action", "hardcoded-token",
            "invalid-config"} <= rules, rules
    assert any(f.suppressed for f in serial.findings)
    assert sum(f.rule == "invalid-config" for f in split.findings) == \
        sum(f.rule == "invalid-config" for f in serial.findings) == 1
    assert any(f.location.path.startswith("gamma/") for f in serial.findings)
    assert split.files == serial.files
    assert split.nothing_to_audit is serial.nothing_to_audit is False
    expected, actual = rendered(serial), rendered(split)
    for name in expected:
        assert actual[name] == expected[name], f"{name} differs with {jobs} workers"


def test_chunks_of_one_repository_give_the_same_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker audits its repositories a chunk at a time and frees each chunk's models;
    the smallest chunks (one repository each), in one process or two, change nothing."""
    root = tree_of_six(tmp_path)
    expected = rendered(scan([root], Options(jobs=1)))
    monkeypatch.setattr(engine, "CHUNK_CI_FILES", 1)
    seen: list[int] = []
    real = engine._audit

    def audit(*args: object, **kwargs: object) -> object:
        seen.append(os.getpid())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_audit", audit)
    monkeypatch.setattr(engine, "MIN_CI_FILES", 0)
    monkeypatch.setattr("auditor.engine.parallel.available_cpus", lambda: 1)
    one_worker = rendered(scan([root], Options(jobs=0)))  # one CPU: chunks, no fork
    assert len(seen) >= 6 and set(seen) == {os.getpid()}
    two_workers = rendered(scan([root], Options(jobs=2)))
    for name in expected:
        assert one_worker[name] == expected[name], name
        assert two_workers[name] == expected[name], name


def test_the_cli_splits_and_prints_the_same(tmp_path: Path) -> None:
    import subprocess

    root = tree_of_six(tmp_path / "tree")
    out = {}
    for jobs in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-m", "auditor", "scan", str(root), "--format", "json",
             "--jobs", jobs], capture_output=True, timeout=300, check=False,
            env=dict(os.environ, NO_COLOR="1"))
        assert proc.returncode == 2, proc.stderr  # the configuration error: exit 2
        out[jobs] = proc.stdout
    assert out["1"] == out["2"] and b'"leftover-token"' in out["1"]


def test_a_worker_that_fails_has_its_part_redone_here() -> None:
    parent = os.getpid()

    def work(part: int) -> tuple[int, int]:
        if os.getpid() != parent and part == 2:
            raise RuntimeError("a child's failure")
        if os.getpid() != parent and part == 3:
            os._exit(9)  # killed without a word
        return part * 10, os.getpid()

    results = run_parts([1, 2, 3, 4], work)
    assert [value for value, _ in results] == [10, 20, 30, 40]
    pids = [pid for _, pid in results]
    assert pids[0] == pids[1] == pids[2] == parent  # the first here; 2 and 3 redone here
    assert pids[3] != parent  # a child really did part 4


def test_an_error_here_stops_the_children_and_reaches_the_caller() -> None:
    parent = os.getpid()

    def work(part: int) -> int:
        if os.getpid() == parent:
            raise ValueError("here")
        return part

    with pytest.raises(ValueError, match="here"):
        run_parts([1, 2], work)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left behind


def test_deal_is_deterministic_and_balanced() -> None:
    weights = [90, 10, 40, 40, 30, 30, 20, 5]
    bins = deal(weights, 2)
    assert bins == deal(list(weights), 2)
    assert sorted(i for b in bins for i in b) == list(range(len(weights)))
    loads = [sum(weights[i] for i in b) for b in bins]
    assert abs(loads[0] - loads[1]) <= 10
    assert all(b == sorted(b) for b in bins)


def test_worker_count() -> None:
    def count(jobs: int, units: int, amount: int) -> int:
        return worker_count(jobs, units, amount, 256, 128)

    assert count(1, 50, 10_000) == 1  # --jobs 1 never splits
    assert count(0, 50, 100) == 1  # auto: a small tree stays in one process
    assert count(4, 3, 10) == 3  # never more workers than repositories
    assert count(0, 1, 10_000) == 1  # one repository: nothing to split
    assert 1 <= count(0, 50, 10_000) <= max(2, os.cpu_count() or 1)


def test_many_repositories_on_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`scan repos/*`: each argument its own repository, dealt to workers, reported in the
    order given, the baseline over all of them as without workers."""
    from auditor.engine.scan import scan_repositories

    tree_of_six(tmp_path / "a")
    tree_of_six(tmp_path / "b")
    targets = sorted(p for p in (tmp_path / "a").iterdir() if p.is_dir())
    targets += sorted(p for p in (tmp_path / "b").iterdir() if p.is_dir())
    targets.reverse()  # the report keeps the command line's order, not the workers'
    serial = scan_repositories(targets, Options(jobs=1, baseline=tmp_path / "one.json"))
    sizes = counting_parts(monkeypatch)
    split = scan_repositories(targets, Options(jobs=0 if (os.cpu_count() or 1) > 1 else 3,
                                               baseline=tmp_path / "two.json"))
    assert sizes and sizes[0] >= 2
    assert [p.display_root for p in split.parts] == [p.display_root for p in serial.parts]
    assert (tmp_path / "one.json").read_text() == (tmp_path / "two.json").read_text()
    expected, actual = rendered(serial), rendered(split)
    for name in expected:
        assert actual[name] == expected[name], f"{name} differs"


def test_repositories_of_a_tree(tmp_path: Path) -> None:
    root = tree_of_six(tmp_path)
    groups = tree_of_repositories(walk_tree(root, Config()))
    assert groups is not None
    assert sorted(groups) == ["", "alpha/", "beta/", "delta/", "epsilon/", "gamma/", "zeta/"]
    # a repository inside another goes with it
    assert "beta/tools/inner/.github/workflows/upload.yml" in [r for r, _, _ in groups["beta/"]]
    assert sorted(r for r, _, _ in groups[""]) == ["README.md", "pubaudit.toml"]


@pytest.mark.parametrize("extra", [
    {".github/workflows/release.yml": release_workflow()},  # the root is a repository
    {".gitlab-ci.yml": GITLAB_UPLOAD},
    {"pyproject.toml": '[project]\nname = "root"\n'},  # its project applies to every workflow
    {"pubaudit.toml": '[[publishers]]\nindex = "pypi"\nproject = "a"\n'
                      'owner = "o"\nrepository = "r"\nworkflow = "release.yml"\n'},
])
def test_what_ties_the_tree_together_keeps_it_in_one_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str]) -> None:
    root = tree_of_six(tmp_path)
    (root / "pubaudit.toml").unlink()
    write_tree(root, extra)
    sizes = counting_parts(monkeypatch)
    scan([root], Options(jobs=2))
    assert sizes == []


def test_auto_leaves_a_small_tree_in_one_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = counting_parts(monkeypatch)
    scan([tree_of_six(tmp_path)], Options(jobs=0))
    assert sizes == []


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not present")
def test_the_corpus_split_over_workers_is_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    serial = scan([CORPUS], Options(jobs=1))
    sizes = counting_parts(monkeypatch)
    split = scan([CORPUS], Options(jobs=0 if (os.cpu_count() or 1) > 1 else 2))
    assert sizes and sizes[0] >= 2
    assert len(serial.findings) > 300
    expected, actual = rendered(serial), rendered(split)
    for name in expected:
        assert actual[name] == expected[name], f"{name} differs on the corpus"
