"""Monorepos: each upload is attributed to the package it publishes, and ``publishers``
names each PyPI project from its own ``pyproject.toml``: one registration per project."""

from __future__ import annotations

from pathlib import Path

from auditor.facts.context import Context
from auditor.publishers.registration import registrations
from auditor.reading.config import Config
from auditor.repository.discovery import load_repository
from tests.conftest import write_tree

SHA = "ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e # v1.13.0"
HEAD = """on:
  push:
    tags: ["v*"]
jobs:
"""


def _projects(root: Path) -> list[tuple[str, str | None]]:
    ctx = Context(load_repository(root, Config()))
    return sorted((", ".join(sorted(e.job for e in reg.jobs)), reg.project)
                  for reg in registrations(ctx))


def _tree(tmp_path: Path, jobs: str, **extra: str) -> Path:
    files = {
        ".github/workflows/release.yml": HEAD + jobs,
        "pyproject.toml": '[tool.uv.workspace]\nmembers = ["packages/*"]\n',
        "packages/core/pyproject.toml": '[project]\nname = "acme-core"\nversion = "1"\n',
        "packages/cli/pyproject.toml": '[project]\nname = "acme-cli"\nversion = "1"\n',
    }
    files.update(extra)
    return write_tree(tmp_path, files)


JOB = """  {name}:
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
{body}"""


def test_packages_dir_names_the_package(tmp_path: Path) -> None:
    root = _tree(tmp_path, JOB.format(name="core", body=f"""    steps:
      - uses: pypa/gh-action-pypi-publish@{SHA}
        with:
          packages-dir: packages/core/dist/
"""))
    assert _projects(root) == [("core", "acme-core")]


def test_working_directory_cd_and_upload_paths(tmp_path: Path) -> None:
    root = _tree(tmp_path, JOB.format(name="wd", body="""    steps:
      - run: uv publish
        working-directory: packages/cli
""") + JOB.format(name="cd", body="""    steps:
      - run: cd packages/core && uv build && uv publish
""") + JOB.format(name="files", body="""    steps:
      - run: python -m twine upload packages/cli/dist/*
"""))
    assert _projects(root) == [("cd", "acme-core"), ("files, wd", "acme-cli")]


def test_a_matrix_of_packages_needs_one_registration_each(tmp_path: Path) -> None:
    root = _tree(tmp_path, JOB.format(name="each", body="""    strategy:
      matrix:
        package: [core, cli]
    steps:
      - run: uv publish
        working-directory: packages/${{ matrix.package }}
"""))
    assert _projects(root) == [("each", "acme-cli"), ("each", "acme-core")]


def test_building_all_workspace_members_publishes_each(tmp_path: Path) -> None:
    root = _tree(tmp_path, """  build:
    runs-on: ubuntu-latest
    steps:
      - run: uv build --all-packages
""" + JOB.format(name="release", body=f"""    needs: build
    steps:
      - uses: pypa/gh-action-pypi-publish@{SHA}
"""))
    assert _projects(root) == [("release", "acme-cli"), ("release", "acme-core")]


def test_a_single_package_repository_is_unchanged(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        ".github/workflows/release.yml": HEAD + JOB.format(name="pypi", body=f"""    steps:
      - uses: pypa/gh-action-pypi-publish@{SHA}
"""),
        "pyproject.toml": '[project]\nname = "widget"\nversion = "1"\n',
        "docs/pyproject.toml": '[project]\nname = "widget-docs"\nversion = "1"\n'})
    assert _projects(root) == [("pypi", "widget")]


def test_a_directory_without_a_project_keeps_the_repository_name(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {
        ".github/workflows/release.yml": HEAD + JOB.format(name="pypi", body=f"""    steps:
      - uses: pypa/gh-action-pypi-publish@{SHA}
        with:
          packages-dir: build/out/
"""),
        "pyproject.toml": '[project]\nname = "widget"\nversion = "1"\n'})
    assert _projects(root) == [("pypi", "widget")]
