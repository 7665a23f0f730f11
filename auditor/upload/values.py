"""What a `${{ }}` expression in a publish step's input can hold, read from the workflow.

`repository-url: ${{ env.PYPI_URL }}` is a literal in disguise when the job's `env:`, or an
earlier step's `echo "PYPI_URL=..." >> "$GITHUB_ENV"`, sets it to one; so is a step output
written to `$GITHUB_OUTPUT`, and a matrix column lists every value its legs take. Only
literals are followed, one level deep: a value that is itself computed, read from `vars`,
`secrets` or `inputs`, or written by a script pubaudit cannot read stays unresolved, and the
caller keeps treating the index as unknown.
"""

from __future__ import annotations

import re

from auditor.github.model import Job, Step, Workflow, matrix_values
from auditor.output.lazyre import lazy_re
from auditor.reading.yamlsource import Mapping, Scalar

_EXPRESSION_RE = lazy_re(r"\$\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")
_NAMED_RE = lazy_re(r"^(env|matrix)\.([\w-]+)$|^steps\.([\w-]+)\.outputs\.([\w-]+)$")
# `echo "NAME=value" >> "$GITHUB_ENV"` (or `printf`, or `${GITHUB_ENV}`), one per line
_WRITE_RE = (r"""^\s*(?:echo|printf)\s+(?:-e\s+)?["']?{name}=([^"'\s$`\\]+)["']?\s*"""
             r"""(?:\\n)?["']?\s*>>\s*["']?\$\{{?{file}\}}?["']?\s*$""")
# `cat >> "$GITHUB_ENV" <<EOF` then `NAME=value` lines up to the delimiter
_HEREDOC_RE = (r"""^\s*cat\s*>>\s*["']?\$\{{?{file}\}}?["']?\s*<<-?\s*["']?(\w+)["']?\s*$""")


def _literal(node: object) -> str | None:
    if isinstance(node, Scalar) and "${{" not in node.value and "$" not in node.value:
        return node.value.strip()
    return None


class _Unknown(Exception):
    """The nearest definition of a variable is computed: farther ones do not apply."""


def _env_value(mapping: Mapping | None, name: str) -> str | None:
    """The literal ``name`` has in ``mapping``; ``None`` when it is not set there."""
    if mapping is None or mapping.get(name) is None:
        return None
    value = _literal(mapping.get(name))
    if value is None:
        raise _Unknown(name)
    return value


def _written(steps: tuple[Step, ...], name: str, file: str) -> list[str | None]:
    """The values the ``run:`` scripts of ``steps`` append as ``name=`` to ``file``, in
    order; ``None`` for a value pubaudit cannot read."""
    pattern = re.compile(_WRITE_RE.format(name=re.escape(name), file=file), re.M)
    heredoc = re.compile(_HEREDOC_RE.format(file=file), re.M)
    found: list[str | None] = []
    for step in steps:
        if step.run is None:
            continue
        script = step.run.value
        writes: list[tuple[int, str | None]] = [(m.start(), m.group(1))
                                                for m in pattern.finditer(script)]
        literal = {start for start, _ in writes}
        # any other write of the name (`NAME=$(./pick)`, `NAME=${X}`) hides earlier ones
        writes.extend((m.start(), None) for m in re.finditer(
            rf"^.*\b{re.escape(name)}=.*\b{file}\b.*$", script, re.M)
            if m.start() not in literal)
        for opening in heredoc.finditer(script):
            body = script[opening.end():].split("\n")
            for line in body[1:]:
                if line.strip() == opening.group(1):
                    break
                key, sep, value = line.strip().partition("=")
                if sep and key == name and value and not set(value) & set("$`\"'"):
                    writes.append((opening.start(), value))
        found.extend(value for _, value in sorted(writes))
    return found


def _one(workflow: Workflow, job: Job, step: Step, name: str) -> list[str] | None:
    """The values one context reference (``env.X``, ``matrix.X``, ``steps.S.outputs.X``)
    can hold at ``step``, or ``None`` when pubaudit cannot know them."""
    match = _NAMED_RE.match(name)
    if match is None:
        return None
    earlier = job.steps[:step.index] if step in job.steps else ()
    if match.group(1) == "env":
        key = match.group(2)
        try:
            value = _env_value(step.env, key)
            if value is not None:
                return [value]
            written = _written(earlier, key, "GITHUB_ENV")
            if written:  # the last write before this step wins
                return [written[-1]] if written[-1] is not None else None
            for mapping in (job.env, workflow.env):
                value = _env_value(mapping, key)
                if value is not None:
                    return [value]
        except _Unknown:
            return None
        return None
    if match.group(1) == "matrix":
        values = matrix_values(job.matrix, match.group(2))
        literal = [v for v in values if "${{" not in v]
        return list(dict.fromkeys(literal)) if literal and len(literal) == len(values) \
            else None
    producer = next((s for s in earlier if s.step_id == match.group(3)), None)
    if producer is None:
        return None
    written = _written((producer,), match.group(4), "GITHUB_OUTPUT")
    return [written[-1]] if written and written[-1] is not None else None


def possible_values(text: str, workflow: Workflow, job: Job, step: Step
                    ) -> tuple[str, ...] | None:
    """Every literal ``text`` can be at ``step``, or ``None`` when one of its expressions
    cannot be followed. Text around the expression is kept (``${{ env.HOST }}/legacy/``);
    two expressions with several values each are not combined (``None``)."""
    names = _EXPRESSION_RE.findall(text)
    if not names or text.count("${{") != len(names):
        return None
    options: list[list[str]] = []
    for name in names:
        values = _one(workflow, job, step, name)
        if not values:
            return None
        options.append(values)
    if sum(len(o) > 1 for o in options) > 1:
        return None
    results = [text]
    for name, values in zip(names, options, strict=True):
        pattern = re.compile(r"\$\{\{\s*" + re.escape(name) + r"\s*\}\}")
        results = [r[:m.start()] + value + r[m.end():] for r in results
                   if (m := pattern.search(r)) is not None for value in values]
    return tuple(dict.fromkeys(results))
