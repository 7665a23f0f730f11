"""The publisher a publish job needs, derived from the repository: the other side of a
declaration, compared exactly as PyPI's lookup does (``matching``)."""

from __future__ import annotations

from auditor.output.records import record
from auditor.reading.source import Anchor


@record
class Expected:
    """The publisher a publish job needs on one index, derived from the repository.

    ``owner``/``repository`` are ``None`` when the git remote is unknown; ``environment`` is
    ``None`` when the job has none and ``dynamic_environment`` when it is an expression (then
    no declared environment can be checked offline).
    """

    provider: str  # github | gitlab
    index: str  # pypi | testpypi
    project: str | None
    owner: str | None  # GitLab: the namespace (subgroups included)
    repository: str | None  # GitLab: the project
    host: str | None  # of the git remote
    workflow: str  # GitHub: the file name; GitLab: the top-level pipeline path
    environment: str | None
    dynamic_environment: bool
    path: str  # the file that defines the job
    job: str
    job_anchor: Anchor
    environment_anchor: Anchor | None
    upload_anchor: Anchor  # the first upload to this index
    method: str = ""
    trusted: bool = True  # False: a token upload, listed for migration only
    callers: tuple[str, ...] = ()  # GitHub: the workflow files calling a reusable one
    included_from: str | None = None  # GitLab: the included file that defines the job
    included_files: tuple[str, ...] = ()  # GitLab: every file the pipeline includes
