"""What a guard can know about a run before it starts, read from the model.

``guards`` evaluates ``if:`` in a ``Situation``; this module fills one in from the workflow
text: the literal ``with:`` a caller passes to a reusable workflow (and the callee's
``default:``), the literal ``outputs:`` of jobs, and the events of the workflows a
``workflow_run`` listens to. Anything that is not a literal stays open, so the evaluator
answers "undecided" instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from auditor.github.guards import RELEASE_TOOL, Situation, Value, decide
from auditor.github.model import Job, Trigger, Workflow
from auditor.output.lazyre import lazy_re
from auditor.reading.yamlsource import Mapping, Scalar

# The events of the triggering workflow assumed when ``workflows:`` names one that is not in
# the scanned tree: a push upstream, or a pull request (possibly from a fork).
DEFAULT_RUN_EVENTS = ("push", "pull_request")
_PASS_THROUGH = lazy_re(r"^\$\{\{\s*inputs\.([\w-]+)\s*\}\}$", re.I)
_NUMBER = lazy_re(r"^-?\d+(?:\.\d+)?$")


def _declared_inputs(callee: Workflow) -> dict[str, Mapping]:
    trigger = callee.trigger("workflow_call")
    node = trigger.config.get("inputs") if trigger and trigger.config else None
    if not isinstance(node, Mapping):
        return {}
    return {k.value.lower(): v for k, v in node.pairs if isinstance(v, Mapping)}


def _typed(node: Scalar, kind: str) -> Value:
    """A literal as GitHub hands it to the callee: booleans and numbers by declared type."""
    text = node.value.strip()
    if (kind == "boolean" or node.plain) and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if (kind == "number" or node.plain) and _NUMBER.match(text):
        return float(text)
    if node.is_null:
        return None
    return text


def call_inputs(callee: Workflow, caller_job: Job, outer: Situation) -> Situation:
    """``outer`` (how the caller runs) with the callee's ``inputs.*`` bound: literal
    ``with:`` values, ``${{ inputs.x }}`` passed through from the caller's own inputs, a
    boolean ``${{ expression }}`` the evaluator decides in ``outer``, else the default."""
    values: dict[str, Value] = {}
    open_names: list[str] = []
    declared = _declared_inputs(callee)
    passed = {k.value.lower(): v for k, v in caller_job.with_.pairs} if caller_job.with_ else {}
    for name, spec in declared.items():
        kind = (spec.get("type").value.lower()  # type: ignore[union-attr]
                if isinstance(spec.get("type"), Scalar) else "string")
        node = passed.get(name, spec.get("default"))
        if node is None:
            continue  # neither passed nor defaulted: null
        if not isinstance(node, Scalar):
            open_names.append(name)
            continue
        through = _PASS_THROUGH.match(node.value.strip())
        if through:
            inner = through.group(1).lower()
            outer_values = dict(outer.inputs)
            if outer.any_input or inner in outer.open_inputs:
                open_names.append(name)
            else:
                values[name] = outer_values.get(inner)
        elif "${{" in node.value:
            verdict = decide(node.value, outer) if kind == "boolean" else None
            if verdict is None:
                open_names.append(name)
            else:
                values[name] = verdict
        else:
            values[name] = _typed(node, kind)
    for name in passed:
        if name not in declared:
            open_names.append(name)  # GitHub rejects undeclared inputs; do not guess
    return Situation(outer.event, outer.ref, outer.fork, outer.run_event,
                     tuple(sorted(values.items(), key=lambda kv: kv[0])),
                     tuple(sorted(set(open_names))), False)


# Tools whose outputs say whether this run cut a release.
RELEASE_TOOLS = frozenset({
    "googleapis/release-please-action", "google-github-actions/release-please-action",
    "python-semantic-release/python-semantic-release", "changesets/action",
    "cycjimmy/semantic-release-action",
})
_STEP_OUTPUT = lazy_re(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.[\w-]+\s*\}\}$", re.I)
_WHOLE_EXPRESSION = lazy_re(r"^\$\{\{(.*)\}\}$", re.S)
_OTHER_CONTEXTS = lazy_re(r"\b(?:needs|steps|env|vars|matrix|secrets|jobs|runner|strategy)\.",
                             re.I)


def _computed(job: Job, text: str) -> str | None:
    """What a job output computes, when a guard can use it: RELEASE_TOOL for the output of a
    release tool's step, or a ``${{ }}`` over ``github``/``inputs`` alone."""
    step_output = _STEP_OUTPUT.match(text)
    if step_output:
        step = next((s for s in job.steps if s.step_id == step_output.group(1)), None)
        if step is not None and step.uses is not None and step.uses.slug in RELEASE_TOOLS:
            return RELEASE_TOOL
        return None
    whole = _WHOLE_EXPRESSION.match(text)
    if whole and "${{" not in whole.group(1) and not _OTHER_CONTEXTS.search(whole.group(1)):
        return whole.group(1).strip()
    return None


def job_outputs(workflow: Workflow) -> tuple[tuple[tuple[str, Value], ...],
                                             tuple[tuple[str, str], ...]]:
    """``job.name`` -> value for every job output written as a literal, and -> what it
    computes where a guard can use that (see ``_computed``); other outputs stay undecided."""
    literal: list[tuple[str, Value]] = []
    computed: list[tuple[str, str]] = []
    for job in workflow.jobs:
        node = job.node.get("outputs")
        if not isinstance(node, Mapping):
            continue
        for key, value in node.pairs:
            if not isinstance(value, Scalar):
                continue
            name = f"{job.job_id.lower()}.{key.value.lower()}"
            text = value.value.strip()
            if "${{" not in text:
                literal.append((name, _typed(value, "")))
            elif (what := _computed(job, text)) is not None:
                computed.append((name, what))
    return tuple(literal), tuple(computed)


def run_events(trigger: Trigger, workflows: Iterable[Workflow]) -> tuple[str, ...]:
    """The events of the runs that can set off a ``workflow_run`` trigger: those of the
    named workflows when every one is in the tree, else a push or a pull request."""
    names = trigger.filter_values("workflows")
    if not names:
        return DEFAULT_RUN_EVENTS
    by_name: dict[str, Workflow] = {}
    for workflow in workflows:
        by_name.setdefault((workflow.name or workflow.path).lower(), workflow)
    events: dict[str, None] = {}
    for name in names:
        found = by_name.get(name.lower())
        if found is None or found.trigger("workflow_call") is not None:
            return DEFAULT_RUN_EVENTS
        events.update(dict.fromkeys(t.event for t in found.triggers))
    return tuple(events) or DEFAULT_RUN_EVENTS
