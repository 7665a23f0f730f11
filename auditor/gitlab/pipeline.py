"""The GitLab CI pipeline model: the top-level ``.gitlab-ci.yml``, its local includes, and
the jobs GitLab would build from them.

GitLab assembles a pipeline before it runs anything, and the publish job a user sees is often
spread over several files: a template in ``.gitlab/ci/publish.yml`` pulled in by ``include:``,
extended through ``extends:``, with ``default:`` supplying the image and ``!reference``
splicing in shared script lines. PyPI's publisher matches the *top-level* file only
(``research/pypi-trusted-publishing.md`` §1.4), so both views matter: the merged job, and the
file each of its values came from.

Semantics modelled, in GitLab's order:

1. includes: ``include: 'path'``, ``{local: path}``, lists mixing both, ``/``-leading paths,
   globs (``.gitlab/ci/*.yml``), nested includes (cycle-safe, depth- and count-bounded), and
   ``spec: inputs:`` headers with ``$[[ inputs.x ]]`` interpolation; remote, project,
   template and component includes are recorded, not fetched. An including file's content
   overrides what it includes; later includes override earlier ones; hashes deep-merge.
2. ``extends:`` (a name or a list, multi-level, deep merge, arrays replaced, cycle-safe).
3. ``!reference [.job, key, ...]``, resolved against the extended configuration; arrays that
   contain references are flattened one level per reference, as GitLab does.
4. ``default:`` (and the legacy top-level ``image``/``before_script``/...) for jobs that do
   not set a key, honouring ``inherit:``; global ``variables:`` likewise.

Every merged value keeps its own YAML node, and the path of the file the node came from, so
a finding about a job assembled from three files points at the real line in the real file.
Shapes GitLab would reject become ``PipelineProblem`` values, never exceptions.
"""

from __future__ import annotations

from auditor.gitlab.includes import Includes
from auditor.gitlab.jobs import JobAssembly
from auditor.gitlab.merge import (
    MergedMap,
    as_map,
    is_map,
)
from auditor.gitlab.model import (
    RESERVED_KEYS,
    TOP_LEVEL_FILE,
    GitlabJob,
    Pipeline,
    PipelineFiles,
)


class _Builder(JobAssembly, Includes):
    """Builds one pipeline: the files (``includes``), then each job (``jobs``, over
    ``references``)."""

    def build(self) -> Pipeline:
        config = self.file_config(self.path, None, (self.path,), None)
        self.config = as_map(config) if config is not None and is_map(config) else MergedMap()
        jobs: list[GitlabJob] = []
        for name, (_key, value) in self.config.entries.items():
            if name in RESERVED_KEYS or name.startswith("."):
                continue
            job = self.job(name, value)
            if job is not None:
                jobs.append(job)
        return Pipeline(
            path=self.path,
            prefix=self.prefix,
            files=tuple(self.loaded),
            sources=tuple(self.sources[p] for p in self.loaded),
            includes=tuple(self.includes),
            jobs=tuple(jobs),
            problems=tuple(self.problems),
            complete=self.complete,
        )


def build_pipeline(path: str, files: PipelineFiles) -> Pipeline:
    """Model the pipeline whose top-level file is ``path`` (relative to the scanned root).

    The repository root is the directory of ``path``: ``.gitlab-ci.yml`` at the root of a
    repository, or ``<dir>/.gitlab-ci.yml`` when a tree of repositories is scanned.
    """
    return _Builder(path, files).build()


def is_top_level(path: str) -> bool:
    """A top-level pipeline file: ``.gitlab-ci.yml`` (at any depth of a scanned tree)."""
    return path.rsplit("/", 1)[-1] == TOP_LEVEL_FILE
