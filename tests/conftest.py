"""Shared helpers: materialise a small repository and scan it through the engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.engine import Options, Report, scan

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT.parent / "shared" / "corpus"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"), encoding="utf-8")
    return root


def scan_tree(root: Path, **options: object) -> Report:
    return scan([root], Options(**options))  # type: ignore[arg-type]


@pytest.fixture
def repo(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``repo({path: text})`` -> Report of a scan of that tree."""

    def make(files: dict[str, str], **options: object) -> Report:
        return scan_tree(write_tree(tmp_path, files), **options)

    return make
