"""The typed model of GitHub Actions workflows and composite actions.

Built once from the YAML tree; every object keeps its node (for positions) and its route
(for fingerprints). Shapes GitHub would reject are recorded as ``structure_problems`` for
the ``invalid-workflow`` rule instead of raising, so a half-broken workflow is still audited
as far as it can be read.
"""

from __future__ import annotations

import re
from dataclasses import field

from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.source import Anchor, SourceFile
from auditor.reading.yamlsource import Mapping, Node, Scalar, Sequence, text_of

SHA_RE = lazy_re(r"^[0-9a-f]{40}$")
EXPR_RE = lazy_re(r"\$\{\{.*?\}\}", re.S)
_VERSION_COMMENT_RE = lazy_re(r"(?<![\w.])(v?\d+(?:\.\d+)*(?:-[\w.]+)?)(?![\w])", re.I)


def is_expression(value: str) -> bool:
    return "${{" in value


@record
class ActionRef:
    """A ``uses:`` value: a local path, a docker image, or ``owner/repo[/path]@ref``."""

    raw: str
    kind: str  # "local" | "docker" | "remote"
    owner: str = ""
    repo: str = ""
    subpath: str = ""
    ref: str = ""
    comment: str = ""  # the text of a trailing ``# ...`` comment on the same line
    # ``owner/repo`` in lower case, the name actions are matched by. Derived from owner and
    # repo by parse_action_ref, once: the recogniser and the rules ask for it ~19,000 times
    # in a scan of 70 repositories.
    slug: str = field(default="/", compare=False, repr=False)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}{'/' + self.subpath if self.subpath else ''}".lower()

    @property
    def is_sha_pinned(self) -> bool:
        if self.kind == "docker":
            return "@sha256:" in self.raw
        return bool(SHA_RE.match(self.ref))

    @property
    def comment_version(self) -> str | None:
        match = _VERSION_COMMENT_RE.search(self.comment)
        return match.group(1) if match else None

    def is_action(self, slug: str) -> bool:
        return self.kind == "remote" and self.slug == slug


def parse_action_ref(raw: str, comment: str = "") -> ActionRef:
    """Classify a ``uses:`` value.

    ``$/path`` is GitHub's self-repository syntax (changelog 2026-07-30, "Reference
    same-repository actions with self-repository syntax"): the same repository at the running
    commit, wherever ``./path`` is accepted. It is modelled as ``./path`` so that local
    targets, publishers and every rule treat both spellings alike; ``raw`` keeps ``$/``.
    """
    value = raw.strip()
    if value.startswith("./") or value.startswith("../") or value == ".":
        return ActionRef(value, "local", subpath=value, comment=comment)
    if value.startswith("$/"):
        return ActionRef(value, "local", subpath="./" + value[2:], comment=comment)
    if value.startswith("docker://"):
        return ActionRef(value, "docker", comment=comment)
    name, _, ref = value.partition("@")
    parts = name.split("/")
    owner = parts[0] if parts else ""
    repo = parts[1] if len(parts) > 1 else ""
    subpath = "/".join(parts[2:])
    return ActionRef(value, "remote", owner, repo, subpath, ref, comment,
                     f"{owner}/{repo}".lower())


@record
class Permissions:
    """A ``permissions:`` block. ``scopes`` maps a scope to its level (read|write|none)."""

    anchor: Anchor
    kind: str  # "map" | "read-all" | "write-all" | "expression" | "invalid"
    scopes: dict[str, str] = field(default_factory=dict)
    scope_nodes: dict[str, Node] = field(default_factory=dict)

    def level(self, scope: str) -> str:
        """The level this block grants for ``scope``: write, read or none."""
        if self.kind == "write-all":
            return "write"
        if self.kind == "read-all":
            return "read"
        if self.kind == "expression":
            return "unknown"
        return self.scopes.get(scope, "none")

    @property
    def grants_id_token(self) -> bool:
        return self.level("id-token") == "write"


@record
class Environment:
    """A job's `environment:`; PyPI matches its name against the publisher."""

    anchor: Anchor
    name: str | None  # None when absent from a mapping form
    name_node: Node | None
    is_expression: bool


