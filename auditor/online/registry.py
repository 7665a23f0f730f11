"""The rules ``--online`` runs: rule id -> ``module.function`` in ``auditor.online``.

Like ``auditor.checks.REGISTRY`` (whose checks need only the files), but each check gets a
:class:`~auditor.online.session.Session` that asks GitHub or PyPI. This module imports
nothing, so the catalogue tests can read it without httpx. ``tag-object-pin`` is in both
registries: the shipped table offline, any action's SHA online.
"""

from __future__ import annotations

ONLINE_REGISTRY: dict[str, str] = {
    "unprotected-environment": "environments.unprotected_environment",
    "leftover-secret": "secrets.leftover_secret",
    "missing-secret": "secrets.missing_secret",
    "pending-project-exists": "projects.pending_project_exists",
    "provenance-mismatch": "provenance.provenance_mismatch",
    "missing-provenance": "provenance.missing_provenance",
    "tag-object-pin": "pins.tag_object_pin",
    "impostor-commit": "pins.impostor_commit",
}
