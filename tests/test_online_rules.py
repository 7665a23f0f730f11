"""The pure parts of the online rules: name shapes, policy patterns, releases, matching."""

from __future__ import annotations

import pytest

from auditor.github.refs import secret_refs
from auditor.online.environments import Refs, _pattern, _uncovered
from auditor.online.pypi import File, Project, Publisher, file_version
from auditor.online.secrets import looks_like_pypi_token


@pytest.mark.parametrize("name", ["PYPI_API_TOKEN", "PYPI_TOKEN", "pypi_password", "PYPI",
                                  "TEST_PYPI_API_TOKEN", "TESTPYPI_TOKEN", "MY_PYPI_TOKEN",
                                  "TWINE_PASSWORD", "UV_PUBLISH_TOKEN"])
def test_token_shaped_secret_names(name: str) -> None:
    assert looks_like_pypi_token(name)


@pytest.mark.parametrize("name", ["PYPI_USERNAME", "PYPI_URL", "CODECOV_TOKEN", "NPM_TOKEN",
                                  "GITHUB_TOKEN", "DOCKER_PASSWORD"])
def test_other_secret_names(name: str) -> None:
    assert not looks_like_pypi_token(name)


def test_secret_references_in_expressions() -> None:
    assert secret_refs("${{ secrets.A || secrets['B-2'] }}") == ["A", "B-2"]
    assert secret_refs("${{ env.X }}") == []


@pytest.mark.parametrize("policy,ref,matches", [
    ("v*", "v1.2.3", True), ("v*", "release/v1", False), ("release/*", "release/v1", True),
    ("**", "a/b/c", True), ("v[0-9]*", "v1.0", True), ("v[0-9]*", "vx", False),
    ("main", "main", True), ("main", "mainline", False),
])
def test_deployment_policy_patterns(policy: str, ref: str, matches: bool) -> None:
    assert bool(_pattern(policy).match(ref)) is matches


def test_uncovered_refs() -> None:
    tag_rule: list[dict[str, object]] = [{"name": "v*", "type": "tag"}]
    branch_rule: list[dict[str, object]] = [{"name": "main", "type": "branch"}]
    assert _uncovered(Refs({"tag": ("v*",)}), tag_rule) == ([], True)
    digits: list[dict[str, object]] = [{"name": "v[0-9]*", "type": "tag"}]
    assert _uncovered(Refs({"tag": ("v[0-9]+.[0-9]+.[0-9]+",)}), digits) == ([], True)
    assert _uncovered(Refs({"tag": ("v*",)}), branch_rule) == (["tags `v*`"], True)
    assert _uncovered(Refs({"tag": None}), branch_rule) == (["every tag"], True)
    missing, certain = _uncovered(Refs({"tag": ("release-*",)}), tag_rule)
    assert missing == ["tags `release-*`"] and not certain  # wildcards: only a guess
    assert _uncovered(Refs({"branch": ("main",)}), branch_rule) == ([], True)


def _file(name: str, when: str, yanked: bool = False) -> File:
    return File(name, file_version(name), True, yanked, when)


def test_latest_release_is_the_newest_upload_not_yanked() -> None:
    project = Project("p", (_file("p-1.0.tar.gz", "2025-01-01"),
                            _file("p-2.0.tar.gz", "2025-03-01"),
                            _file("p-2.0-py3-none-any.whl", "2025-03-01"),
                            _file("p-3.0.tar.gz", "2025-04-01", yanked=True)))
    latest = project.latest()
    assert latest is not None and latest[0] == "2.0" and len(latest[1]) == 2


def test_latest_release_without_upload_times_follows_the_version_list() -> None:
    project = Project("p", (_file("p-1.0.tar.gz", ""), _file("p-0.9.tar.gz", "")),
                      ("0.9", "1.0"))
    assert project.latest() == ("1.0", (project.files[0],))
    assert Project("p", ()).latest() is None


@pytest.mark.parametrize("filename,version", [
    ("widget_tools-0.2.0.tar.gz", "0.2.0"), ("widget_tools-0.2.0-py3-none-any.whl", "0.2.0"),
    ("a-1.0rc1-cp312-cp312-manylinux_2_17_x86_64.whl", "1.0rc1"), ("weird.egg", None)])
def test_file_versions(filename: str, version: str | None) -> None:
    assert file_version(filename) == version


def test_provenance_matching() -> None:
    from auditor.online.provenance import matches_job
    from auditor.publishers.expected import Expected
    from auditor.reading.source import Anchor

    anchor = Anchor("w.yml", ())
    job = Expected("github", "pypi", "p", "Acme", "Widget", "github.com", "release.yml", "pypi",
                   False, "w.yml", "publish", anchor, None, anchor)
    assert matches_job(Publisher("GitHub", "acme/widget", "release.yml", "PyPI"), job)
    assert matches_job(Publisher("GitHub", "acme/widget", "release.yml", None), job)
    assert not matches_job(Publisher("GitHub", "acme/widget", "release.yml", "other"), job)
    assert not matches_job(Publisher("GitHub", "acme/widget", "Release.yml", None), job)
    assert not matches_job(Publisher("GitLab", "acme/widget", "release.yml", None), job)
    unknown = Expected("github", "pypi", "p", None, None, None, "release.yml", "pypi", False,
                       "w.yml", "publish", anchor, None, anchor)
    assert matches_job(Publisher("GitHub", "acme/widget", "release.yml", None), unknown) is None
