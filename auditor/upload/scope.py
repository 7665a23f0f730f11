"""Which index a rule is about, and what a rule does when the target index is unknown.

Many rules hold only for PyPI or TestPyPI: trusted publishing, the ban on password logins,
attestations and the publisher checks exist on those two indexes alone. A private index
(Artifactory, Nexus, devpi...) has none of them, so those rules stay silent there. When the
index is computed at run time (``repository-url: ${{ inputs.url }}``), pubaudit cannot tell
which case holds: the rule still reports, since most such uploads do go to PyPI, but as an
*undecided* problem (one confidence step lower, never high) whose message says so. A rule
that is about one of the two (``skip-existing`` for PyPI, ``testpypi-needs-own-publisher``)
stays silent on an unknown index: telling PyPI from TestPyPI is its whole point. Every
index-specific rule decides through :func:`index_scope`, so the policy is the same for all.
"""

from __future__ import annotations

from auditor.output.records import record
from auditor.upload.publish import PYTHON_INDEXES

UNDECIDED_NOTE = (" pubaudit could not determine the target index (it is computed when the "
                  "workflow runs): this applies only if the upload goes to {indexes}.")
_NAMES = {"pypi": "PyPI", "testpypi": "TestPyPI"}


@record
class IndexScope:
    """A rule applies to an upload: for certain, or only if the unknown index is one of its."""

    undecided: bool
    note: str  # appended to the message: "" when the index is known


def index_scope(index: str, indexes: frozenset[str] = PYTHON_INDEXES) -> IndexScope | None:
    """Whether a rule about ``indexes`` applies to an upload to ``index`` (None: it does not)."""
    if index in indexes:
        return IndexScope(False, "")
    if index != "unknown" or not indexes >= PYTHON_INDEXES:
        return None  # another index; or a rule that tells PyPI from TestPyPI cannot guess
    names = " or ".join(_NAMES.get(i, i) for i in sorted(indexes))
    return IndexScope(True, UNDECIDED_NOTE.format(indexes=names))
