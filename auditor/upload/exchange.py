"""Tokens minted in the job itself from the OIDC exchange.

Before twine 6.1 and for tools without trusted publishing (poetry), users run the exchange by
hand: a step fetches the job's OIDC token for the ``pypi`` audience and trades it at
``/_/oidc/mint-token`` for an API token that expires after fifteen minutes, and the upload
reads that step's output. That is trusted publishing, not a long-lived secret: there is no
secret to delete and no token to revoke. A step output from a step that is *not* recognised
as an exchange is something pubaudit cannot see into.
"""

from __future__ import annotations

import re

from auditor.github.model import Job, Step
from auditor.output.lazyre import lazy_re

# Actions whose documented job is to mint a PyPI API token from the OIDC exchange.
MINTING_ACTIONS = frozenset({"tschm/token-mint-action"})

_OUTPUT_RE = lazy_re(r"\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.[A-Za-z0-9_.-]+\s*\}\}")
_EXCHANGE_RUN_RES = (
    lazy_re(r"/_/oidc/(?:github/)?mint-token"),  # PyPI's exchange endpoint
    lazy_re(r"ACTIONS_ID_TOKEN_REQUEST_URL\S*audience=(?:test)?pypi\b", re.I),
    lazy_re(r"\bpython\d*(?:\.\d+)?\s+-m\s+id\s+(?:test)?pypi\b", re.I),  # the `id` package
    lazy_re(r"detect_credential\(\s*(?:audience\s*=\s*)?['\"](?:test)?pypi['\"]"),
)


def is_exchange(step: Step) -> bool:
    """The step obtains a PyPI token from the job's OIDC identity."""
    if step.uses is not None:
        return step.uses.kind == "remote" and step.uses.slug.lower() in MINTING_ACTIONS
    script = step.run.value if step.run is not None else ""
    # each way names PyPI (the endpoint's path is PyPI's own): most scripts are not looked at
    if "pypi" not in script.lower() and "mint-token" not in script:
        return False
    return any(pattern.search(script) for pattern in _EXCHANGE_RUN_RES)


def credential_origin(value: str, job: Job, before: Step) -> str:
    """``oidc-exchange`` (an output of an exchange step earlier in ``job``), ``step-output``
    (an output of another step) or ``static`` for a credential's written value."""
    match = _OUTPUT_RE.search(value)
    if match is None:
        return "static"
    for step in job.steps:
        if step is before or step.index >= before.index:
            break
        if step.step_id == match.group(1) and is_exchange(step):
            return "oidc-exchange"
    return "step-output"