@record
class Trigger:
    """One event of ``on:``; ``config`` is its mapping (filters, types) when it has one."""

    event: str
    anchor: Anchor
    key: Node
    config: Mapping | None

    def filter_values(self, name: str) -> list[str] | None:
        """The patterns of a filter (``branches``, ``tags``...) or ``None`` when absent."""
        if self.config is None:
            return None
        node = self.config.get(name)
        if node is None:
            return None
        if isinstance(node, Sequence):
            return [n.value for n in node.items if isinstance(n, Scalar)]
        value = text_of(node)
        return [value] if value is not None else []


@record
class Step:
    """One step of a job: `uses:` or `run:`, with its inputs and environment."""

    anchor: Anchor
    node: Mapping
    index: int
    uses: ActionRef | None
    uses_node: Scalar | None
    run: Scalar | None
    with_: Mapping | None
    env: Mapping | None
    if_: str | None
    name: str | None
    shell: str | None

    def input(self, *names: str) -> Scalar | None:
        """The first of ``names`` given under ``with:`` as a scalar."""
        if self.with_ is None:
            return None
        for name in names:
            node = self.with_.get(name)
            if isinstance(node, Scalar):
                return node
        return None

    def input_text(self, *names: str) -> str | None:
        """The stripped text of the first of ``names`` given under ``with:``."""
        node = self.input(*names)
        return node.value.strip() if node is not None else None

    @property
    def step_id(self) -> str | None:
        """The step's ``id:``, which other steps use to read its outputs."""
        node = self.node.get("id")
        return node.value.strip() if isinstance(node, Scalar) else None

    def input_anchor(self, name: str) -> Anchor:
        node = self.with_.keys.get(name) if self.with_ else None
        return self.anchor.child("with", name, node=node)

    @property
    def label(self) -> str:
        if self.name:
            return f"step {self.name!r}"
        if self.uses:
            return f"step {self.index + 1} ({self.uses.raw})"
        return f"step {self.index + 1}"


@record
class Job:
    """One job of a workflow, or the steps of a composite action."""

    anchor: Anchor
    job_id: str
    key: Scalar
    node: Mapping
    name: str | None
    runs_on: tuple[str, ...]  # literal labels, matrix values resolved where possible
    runs_on_node: Node | None
    container: Node | None
    permissions: Permissions | None
    environment: Environment | None
    steps: tuple[Step, ...]
    uses: ActionRef | None  # a reusable-workflow call
    uses_node: Scalar | None
    with_: Mapping | None
    secrets: Node | None
    needs: tuple[str, ...]
    if_: str | None
    matrix: Node | None
    env: Mapping | None
    default_shell: str | None

    @property
    def label(self) -> str:
        return f"job {self.job_id!r}"


@record
class StructureProblem:
    """A shape GitHub rejects in a part pubaudit reads (`invalid-workflow`)."""

    anchor: Anchor
    message: str


@record
class Workflow:
    """A workflow file, or a composite action (``is_composite``) whose steps form one job."""

    source: SourceFile
    root: Mapping
    anchor: Anchor
    name: str | None
    triggers: tuple[Trigger, ...]
    on_node: Node | None
    permissions: Permissions | None
    env: Mapping | None
    jobs: tuple[Job, ...]
    structure_problems: tuple[StructureProblem, ...]
    is_composite: bool = False

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def file_name(self) -> str:
        return self.source.name

    @property
    def repository_prefix(self) -> str:
        """The path of the repository this file belongs to, relative to the scanned root
        ("" normally; ``owner__repo/`` when a tree of repositories is scanned)."""
        marker = ".github/workflows/"
        at = self.path.find(marker)
        return self.path[:at] if at > 0 else ""

    def local_target(self, subpath: str) -> str:
        """Where a ``uses: ./...`` of this file points, relative to the scanned root."""
        return self.repository_prefix + subpath.removeprefix("./").split("@")[0].rstrip("/")

    def trigger(self, event: str) -> Trigger | None:
        for trigger in self.triggers:
            if trigger.event == event:
                return trigger
        return None

    @property
    def is_reusable(self) -> bool:
        return self.trigger("workflow_call") is not None

    def job(self, job_id: str) -> Job | None:
        for job in self.jobs:
            if job.job_id == job_id:
                return job
        return None


