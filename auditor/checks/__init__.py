"""The rule registry: rule id -> check function. One module per rule family.

A check receives the :class:`~auditor.facts.context.Context` and yields
:class:`~auditor.checks.findings.Problem` objects; the engine stamps id, severity and position.
A test keeps this registry and the catalogue in ``rules/`` in one-to-one correspondence.

Entries name ``module.function`` and are imported on first use: a repository without GitLab
CI never imports the GitLab model, one without publish jobs or declared publishers never
imports the publisher matching (``applies``), which keeps a pre-commit run short.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator

from auditor.checks.findings import Problem
from auditor.facts.context import Context

Check = Callable[[Context], Iterator[Problem]]

REGISTRY: dict[str, str] = {
    # Permissions
    "missing-id-token": "permissions.missing_id_token",
    "workflow-wide-id-token": "permissions.workflow_wide_id_token",
    "unused-id-token": "permissions.unused_id_token",
    "caller-denies-id-token": "permissions.caller_denies_id_token",
    "checkout-without-contents-read": "permissions.checkout_without_contents_read",
    # Credentials
    "leftover-token": "credentials.leftover_token",
    "password-login": "credentials.password_login",
    "no-trusted-publishing-support": "credentials.no_trusted_publishing_support",
    "hardcoded-token": "credentials.hardcoded_token",
    "committed-pypirc": "credentials.committed_pypirc",
    "credentials-in-url": "credentials.credentials_in_url",
    "committed-private-key": "credentials.committed_private_key",
    "uv-publish-fallback": "credentials.uv_publish_fallback",
    "uv-password-without-username": "credentials.uv_password_without_username",
    # Pinning
    "unpinned-action": "pinning.unpinned_action",
    "tag-object-pin": "pinning.tag_object_pin",
    "pin-without-version": "pinning.pin_without_version",
    "outdated-publish-action": "pinning.outdated_publish_action",
    # Environment and triggers
    "missing-environment": "triggers.missing_environment",
    "dynamic-environment": "triggers.dynamic_environment",
    "dangerous-publish-trigger": "triggers.dangerous_publish_trigger",
    "branch-push-publish": "triggers.branch_push_publish",
    "release-event-not-triggered": "triggers.release_event_not_triggered",
    "publish-without-repository-guard": "triggers.publish_without_repository_guard",
    # Job structure
    "build-in-publish-job": "structure.build_in_publish_job",
    "reusable-workflow-publish": "structure.reusable_workflow_publish",
    "matrix-publish": "structure.matrix_publish",
    "non-linux-publish-runner": "structure.non_linux_publish_runner",
    "duplicate-attestation": "structure.duplicate_attestation",
    "attestations-disabled": "structure.attestations_disabled",
    "attestations-ignored": "structure.attestations_ignored",
    "skip-existing": "structure.skip_existing",
    "deprecated-publish-input": "structure.deprecated_publish_input",
    "wrong-index-url": "structure.wrong_index_url",
    "testpypi-needs-own-publisher": "structure.testpypi_needs_own_publisher",
    "persist-credentials": "structure.persist_credentials",
    "cache-in-release": "structure.cache_in_release",
    "artifact-path-mismatch": "structure.artifact_path_mismatch",
    # Publishers
    "undeclared-publisher": "publishers.undeclared_publisher",
    "publisher-workflow-mismatch": "publishers.publisher_workflow_mismatch",
    "publisher-environment-mismatch": "publishers.publisher_environment_mismatch",
    "publisher-repository-mismatch": "publishers.publisher_repository_mismatch",
    "publisher-project-mismatch": "publishers.publisher_project_mismatch",
    "publisher-missing-for-index": "publishers.publisher_missing_for_index",
    "publisher-malformed": "publishers.publisher_malformed",
    "publisher-unused": "publishers.publisher_unused",
    "pending-publisher-collision": "publishers.pending_publisher_collision",
    # GitLab CI
    "gitlab-missing-id-token": "gitlab.missing_id_token",
    "gitlab-wrong-audience": "gitlab.wrong_audience",
    "gitlab-id-token-name": "gitlab.id_token_name",
    "gitlab-unprotected-publish": "gitlab.unprotected_publish",
    "gitlab-publisher-path": "publishers.gitlab_publisher_path",
    # Input
    "invalid-yaml": "inputs.invalid_yaml",
    "invalid-workflow": "inputs.invalid_workflow",
    "invalid-config": "inputs.invalid_config",
    "unknown-suppression": "inputs.unknown_suppression",
}


def load_check(rule_id: str) -> Check:
    module, _, name = REGISTRY[rule_id].partition(".")
    check: Check = getattr(importlib.import_module(f"auditor.checks.{module}"), name)
    return check


def applies(rule_id: str, ctx: Context) -> bool:
    """Whether the rule's family has anything to look at in this repository."""
    module = REGISTRY[rule_id].partition(".")[0]
    if module == "gitlab":
        return bool(ctx.repo.pipelines)
    if module == "publishers":
        return bool(ctx.publish_jobs or ctx.gitlab_publish_jobs or ctx.config.publishers)
    return True
