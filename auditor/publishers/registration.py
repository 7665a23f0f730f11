"""``pubaudit publishers``: what to register on PyPI and TestPyPI, job by job.

For each publish job and index: the values of PyPI's "Add a new publisher" form, whether a
declaration already matches them (or which fields differ), the pre-filled form link, and,
with ``--format toml``, declarations ready to paste into ``pyproject.toml``.
"""

from __future__ import annotations

import json
from pathlib import Path

from auditor.facts.context import Context
from auditor.output.inert import inert, no_commands, surrogate_safe, toml_string
from auditor.output.records import record
from auditor.output.redact import redact
from auditor.publishers.expected import Expected
from auditor.publishers.matching import (
    Assignment,
    Malformed,
    audit,
    expected_publishers,
    form_link,
    registration_lines,
)
from auditor.reading.declarations import INDEX_HOSTS, INDEX_NAMES, Declaration


@record
class Registration:
    """One publisher to register, and the jobs that need it."""

    expected: Expected
    jobs: tuple[Expected, ...]
    project: str | None
    declaration: Declaration | None
    assignment: Assignment
    malformed: tuple[Malformed, ...] = ()  # what ``publisher-malformed`` says of declaration

    @property
    def status(self) -> str:
        if not self.expected.trusted:
            return "token"
        if self.declaration is None:
            return "undeclared"
        if self.malformed:
            return "malformed"  # its bad fields are not compared, so it cannot "match"
        return "matches" if self.assignment.satisfied else "differs"


def _key(exp: Expected) -> tuple[object, ...]:
    return (exp.provider, exp.index, exp.project, exp.owner, exp.repository, exp.workflow,
            (exp.environment or "").lower(), exp.dynamic_environment)


def registrations(ctx: Context) -> list[Registration]:
    expected = expected_publishers(ctx, ctx.identity, include_tokens=True)
    result = audit(ctx, ctx.identity, ctx.config.publishers, expected)
    groups: dict[tuple[object, ...], list[Assignment]] = {}
    for assignment in result.assignments:
        groups.setdefault(_key(assignment.expected), []).append(assignment)
    out = []
    for assignments in groups.values():
        first = assignments[0]
        decl = first.declaration
        bad = tuple(m for m in result.malformed if decl and m.number == decl.number)
        project = first.expected.project  # the job's package in a monorepo
        out.append(Registration(first.expected, tuple(a.expected for a in assignments),
                                decl.project(project) if decl else project, decl, first, bad))
    return out


def _status_line(reg: Registration) -> str:
    if reg.status == "token":
        return ("uploads with a token today; register this publisher, grant the job "
                "`id-token: write` and remove the token to switch to trusted publishing")
    if reg.declaration is None:
        return "not declared (pubaudit cannot check what is registered on PyPI)"
    name = reg.declaration.describe()
    if reg.status == "matches":
        return f"declared: {name} matches"
    if reg.status == "malformed":
        problems = "; ".join(m.message for m in reg.malformed)
        return f"declared: {name} is malformed (publisher-malformed): {problems}"
    fields = ", ".join(f"{m.field} `{m.declared}` (needs `{m.expected or 'an environment'}`)"
                       for m in reg.assignment.mismatches)
    return f"declared: {name} differs: {fields}"


