"""The GitLab pipeline as pubaudit models it: the records a built pipeline is made of (jobs,
script lines, variables, ID tokens, environments, run conditions, problems), the file
reader it is built through, and GitLab's limits and key sets."""

from __future__ import annotations

from typing import Protocol

from auditor.output.records import record
from auditor.reading.source import Anchor, SourceFile
from auditor.reading.yamlsource import Mapping, Scalar

TOP_LEVEL_FILE = ".gitlab-ci.yml"
MAX_INCLUDED_FILES = 150  # GitLab's default limit of includes per pipeline
MAX_INCLUDE_DEPTH = 100
MAX_EXTENDS_DEPTH = 11  # GitLab's limit of `extends` levels
MAX_REFERENCE_DEPTH = 10  # GitLab's limit of nested `!reference` tags
MAX_LISTED_FILES = 5000  # files considered when a glob include is expanded
# Array items a pipeline may expand to through `!reference`: ten references of ten, nested
# eleven deep, would be 10**11 script lines (a 2 KB file that never finished).
MAX_EXPANDED_ITEMS = 20_000

# Top-level keys that are not jobs.
RESERVED_KEYS = frozenset({"default", "include", "stages", "variables", "workflow", "spec",
                           "image", "services", "cache", "before_script", "after_script",
                           "types"})
# Keys a job takes from `default:` when it does not set them itself.
DEFAULT_KEYS = ("after_script", "artifacts", "before_script", "cache", "hooks", "id_tokens",
                "image", "interruptible", "retry", "services", "tags", "timeout")
# Deprecated top-level spellings of some defaults.
LEGACY_GLOBAL_KEYS = ("image", "services", "cache", "before_script", "after_script")
SCRIPT_SECTIONS = ("before_script", "script", "after_script")



# --------------------------------------------------------------------------- the model


@record
class PipelineProblem:
    """A shape GitLab rejects, or a file that cannot be read as YAML."""

    anchor: Anchor
    message: str
    rule: str = "invalid-workflow"  # or "invalid-yaml"


@record
class Include:
    """One entry of an ``include:`` list, and the local files it brought in."""

    kind: str  # local | remote | project | template | component | invalid
    target: str  # the path, URL, template or component as written
    anchor: Anchor  # the entry in the including file
    files: tuple[str, ...]  # local files it resolved to, relative to the scanned root
    from_path: str  # the file holding the entry


@record
class ScriptLine:
    """One shell line of a job, after ``default:``, ``extends`` and ``!reference``."""

    section: str  # before_script | script | after_script
    node: Scalar
    anchor: Anchor  # in the file the line is written in


@record
class Variable:
    """A CI/CD variable of a job or of the pipeline, with where it is set."""

    name: str
    value: str
    level: str  # "job variables" | "global variables"
    anchor: Anchor  # the variable's key


@record
class IdToken:
    """An ``id_tokens:`` entry: GitLab exports the signed JWT as variable ``name``."""

    name: str
    anchor: Anchor  # the variable name key
    audiences: tuple[str, ...]
    aud_anchor: Anchor  # the ``aud`` value (the name key when ``aud`` is missing)
    aud_is_list: bool

    @property
    def aud_is_expression(self) -> bool:
        return any("$" in aud for aud in self.audiences)


@record
class GitlabEnvironment:
    """A job's `environment:` (string or `name:`); PyPI may bind to it."""

    name: str | None
    anchor: Anchor  # the ``environment`` key
    name_anchor: Anchor  # the name's value
    is_expression: bool  # built from ``$VARIABLES``: cannot be verified statically


@record
class RunCondition:
    """When the job runs, as far as publishing safety needs it."""

    kind: str  # "rules" | "only/except" | "none"
    anchor: Anchor | None  # the ``rules``/``only``/``except`` key
    tag_only: bool  # never runs in a pipeline that is not for a tag
    manual: bool  # ``when: manual``: someone has to start it
    by_workflow: bool = False  # tag-only because ``workflow: rules`` allow tag pipelines only


@record
class GitlabJob:
    """A job after includes, `default:`, `extends` and `!reference` are applied."""

    name: str
    path: str  # the file of the job's first definition
    key: Scalar
    anchor: Anchor
    definitions: tuple[Anchor, ...]  # every key that defines or overrides the job, merge order
    stage: str | None
    image: str | None
    extends: tuple[str, ...]
    script: tuple[ScriptLine, ...]
    variables: tuple[Variable, ...]  # job variables, then inherited global ones
    id_tokens: tuple[IdToken, ...]
    id_tokens_anchor: Anchor | None
    environment: GitlabEnvironment | None
    condition: RunCondition
    when: str | None
    # the job's own mapping when one definition makes the whole job (no extends, no
    # override elsewhere): the node a fix may edit
    node: Mapping | None = None

    @property
    def label(self) -> str:
        return f"job `{self.name}`"

    def variable(self, name: str) -> Variable | None:
        for variable in self.variables:
            if variable.name == name:
                return variable
        return None


@record
class Pipeline:
    """A top-level pipeline file and everything GitLab builds from it."""

    path: str  # the top-level file, relative to the scanned root
    prefix: str  # the repository's directory relative to the scanned root ("" or "dir/")
    files: tuple[str, ...]  # every loaded file, the top-level one first
    sources: tuple[SourceFile, ...]
    includes: tuple[Include, ...]
    jobs: tuple[GitlabJob, ...]
    problems: tuple[PipelineProblem, ...]
    complete: bool  # every include was local and could be read

    @property
    def ci_config_path(self) -> str:
        """The top-level path relative to the repository root: what PyPI's GitLab
        publisher stores as ``workflow_filepath``."""
        return self.path[len(self.prefix):]

    @property
    def included_files(self) -> tuple[str, ...]:
        return self.files[1:]

    def source(self, path: str) -> SourceFile | None:
        for source in self.sources:
            if source.path == path:
                return source
        return None

    def job(self, name: str) -> GitlabJob | None:
        for job in self.jobs:
            if job.name == name:
                return job
        return None


class PipelineFiles(Protocol):
    """What the builder may read: files of the scanned tree, by path relative to its root."""

    def read(self, path: str) -> SourceFile | str:
        """The file, or why it cannot be read, phrased to follow its name ("does not
        exist", "is not valid UTF-8", ...)."""

    def list(self, directory: str) -> list[str]:
        """Files under ``directory`` (recursively, bounded), relative to the scanned root."""


# --------------------------------------------------------------------------- building