# --------------------------------------------------------------------------- building


class _Collector:
    def __init__(self) -> None:
        self.problems: list[StructureProblem] = []

    def add(self, anchor: Anchor, message: str) -> None:
        self.problems.append(StructureProblem(anchor, message))


def _comment_after(source: SourceFile, node: Node) -> str:
    line_no = node.end.line if node.end.column else node.end.line - 1
    if not 0 <= line_no < len(source.lines):
        return ""
    line = source.lines[line_no]
    tail = line[node.end.column:] if line_no == node.end.line else ""
    hash_at = tail.find("#")
    return tail[hash_at + 1:].strip() if hash_at >= 0 else ""


def _permissions(node: Node, anchor: Anchor, problems: _Collector) -> Permissions:
    if isinstance(node, Scalar):
        value = node.value.strip()
        if value in ("read-all", "write-all"):
            return Permissions(anchor, value)
        if is_expression(value):
            return Permissions(anchor, "expression")
        if node.is_null:
            return Permissions(anchor, "map")
        problems.add(anchor, f"`permissions: {value}` is not valid: use `read-all`, "
                             "`write-all` or a mapping of scopes")
        return Permissions(anchor, "invalid")
    if isinstance(node, Mapping):
        scopes: dict[str, str] = {}
        nodes: dict[str, Node] = {}
        for key, level_node in node.pairs:
            level = text_of(level_node)
            if level is None or level.strip() not in ("read", "write", "none"):
                problems.add(anchor.child(key.value, node=level_node),
                             f"permission `{key.value}` must be read, write or none")
                continue
            scopes[key.value] = level.strip()
            nodes[key.value] = key
        return Permissions(anchor, "map", scopes, nodes)
    problems.add(anchor, "`permissions` must be a mapping or read-all/write-all")
    return Permissions(anchor, "invalid")


def _environment(node: Node, anchor: Anchor) -> Environment:
    name_node: Node | None = node
    if isinstance(node, Mapping):
        name_node = node.get("name")
    name = text_of(name_node)
    return Environment(anchor, name.strip() if name is not None else None, name_node,
                       bool(name and is_expression(name)))


def _triggers(node: Node, anchor: Anchor, problems: _Collector) -> tuple[Trigger, ...]:
    out: list[Trigger] = []
    if isinstance(node, Scalar):
        out.append(Trigger(node.value.strip(), anchor, node, None))
    elif isinstance(node, Sequence):
        for i, item in enumerate(node.items):
            if isinstance(item, Scalar):
                out.append(Trigger(item.value.strip(), anchor.child(i, node=item), item, None))
            else:
                problems.add(anchor.child(i, node=item), "an event name must be a string")
    elif isinstance(node, Mapping):
        for key, value in node.pairs:
            config = value if isinstance(value, Mapping) else None
            out.append(Trigger(key.value, anchor.child(key.value, node=key), key, config))
    else:
        problems.add(anchor, "`on` must be an event name, a list or a mapping")
    return tuple(out)


def _shell_of(node: Mapping | None) -> str | None:
    if node is None:
        return None
    defaults = node.get("defaults")
    if isinstance(defaults, Mapping):
        run = defaults.get("run")
        if isinstance(run, Mapping):
            return text_of(run.get("shell"))
    return None


