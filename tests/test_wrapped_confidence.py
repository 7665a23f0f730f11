"""What a wrapped upload may decide for itself lowers confidence; an `id-token: write` that
another step explains does not make a token upload "only a leftover" (high)."""

from __future__ import annotations

from auditor.engine.scan import Options, scan
from tests.conftest import REPO_ROOT

CASE = REPO_ROOT / "fixtures/cases/branch-push-publish/fires-script-upload-undecided"


def test_script_upload_on_push_is_undecided_and_attestation_grant_is_not_a_migration() -> None:
    report = scan([CASE], Options())
    found = {f.rule: f for f in report.active}
    branch = found["branch-push-publish"]
    assert branch.confidence != "high" and branch.severity == "medium"
    assert "./release/deploy.py" in branch.message
    # the job's id-token is for actions/attest-build-provenance: not a migration left halfway
    assert found["leftover-token"].severity == "medium"
    assert "already has `id-token: write`" not in found["leftover-token"].message
