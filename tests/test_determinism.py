"""The same repository gives byte-identical output in every registered format, whatever
order the file system lists it in and whatever the interpreter's hash seed.

Findings are sorted by the engine, but anything that leaks directory order (``os.scandir``
and ``os.listdir`` return entries in on-disk order, which differs between file systems and
between two checkouts of one commit) or set order (``PYTHONHASHSEED``) into a message, a
related location, an inventory row or a fingerprint would make CI diffs and baselines flap.
The repositories are copied to the same path each time, so ``root`` and URIs can match.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.engine.scan import Options, scan
from tests.conftest import CORPUS
from tests.invariants import formats, render

# Several workflows each, GitLab CI, composite actions, publish jobs of different kinds.
REPOS = ("numpy__numpy", "sigstore__sigstore-python", "gwpy__gwpy", "pypa__sampleproject",
         "python-gitlab__python-gitlab")
AVAILABLE = [name for name in REPOS if (CORPUS / name).is_dir()]

pytestmark = pytest.mark.skipif(not AVAILABLE, reason="../shared/corpus is not present")


def files_of(source: Path) -> list[Path]:
    return sorted(p.relative_to(source) for p in source.rglob("*") if p.is_file())


def materialise(sources: list[Path], target: Path, reverse: bool) -> None:
    """Copy the repositories under ``target``, creating files (and directories) in sorted
    or reverse-sorted order: directory listings come back in a different order."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    plan = [(source, rel) for source in sources for rel in files_of(source)]
    for source, rel in (reversed(plan) if reverse else plan):
        destination = target / source.name / rel
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, destination)


def outputs(root: Path) -> dict[str, str]:
    report = scan([root], Options())
    return {name: render(report, name) for name in formats()}


class _ShuffledScandir:
    """``os.scandir`` whose entries come back in a random order (also a context manager)."""

    def __init__(self, entries: list[Any]) -> None:
        self.entries = iter(entries)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return next(self.entries)

    def __enter__(self) -> _ShuffledScandir:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        return None


@pytest.fixture
def shuffled_listings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every directory listing (scandir, listdir, and so walk, glob and iterdir) shuffled."""
    shuffle = random.Random(20240521).shuffle
    real_scandir, real_listdir = os.scandir, os.listdir

    def scandir(path: Any = ".") -> _ShuffledScandir:
        with real_scandir(path) as iterator:
            entries = list(iterator)
        shuffle(entries)
        return _ShuffledScandir(entries)

    def listdir(path: Any = ".") -> list[str]:
        names = real_listdir(path)
        shuffle(names)
        return names

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "listdir", listdir)
    yield


def test_listings_really_are_shuffled(tmp_path: Path, shuffled_listings: None) -> None:
    """The fixture must change what the walkers see, or the tests below prove nothing."""
    for i in range(30):
        (tmp_path / f"f{i:02d}").write_text("x")
    orders = {tuple(os.listdir(tmp_path)) for _ in range(5)}
    orders |= {tuple(e.name for e in os.scandir(tmp_path)) for _ in range(5)}
    orders |= {tuple(next(os.walk(tmp_path))[2]) for _ in range(5)}
    assert len(orders) > 1


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The corpus repositories at one path, created in sorted order, and their outputs."""
    root = tmp_path_factory.mktemp("determinism") / "tree"
    materialise([CORPUS / name for name in AVAILABLE], root, reverse=False)
    return root, outputs(root)


def test_baseline_has_something_to_compare(baseline: tuple[Path, dict[str, str]]) -> None:
    _, rendered = baseline
    assert set(rendered) == set(formats())
    assert '"rule"' in rendered["json"] and '"publish_jobs"' in rendered["json"]


def test_reverse_creation_order_gives_identical_output(
        baseline: tuple[Path, dict[str, str]]) -> None:
    """On tmpfs (and most non-hashed directories) listing order follows creation order; on
    ext4's hashed directories it does not, which the shuffled-listing test covers."""
    root, expected = baseline
    materialise([CORPUS / name for name in AVAILABLE], root, reverse=True)
    try:
        assert outputs(root) == expected
    finally:
        materialise([CORPUS / name for name in AVAILABLE], root, reverse=False)


def test_shuffled_listings_give_identical_output(
        baseline: tuple[Path, dict[str, str]], shuffled_listings: None) -> None:
    root, expected = baseline
    for _ in range(3):
        actual = outputs(root)
        for name in expected:
            assert actual[name] == expected[name], f"{name} output depends on listing order"


@pytest.mark.parametrize("name", AVAILABLE[:2])
def test_each_repository_alone_and_per_file_is_stable(
        tmp_path: Path, name: str, shuffled_listings: None) -> None:
    """Scanning the files of a repository (as pre-commit does) in two argument orders."""
    root = tmp_path / name
    materialise([CORPUS / name], tmp_path, reverse=False)
    workflows = sorted((root / ".github" / "workflows").glob("*.y*ml"))
    if not workflows:
        pytest.skip("no GitHub workflows")
    first = scan(workflows, Options())
    second = scan(list(reversed(workflows)), Options())
    for fmt in formats():
        assert render(first, fmt) == render(second, fmt), fmt


def test_hash_seed_does_not_change_the_cli_output(
        baseline: tuple[Path, dict[str, str]]) -> None:
    """Set iteration order changes with PYTHONHASHSEED; no output may follow it."""
    root, _ = baseline
    for fmt in formats():
        seen = set()
        for seed in ("1", "2", "3"):
            env = dict(os.environ, PYTHONHASHSEED=seed, NO_COLOR="1")
            proc = subprocess.run(
                [sys.executable, "-m", "auditor", "scan", ".", "--format", fmt,
                 "--exit-zero"], cwd=root, env=env, capture_output=True, timeout=300,
                check=False)
            assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
            seen.add(proc.stdout)
        assert len(seen) == 1, f"{fmt} output depends on the hash seed"
