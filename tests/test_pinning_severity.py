"""Severities of the pinning rules, which the fixture markers do not show: a movable ref
weighs by how close its job stands to the upload, and a pin GitHub cannot resolve is high
because the release run fails."""

from __future__ import annotations

from auditor.checks.findings import Finding
from auditor.engine.scan import Options, scan
from tests.conftest import REPO_ROOT

CASES = REPO_ROOT / "fixtures" / "cases"


def findings(case: str, rule: str) -> dict[int, Finding]:
    report = scan([CASES / case], Options())
    return {f.location.line: f for f in report.active if f.rule == rule}


def test_unpinned_action_severity_follows_distance_from_the_upload() -> None:
    found = findings("unpinned-action/fires-distance-from-upload", "unpinned-action")
    by_line = {line: (f.severity, f.message) for line, f in found.items()}
    assert by_line[11][0] == "low"  # test job: shares nothing with the upload
    assert by_line[30][0] == "medium"  # build job: its artifact is uploaded
    assert "whose artifacts job 'publish' uploads" in by_line[30][1]
    assert by_line[42][0] == "medium"  # GitHub's own action in the upload job
    assert by_line[46][0] == "high"  # a third-party action in the upload job
    assert "runs the upload with `id-token: write`" in by_line[46][1]
    assert len(found) == 4, "the test and lint jobs' refs are one grouped finding"


def test_grouped_finding_lists_the_other_refs_as_related_locations() -> None:
    grouped = findings("unpinned-action/fires-distance-from-upload", "unpinned-action")[11]
    notes = [note for note, _ in grouped.related]
    assert notes == ["also movable: `astral-sh/setup-uv@v6` (job 'test')",
                     "also movable: `astral-sh/ruff-action@v3` (job 'lint')"]
    assert "2 other `uses:`" in grouped.message


def test_malformed_sha_is_high_and_says_the_run_fails() -> None:
    found = findings("unpinned-action/fires-malformed-sha", "unpinned-action")
    assert {f.severity for f in found.values()} == {"high"}
    assert "41 hexadecimal characters" in found[11].message
    assert "shortened commit SHA (39 of 40" in found[15].message
    assert all("Unable to resolve action" in f.message and "movable" not in f.message
               for f in found.values())


def test_unknown_pin_with_a_known_release_comment_is_medium() -> None:
    [finding] = findings("pin-without-version/fires-unknown-pin-known-comment",
                         "pin-without-version").values()
    assert finding.severity == "medium"
    assert "ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e" in finding.message


def test_self_repository_call_is_not_another_repository() -> None:
    found = findings("reusable-workflow-publish/fires-self-repository-callee",
                     "reusable-workflow-publish")
    assert found and not any("another repository" in f.message for f in found.values())