def _steps(source: SourceFile, node: Node | None, anchor: Anchor,
           problems: _Collector) -> tuple[Step, ...]:
    if node is None:
        return ()
    if not isinstance(node, Sequence):
        problems.add(anchor, "`steps` must be a list of steps")
        return ()
    steps: list[Step] = []
    for i, item in enumerate(node.items):
        step_anchor = anchor.child(i, node=item)
        if not isinstance(item, Mapping):
            problems.add(step_anchor, "a step must be a mapping with `uses` or `run`")
            continue
        uses_node = item.get("uses")
        run_node = item.get("run")
        if uses_node is not None and run_node is not None:
            problems.add(step_anchor.child("run", node=item.key("run")),
                         "a step cannot have both `uses` and `run`")
        uses: ActionRef | None = None
        uses_scalar = uses_node if isinstance(uses_node, Scalar) else None
        if uses_scalar is not None:
            uses = parse_action_ref(uses_scalar.value, _comment_after(source, uses_scalar))
        elif uses_node is not None:
            problems.add(step_anchor.child("uses", node=uses_node), "`uses` must be a string")
        run = run_node if isinstance(run_node, Scalar) else None
        if run_node is not None and run is None:
            problems.add(step_anchor.child("run", node=run_node), "`run` must be a string")
        with_ = item.get("with")
        env = item.get("env")
        steps.append(Step(
            anchor=step_anchor,
            node=item,
            index=i,
            uses=uses,
            uses_node=uses_scalar,
            run=run,
            with_=with_ if isinstance(with_, Mapping) else None,
            env=env if isinstance(env, Mapping) else None,
            if_=text_of(item.get("if")),
            name=text_of(item.get("name")),
            shell=text_of(item.get("shell")),
        ))
    return tuple(steps)


_MATRIX_REF_RE = lazy_re(r"^\$\{\{\s*matrix\.([\w-]+)\s*\}\}$")


def matrix_values(matrix: Node | None, name: str) -> list[str]:
    """Literal values the matrix gives ``name``, including ``include`` entries."""
    if not isinstance(matrix, Mapping):
        return []
    values: list[str] = []
    column = matrix.get(name)
    if isinstance(column, Sequence):
        for item in column.items:
            if isinstance(item, Scalar):
                values.append(item.value)
    include = matrix.get("include")
    if isinstance(include, Sequence):
        for entry in include.items:
            if isinstance(entry, Mapping):
                value = text_of(entry.get(name))
                if value is not None:
                    values.append(value)
    return values


def _runs_on(node: Node | None, matrix: Node | None) -> tuple[str, ...]:
    labels: list[str] = []
    items: list[Node] = []
    if isinstance(node, Sequence):
        items = node.items
    elif isinstance(node, Mapping):
        labels_node = node.get("labels")
        items = labels_node.items if isinstance(labels_node, Sequence) else (
            [labels_node] if labels_node is not None else [])
    elif node is not None:
        items = [node]
    for item in items:
        value = text_of(item)
        if value is None:
            continue
        match = _MATRIX_REF_RE.match(value.strip())
        if match:
            labels.extend(matrix_values(matrix, match.group(1)))
        else:
            labels.append(value.strip())
    return tuple(labels)


def _job(source: SourceFile, key: Scalar, node: Node, anchor: Anchor,
         problems: _Collector) -> Job | None:
    if not isinstance(node, Mapping):
        problems.add(anchor, f"job `{key.value}` must be a mapping")
        return None
    strategy = node.get("strategy")
    matrix = strategy.get("matrix") if isinstance(strategy, Mapping) else None
    permissions_node = node.get("permissions")
    permissions = (
        _permissions(permissions_node,
                     anchor.child("permissions", node=node.key("permissions")), problems)
        if permissions_node is not None else None
    )
    env_node = node.get("environment")
    environment = (
        _environment(env_node, anchor.child("environment", node=node.key("environment")))
        if env_node is not None and not (isinstance(env_node, Scalar) and env_node.is_null)
        else None
    )
    uses_node = node.get("uses")
    uses_scalar = uses_node if isinstance(uses_node, Scalar) else None
    uses = (parse_action_ref(uses_scalar.value, _comment_after(source, uses_scalar))
            if uses_scalar else None)
    if uses_node is not None and node.get("steps") is not None:
        problems.add(anchor.child("uses", node=node.key("uses")),
                     "a job that calls a reusable workflow (`uses`) cannot have `steps`")
    needs_node = node.get("needs")
    needs: list[str] = []
    if isinstance(needs_node, Sequence):
        needs = [n.value for n in needs_node.items if isinstance(n, Scalar)]
    elif isinstance(needs_node, Scalar) and not needs_node.is_null:
        needs = [needs_node.value]
    with_ = node.get("with")
    env = node.get("env")
    runs_on_node = node.get("runs-on")
    if runs_on_node is None and uses_node is None:
        problems.add(anchor.child(node=key), f"job `{key.value}` has no `runs-on`")
    return Job(
        anchor=anchor,
        job_id=key.value,
        key=key,
        node=node,
        name=text_of(node.get("name")),
        runs_on=_runs_on(runs_on_node, matrix),
        runs_on_node=runs_on_node,
        container=node.get("container"),
        permissions=permissions,
        environment=environment,
        steps=_steps(source, node.get("steps"), anchor.child("steps", node=node.key("steps")),
                     problems),
        uses=uses,
        uses_node=uses_scalar,
        with_=with_ if isinstance(with_, Mapping) else None,
        secrets=node.get("secrets"),
        needs=tuple(needs),
        if_=text_of(node.get("if")),
        matrix=matrix,
        env=env if isinstance(env, Mapping) else None,
        default_shell=_shell_of(node),
    )


