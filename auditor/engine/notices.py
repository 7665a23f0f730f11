"""Notices: what a scan could not check (an online call that failed), never a finding.

A notice does not change the exit code and is not suppressed or baselined: it says which
rule went unchecked, the endpoint asked and the status it answered, so the user can grant
the missing permission or try again. ``--online`` (``auditor.online``) is their only source
today; the engine carries them in the report and every format shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from typing import TYPE_CHECKING, Protocol

from auditor.output.records import record, state

if TYPE_CHECKING:
    from auditor.checks.findings import Problem
    from auditor.facts.context import Context
    from auditor.reading.catalogue import RuleSummary


@record
class Notice:
    """Something the scan could not check, and why."""

    message: str
    endpoint: str | None = None  # "GET https://api.github.com/repos/o/r/environments"
    status: int | None = None  # the HTTP status, None when no answer came
    rule: str | None = None  # the rule left unchecked (None: several or none)

    def as_dict(self) -> dict[str, object]:
        return {"message": self.message, "endpoint": self.endpoint, "status": self.status,
                "rule": self.rule}


@state
class OnlineOutcome:
    """What the network checks give a scan: problems per rule id, and notices."""

    problems: list[tuple[str, Problem]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


class OnlineChecks(Protocol):
    """``--online``: run the network rules among ``rules`` over one repository. The command
    line passes ``auditor.online``'s runner; the engine never imports it (it sits above)."""

    def __call__(self, ctx: Context, rules: Sequence[RuleSummary]) -> OnlineOutcome: ...
