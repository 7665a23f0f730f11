"""Shared helpers: materialise a small repository and scan it through the engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from auditor.engine.scan import Options, Report, scan

REPO_ROOT = Path(__file__).resolve().parent.parent
# The schemas the tests validate against ship with the tests (see tests/schemas/README.md).
SCHEMAS = REPO_ROOT / "tests" / "schemas"
# The real-repository corpus is the one input that does not ship: it sits beside the checkout
# in CI (or wherever PUBAUDIT_CORPUS points), and the tests that read it skip, saying so, when
# it is absent. No other test may read outside the repository (.ci/run proves it).
CORPUS = Path(os.environ.get("PUBAUDIT_CORPUS") or REPO_ROOT.parent / "shared" / "corpus")

# A publish job set up as the PyPI docs recommend (pinned, job-level id-token, environment).
# `{trigger}` and `{environment}` let tests vary what a test is about.
TRUSTED_RELEASE = """
name: Release
on:
{trigger}
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
{environment}    permissions:
      id-token: write
    steps:
      - uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1
        with:
          name: dist
          path: dist/
      - uses: pypa/gh-action-pypi-publish@dc37677b2e1c63e2034f94d8a5b11f265b73ba33 # v1.14.2
"""
ON_TAG = '  push:\n    tags: ["v*"]'
ON_RELEASE = "  release:\n    types: [published]"

# The same job on a movable ref, with `{comment}` at the end of the `uses:` line.
UNPINNED_RELEASE = """
name: Release
on:
  push:
    tags: ["v*"]
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1{comment}
"""


def release_workflow(trigger: str = ON_TAG, environment: str | None = "pypi") -> str:
    """``TRUSTED_RELEASE`` with a trigger and an environment (``None``: no environment)."""
    env = f"    environment: {environment}\n" if environment is not None else ""
    return TRUSTED_RELEASE.format(trigger=trigger, environment=env)


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