def build_workflow(source: SourceFile, root: Node | None) -> Workflow | StructureProblem:
    """Model a workflow; a document that is not a mapping is a structure problem."""
    file_anchor = Anchor(source.path, (), root)
    if not isinstance(root, Mapping):
        kind = "empty" if root is None or (isinstance(root, Scalar) and root.is_null) else (
            "a list" if isinstance(root, Sequence) else "a single value")
        return StructureProblem(file_anchor, f"the workflow is {kind}, not a mapping with "
                                             "`on` and `jobs`")
    problems = _Collector()
    on_node = root.get("on")
    triggers: tuple[Trigger, ...] = ()
    if on_node is None:
        problems.add(file_anchor, "the workflow has no `on:` trigger")
    else:
        triggers = _triggers(on_node, file_anchor.child("on", node=root.key("on")), problems)
    permissions_node = root.get("permissions")
    permissions = (
        _permissions(permissions_node,
                     file_anchor.child("permissions", node=root.key("permissions")), problems)
        if permissions_node is not None else None
    )
    jobs: list[Job] = []
    jobs_node = root.get("jobs")
    jobs_anchor = file_anchor.child("jobs", node=root.key("jobs"))
    if jobs_node is None:
        problems.add(file_anchor, "the workflow has no `jobs:`")
    elif not isinstance(jobs_node, Mapping):
        problems.add(jobs_anchor, "`jobs` must be a mapping of job ids to jobs")
    else:
        for key, value in jobs_node.pairs:
            job = _job(source, key, value, jobs_anchor.child(key.value, node=key), problems)
            if job is not None:
                jobs.append(job)
    env = root.get("env")
    return Workflow(
        source=source,
        root=root,
        anchor=file_anchor,
        name=text_of(root.get("name")),
        triggers=triggers,
        on_node=on_node,
        permissions=permissions,
        env=env if isinstance(env, Mapping) else None,
        jobs=tuple(jobs),
        structure_problems=tuple(problems.problems),
    )


def build_composite_action(source: SourceFile, root: Node | None) -> Workflow | None:
    """Model a local composite action as a one-job workflow, so publish steps in it count.

    Returns ``None`` for docker/javascript actions and files that are not actions.
    """
    if not isinstance(root, Mapping):
        return None
    runs = root.get("runs")
    if not isinstance(runs, Mapping) or (text_of(runs.get("using")) or "") != "composite":
        return None
    problems = _Collector()
    file_anchor = Anchor(source.path, (), root)
    runs_anchor = file_anchor.child("runs", node=root.key("runs"))
    steps = _steps(source, runs.get("steps"), runs_anchor.child("steps", node=runs.get("steps")),
                   problems)
    key = root.key("runs") or Scalar("runs", None, root.start, root.start)
    job = Job(anchor=runs_anchor, job_id="(composite)", key=key, node=runs,
              name=text_of(root.get("name")), runs_on=(), runs_on_node=None, container=None,
              permissions=None, environment=None, steps=steps, uses=None, uses_node=None,
              with_=None, secrets=None, needs=(), if_=None, matrix=None, env=None,
              default_shell=None)
    return Workflow(source=source, root=root, anchor=file_anchor, name=text_of(root.get("name")),
                    triggers=(), on_node=None, permissions=None, env=None, jobs=(job,),
                    structure_problems=tuple(problems.problems), is_composite=True)
