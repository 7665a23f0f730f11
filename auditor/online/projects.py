"""``pending-project-exists``: a declared publisher's project, as the index has it.

PyPI accepts a *pending* publisher only for a project that does not exist yet (the first
upload creates the project), and a normal publisher only for one that does. The Simple API
in JSON answers 404 exactly when the project does not exist, so that is the only answer
taken as "absent"; anything else that is not 200 is a notice.
"""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.findings import Problem
from auditor.online.pypi import Project, normalize
from auditor.online.session import ABSENT, Session
from auditor.reading.declarations import INDEX_HOSTS, INDEX_NAMES

RULE = "pending-project-exists"


def pending_project_exists(session: Session) -> Iterator[Problem]:
    default = session.ctx.identity.project.name if session.ctx.identity.project else None
    for decl in session.ctx.config.publishers:
        if decl.index not in INDEX_HOSTS:
            continue
        name = decl.project(default)
        if not name:
            continue
        found = session.project(decl.index, name, RULE)
        if found is ABSENT:
            continue  # the notice says why
        host, label = INDEX_HOSTS[decl.index], INDEX_NAMES[decl.index]
        if decl.pending and isinstance(found, Project):
            yield Problem(decl.at("pending"), (
                f"{decl.describe()} is declared pending, but project `{name}` already exists "
                f"on {label}: PyPI refuses the upload's token exchange with "
                "`invalid-pending-publisher` (valid token, but project already exists), and "
                "a pending publisher cannot be added for it. If the project is yours, add "
                f"the publisher on https://{host}/manage/project/{normalize(name)}/settings/"
                "publishing/ and remove `pending = true`; if it is not, choose another "
                "project name"))
        elif not decl.pending and found is None:
            yield Problem(decl.at("project") if decl.has("project") else decl.anchor, (
                f"{decl.describe()} is declared as a publisher of project `{name}`, which "
                f"does not exist on {label}: a publisher can only be added to an existing "
                "project, so the first upload's token exchange fails with "
                f"`invalid-publisher`. Add it as a pending publisher on https://{host}/"
                "manage/account/publishing/ (it becomes a normal publisher with the first "
                "upload) and declare `pending = true`"))
