"""Job roles come from the job graph: which jobs upload, and whose artifacts reach them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO_ROOT, scan_tree

CASES = REPO_ROOT / "fixtures" / "cases"


def _only(path: Path, rule: str) -> tuple[str, str]:
    report = scan_tree(path)
    [finding] = [f for f in report.findings if f.rule == rule]
    return finding.severity, finding.message


def test_workflow_grant_that_reaches_only_the_upload_job_is_low_and_says_why() -> None:
    severity, message = _only(
        CASES / "workflow-wide-id-token" / "fires-low-single-publish-job",
        "workflow-wide-id-token")
    assert severity == "low"
    assert "reaches only the job that uploads (`publish`)" in message
    assert "added to this workflow later inherits it" in message


def test_workflow_grant_inherited_by_a_build_job_stays_medium() -> None:
    severity, message = _only(
        CASES / "workflow-wide-id-token" / "fires-workflow-level-grant", "workflow-wide-id-token")
    assert severity == "medium"
    assert "(`build`, `publish`)" in message