def render_text(regs: list[Registration], root: Path | None = None) -> str:
    """The registrations for people; with ``root``, workflow paths open from the current
    directory (as ``pubaudit scan`` prints them)."""
    from auditor.output.paths import display_path

    def shown(path: str) -> str:
        return display_path(root, path) if root is not None else path

    if not regs:
        return ("No job uploads to PyPI or TestPyPI in this repository, so there is no "
                "trusted publisher to register.\n")
    out: list[str] = []
    for reg in regs:
        exp = reg.expected
        jobs = ", ".join(f"{shown(e.path)} job `{e.job}`" for e in reg.jobs)
        out.append(f"{INDEX_NAMES[exp.index]} ({INDEX_HOSTS[exp.index]}) <- {jobs} "
                   f"[{exp.method}]")
        for line in registration_lines(exp, reg.project):
            out.append(f"    {line}")
        pending = reg.declaration is not None and reg.declaration.pending
        out.append(f"  Status: {_status_line(reg)}")
        if pending:
            out.append("  Pending publisher (declared): the first upload creates the project; "
                       f"add it at {form_link(exp, reg.project, pending=True)}")
        else:
            out.append(f"  Form: {form_link(exp, reg.project)}")
            out.append("  New project? Add it as a pending publisher instead, at "
                       f"{form_link(exp, reg.project, pending=True)} (project name "
                       f"{reg.project or '<your project name>'})")
        if exp.callers:
            out.append(f"  Note: `{exp.workflow}` is a reusable workflow called by "
                       f"{', '.join(exp.callers)}; PyPI matches the reusable workflow's file "
                       "for the token, attestations check the caller (see "
                       "`pubaudit explain reusable-workflow-publish`)")
        if exp.owner is None:
            out.append("  Owner and repository: no git remote `origin` found; use the "
                       "repository's canonical spelling on GitHub")
        out.append("")
    return _printable(out)


def _printable(lines: list[str]) -> str:
    """Lines as printed: each inert (a newline in a job id cannot start a line), no line a
    workflow command, no secret."""
    return redact(no_commands("\n".join(inert(line) for line in lines)))


def _toml_string(value: str) -> str:
    return toml_string(value)


def render_toml(regs: list[Registration], prefix: str = "tool.pubaudit") -> str:
    out = ["# Trusted publishers to register on PyPI/TestPyPI, as pubaudit declarations.",
           "# Paste into pyproject.toml once they are registered (see `pubaudit publishers`)."]
    for reg in regs:
        exp = reg.expected
        out.append("")
        out.append(inert(f"# {exp.path}, job {', '.join(e.job for e in reg.jobs)}"))
        out.append(f"[[{prefix}.publishers]]" if prefix else "[[publishers]]")
        out.append(f"index = {_toml_string(exp.index)}")
        if reg.project:
            out.append(f"project = {_toml_string(reg.project)}")
        if reg.declaration is not None and reg.declaration.pending:
            out.append("pending = true")
        out.append(f"provider = {_toml_string(exp.provider)}")
        for key, value in (("owner", exp.owner), ("repository", exp.repository)):
            if value:
                out.append(f"{key} = {_toml_string(value)}")
            else:
                out.append(f'# {key} = "..."  # no git remote origin: fill in')
        out.append(f"workflow = {_toml_string(exp.workflow)}")
        if exp.dynamic_environment:
            out.append('# environment = "..."  # the job\'s environment is an expression')
        elif exp.environment:
            out.append(f"environment = {_toml_string(exp.environment)}")
    return redact(no_commands("\n".join(out) + "\n"))


def render_json(regs: list[Registration]) -> str:
    items = []
    for reg in regs:
        exp = reg.expected
        items.append({
            "index": exp.index, "project": reg.project, "provider": exp.provider,
            "owner": exp.owner, "repository": exp.repository, "workflow": exp.workflow,
            "environment": exp.environment or "",
            "dynamic_environment": exp.dynamic_environment,
            "trusted_publishing": exp.trusted, "method": exp.method,
            "jobs": [{"path": e.path, "job": e.job} for e in reg.jobs],
            "status": reg.status,
            "declaration": reg.declaration.number + 1 if reg.declaration else None,
            "pending": bool(reg.declaration and reg.declaration.pending),
            "mismatches": [{"field": m.field, "declared": m.declared, "expected": m.expected,
                            "hint": m.hint} for m in reg.assignment.mismatches],
            "form": form_link(exp, reg.project),
            "pending_form": form_link(exp, reg.project, pending=True),
        })
    return redact(surrogate_safe(json.dumps({"publishers": items}, indent=2,
                                            ensure_ascii=False))) + "\n"
