"""Inline ignores, baselines and fingerprints that survive unrelated edits."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import UNPINNED_RELEASE, scan_tree, write_tree


def test_inline_ignore_suppresses_only_the_named_rule(tmp_path: Path) -> None:
    text = UNPINNED_RELEASE.format(comment="  # pubaudit: ignore[unpinned-action] tracked in #12")
    report = scan_tree(write_tree(tmp_path, {".github/workflows/release.yml": text}))
    suppressed = [f for f in report.findings if f.suppressed]
    assert [f.rule for f in suppressed] == ["unpinned-action"]
    assert suppressed[0].suppression == "inSource"
    assert "unpinned-action" not in {f.rule for f in report.active}


def test_fingerprints_survive_lines_added_above(tmp_path: Path) -> None:
    first = scan_tree(write_tree(tmp_path / "a", {
        ".github/workflows/release.yml": UNPINNED_RELEASE.format(comment="")}))
    shifted = UNPINNED_RELEASE.format(comment="").replace("name: Release\n",
                                                  "name: Release\n# a comment\n\n")
    second = scan_tree(write_tree(tmp_path / "b", {".github/workflows/release.yml": shifted}))
    assert [f.fingerprint for f in first.findings] == [f.fingerprint for f in second.findings]
    assert [f.location.line + 2 for f in first.findings] == [
        f.location.line for f in second.findings]


def test_baseline_is_written_then_hides_known_findings(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", {".github/workflows/release.yml":
                                          UNPINNED_RELEASE.format(comment="")})
    baseline = tmp_path / "baseline.json"
    first = scan_tree(root, baseline=baseline)
    assert baseline.exists() and not first.active
    again = scan_tree(root, baseline=baseline)
    assert not again.active and all(f.suppression == "external" for f in again.findings)
    (root / ".github/workflows/release.yml").write_text(
        UNPINNED_RELEASE.format(comment="").replace("    environment: pypi\n", ""),
        encoding="utf-8")
    third = scan_tree(root, baseline=baseline)
    assert [f.rule for f in third.active] == ["missing-environment"]
