"""Where an upload's credential comes from: a token minted from the OIDC exchange in the job is
trusted publishing (inventory ``credential``), another step's output is undecided, and a
password next to ``attestations: false`` is explained as the empty-secret fallback."""

from __future__ import annotations

import json

from auditor.engine.scan import Options, scan
from auditor.formats import json as json_format
from tests.conftest import REPO_ROOT

CASES = REPO_ROOT / "fixtures" / "cases"


def _report(case: str) -> dict:  # type: ignore[type-arg]
    return json.loads(json_format.render(scan([CASES / case], Options())))  # type: ignore[no-any-return]


def test_minted_token_is_trusted_publishing_in_the_inventory() -> None:
    for case in ("silent-minted-by-action", "silent-minted-by-curl",
                 "silent-minted-by-id-package"):
        jobs = _report(f"leftover-token/{case}")["publish_jobs"]
        assert [(j["trusted_publishing"], j["credential"]) for j in jobs] == [
            (True, "oidc-exchange")], case


def test_static_token_is_static_in_the_inventory() -> None:
    jobs = _report("leftover-token/fires-password-with-id-token")["publish_jobs"]
    assert [j["credential"] for j in jobs] == ["static"]


def test_unknown_step_output_names_no_secret_to_revoke() -> None:
    [finding] = _report("leftover-token/fires-unknown-step-output")["findings"]
    assert finding["confidence"] == "medium" and finding["severity"] == "medium"
    assert "revoke" not in finding["message"] and "steps.vault.outputs.token" in \
        finding["message"]


def test_unknown_index_is_undecided_and_never_high() -> None:
    findings = [f for f in _report("password-login/fires-unknown-index-undecided")["findings"]
                if f["rule"] != "publish-without-repository-guard"]  # any index: not undecided
    assert {f["rule"] for f in findings} == {"password-login", "leftover-token"}
    for finding in findings:
        assert finding["severity"] != "high" and finding["confidence"] == "medium"
        assert "could not determine the target index" in finding["message"]


def test_password_with_attestations_off_explains_the_fallback() -> None:
    [finding] = [f for f in _report("leftover-token/fires-attestations-off-with-password")[
        "findings"] if f["rule"] == "leftover-token"]
    assert "empty or unset" in finding["message"]
    assert "`attestations: false`" in finding["message"]
