"""The three-valued evaluator of ``if:`` in a Situation, and what an undecided guard does to
a finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.engine.scan import Options, scan
from auditor.github.guards import RELEASE_TOOL, Situation, decide
from tests.conftest import REPO_ROOT

PUSH_TAG = Situation("push", "tag")
CALLED_FALSE = Situation("pull_request", "pull", inputs=(("publish", False),))
CALLED_TRUE = Situation("push", "tag", inputs=(("publish", True), ("dry-run", False)))
DISPATCH = Situation("workflow_dispatch", "branch", any_input=True)


@pytest.mark.parametrize(("expr", "where", "expected"), [
    ("inputs.publish", CALLED_FALSE, False),
    ("inputs.publish", CALLED_TRUE, True),
    ("${{ inputs.publish == true }}", CALLED_FALSE, False),
    ("${{ inputs.dry-run != true }}", CALLED_TRUE, True),
    ("${{ inputs.dry-run != true }}", Situation("push", "tag"), True),  # null != true
    ("inputs.publish", Situation("push", "tag"), False),  # no inputs on push: null
    ("inputs.publish", DISPATCH, None),
    ("github.event.inputs.publish == 'true'", DISPATCH, None),
    ("inputs.publish", Situation("pull_request", "pull", open_inputs=("publish",)), None),
    ("github.repository == 'owner/repo'", PUSH_TAG, True),
    ("github.repository == 'owner/repo'", Situation("push", "tag", fork=True), False),
    ("github.repository_owner != 'owner'", Situation("push", "tag", fork=True), True),
    ("github.event.workflow_run.event == 'push'",
     Situation("workflow_run", "branch", run_event="pull_request"), False),
    ("github.event.workflow_run.conclusion == 'success' && "
     "github.event.workflow_run.event == 'push'",
     Situation("workflow_run", "branch", run_event="push"), True),
    ("github.event.workflow_run.head_branch == 'main'",
     Situation("workflow_run", "branch", run_event="pull_request"), True),
    ("github.event.workflow_run.event == 'push'", Situation("workflow_run", "branch"), None),
    ("needs.check.outputs.go == 'true'", PUSH_TAG, None),
    ("needs.check.outputs.go == 'true'", Situation("push", "tag", outputs=(("check.go", "true"),)),
     True),
    ("fromJSON(needs.setup.outputs.release)",
     Situation("push", "branch", computed=(("setup.release", "github.ref_type == 'tag'"),)),
     False),
    ("fromJSON(needs.setup.outputs.release)",
     Situation("push", "tag", computed=(("setup.release", "github.ref_type == 'tag'"),)), True),
    ("needs.rp.outputs.released == 'true'",
     Situation("pull_request", "pull", computed=(("rp.released", RELEASE_TOOL),)), False),
    ("vars.PUBLISH == 'yes' && github.event_name == 'pull_request'", PUSH_TAG, False),
    ("vars.PUBLISH == 'yes' || github.event_name == 'push'", PUSH_TAG, True),
    ("vars.PUBLISH == 'yes'", PUSH_TAG, None),
])
def test_decide(expr: str, where: Situation, expected: bool | None) -> None:
    assert decide(expr, where) is expected


def test_an_undecided_guard_lowers_the_finding_and_names_the_guard() -> None:
    case = REPO_ROOT / "fixtures/cases/dangerous-publish-trigger/fires-undecided-guard"
    report = scan([case], Options())
    [finding] = [f for f in report.active if f.rule == "dangerous-publish-trigger"]
    assert (finding.severity, finding.confidence) == ("medium", "medium")
    assert "pubaudit could not decide `vars.PUBLISH_FROM_CI == 'yes'`" in finding.message


def test_a_decided_guard_keeps_the_catalogue_level(tmp_path: Path) -> None:
    case = REPO_ROOT / "fixtures/cases/dangerous-publish-trigger/fires-workflow-run-head-branch"
    report = scan([case], Options())
    [finding] = [f for f in report.active if f.rule == "dangerous-publish-trigger"]
    assert finding.severity == "high" and "could not decide" not in finding.message
    assert "head_branch" in finding.message
