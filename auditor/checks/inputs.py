"""Input: files pubaudit could not read as CI configuration, and its own configuration."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.checks.findings import Problem
from auditor.facts.context import Context
from auditor.reading.source import Anchor


def invalid_yaml(ctx: Context) -> Iterator[Problem]:
    for problem in ctx.repo.problems:
        if problem.rule != "invalid-yaml":
            continue
        if problem.unread:
            yield Problem(problem.anchor, f"{problem.message}: pubaudit did not audit it.")
        else:
            yield Problem(problem.anchor, f"{problem.message}. CI will reject this file and "
                          "pubaudit could not audit it; fix the YAML at this position.")


def invalid_workflow(ctx: Context) -> Iterator[Problem]:
    gitlab_files = {f for pipeline in ctx.repo.pipelines for f in pipeline.files}
    for problem in ctx.repo.problems:
        if problem.rule == "invalid-workflow" and problem.anchor.path in gitlab_files:
            yield Problem(problem.anchor, f"{problem.message}: GitLab rejects the pipeline "
                          "and none of its jobs run.")
        elif problem.rule == "invalid-workflow":
            yield Problem(problem.anchor, f"{problem.message}: GitHub rejects this workflow "
                          "and it never runs.")
    for workflow in ctx.repo.workflows:
        for issue in workflow.structure_problems:
            yield Problem(issue.anchor, f"{issue.message}: GitHub rejects this workflow, so "
                          "none of its jobs run.")


def invalid_config(ctx: Context) -> Iterator[Problem]:
    for i, error in enumerate(ctx.config.errors):
        line, column = error.line - 1, error.column - 1
        yield Problem(Anchor(error.path, ("config", i, error.message[:40]),
                             span=(line, column, line, column)),
                      f"{error.message}. pubaudit stops with exit code 2 until the "
                      "configuration is fixed.")


def unknown_suppression(ctx: Context) -> Iterator[Problem]:
    """Inline ignores naming no rule: they suppress nothing while looking as if they did."""
    from auditor.reading.catalogue import load_index
    from auditor.reading.selection import suggestion
    from auditor.reading.suppression import EVERY_RULE, ignored_names

    known = load_index()
    for path, source in sorted(ctx.repo.sources.items()):
        if "pubaudit" not in source.text:
            continue  # one test of the whole text instead of one per line (most files)
        for number, line in enumerate(source.lines):
            if "pubaudit" not in line:
                continue
            for ignored in ignored_names(line):
                if ignored.name in known or ignored.name.lower() == EVERY_RULE:
                    continue
                anchor = Anchor(path, ("suppression", number, ignored.name),
                                span=(number, ignored.column, number, ignored.end_column))
                yield Problem(anchor, f"`pubaudit: ignore[{ignored.name}]` names no rule, so "
                              f"it suppresses nothing{suggestion(ignored.name, known)}. "
                              "`pubaudit rules` lists the rule ids.")
