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

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from auditor.gitlab.conditions import (
    Clause,
    refs_tag_only,
    rules_tag_only,
    variables_exclude_untagged,
)
from auditor.gitlab.merge import (
    MergedMap,
    Value,
    as_map,
    deep_merge,
    get,
    glob_matches,
    is_map,
    is_null,
    key_of,
    name_list,
)
from auditor.reading import yamlsource
from auditor.reading.source import Anchor, SourceFile
from auditor.reading.yamlsource import Mapping, Node, Scalar, Sequence, text_of

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

_INPUT_RE = re.compile(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*(?:\|[^\]]*)?\]\]")
_GLOB_CHARS = frozenset("*?[{")


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True, slots=True)
class PipelineProblem:
    """A shape GitLab rejects, or a file that cannot be read as YAML."""

    anchor: Anchor
    message: str
    rule: str = "invalid-workflow"  # or "invalid-yaml"


@dataclass(frozen=True, slots=True)
class Include:
    """One entry of an ``include:`` list, and the local files it brought in."""

    kind: str  # local | remote | project | template | component | invalid
    target: str  # the path, URL, template or component as written
    anchor: Anchor  # the entry in the including file
    files: tuple[str, ...]  # local files it resolved to, relative to the scanned root
    from_path: str  # the file holding the entry


@dataclass(frozen=True, slots=True)
class ScriptLine:
    """One shell line of a job, after ``default:``, ``extends`` and ``!reference``."""

    section: str  # before_script | script | after_script
    node: Scalar
    anchor: Anchor  # in the file the line is written in


@dataclass(frozen=True, slots=True)
class Variable:
    """A CI/CD variable of a job or of the pipeline, with where it is set."""

    name: str
    value: str
    level: str  # "job variables" | "global variables"
    anchor: Anchor  # the variable's key


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class GitlabEnvironment:
    """A job's `environment:` (string or `name:`); PyPI may bind to it."""

    name: str | None
    anchor: Anchor  # the ``environment`` key
    name_anchor: Anchor  # the name's value
    is_expression: bool  # built from ``$VARIABLES``: cannot be verified statically


@dataclass(frozen=True, slots=True)
class RunCondition:
    """When the job runs, as far as publishing safety needs it."""

    kind: str  # "rules" | "only/except" | "none"
    anchor: Anchor | None  # the ``rules``/``only``/``except`` key
    tag_only: bool  # never runs in a pipeline that is not for a tag
    manual: bool  # ``when: manual``: someone has to start it
    by_workflow: bool = False  # tag-only because ``workflow: rules`` allow tag pipelines only


@dataclass(frozen=True, slots=True)
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

    @property
    def label(self) -> str:
        return f"job `{self.name}`"

    def variable(self, name: str) -> Variable | None:
        for variable in self.variables:
            if variable.name == name:
                return variable
        return None


@dataclass(frozen=True, slots=True)
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


class _Builder:
    """Builds one pipeline. ``origin`` maps every node (including interpolated copies) to
    the file it was written in: merged values mix files, anchors must not."""

    def __init__(self, path: str, files: PipelineFiles) -> None:
        self.path = path
        self.prefix = path[: path.rfind("/") + 1] if "/" in path else ""
        self.files = files
        self.origin: dict[int, str] = {}
        self.problems: list[PipelineProblem] = []
        self.includes: list[Include] = []
        self.loaded: list[str] = []
        self.sources: dict[str, SourceFile] = {}
        self.documents: dict[str, tuple[Mapping | None, Node | None] | None] = {}
        self.definitions: dict[str, list[Scalar]] = {}
        self.included: set[tuple[str, int]] = set()
        self.complete = True
        self.config = MergedMap()
        self.expanded: dict[str, Value] = {}
        self.reported: set[int] = set()
        self.listings: dict[str, list[str]] = {}
        self.expansion_budget = MAX_EXPANDED_ITEMS
        self.flattened: dict[tuple[int, int], list[Value]] = {}

    # ------------------------------------------------------------------ positions

    def where(self, node: Node | None) -> str:
        return self.origin.get(id(node), self.path) if node is not None else self.path

    def anchor(self, node: Node | None, *route: str | int) -> Anchor:
        return Anchor(self.where(node), route, node)

    def problem(self, value: Value | None, message: str, *route: str | int,
                rule: str = "invalid-workflow") -> None:
        node = value.node if isinstance(value, MergedMap) else value
        if node is not None and id(node) in self.reported:
            return
        if node is not None:
            self.reported.add(id(node))
        self.problems.append(PipelineProblem(self.anchor(node, "gitlab", *route), message, rule))

    def _register(self, root: Node | None, path: str) -> None:
        pending = [root] if root is not None else []
        while pending:
            node = pending.pop()
            if id(node) in self.origin:
                continue
            self.origin[id(node)] = path
            if isinstance(node, Sequence):
                pending.extend(node.items)
            elif isinstance(node, Mapping):
                for key, value in node.pairs:
                    pending.append(key)
                    pending.append(value)

    # ------------------------------------------------------------------ files

    def document(self, path: str, at: Node | None) -> tuple[Mapping | None, Node | None] | None:
        """The (``spec:`` header, content) of a file, loaded once."""
        if path in self.documents:
            return self.documents[path]
        self.documents[path] = None
        source = self.files.read(path)
        if isinstance(source, str):
            if at is None:
                self.problems.append(PipelineProblem(
                    Anchor(path, (), span=(0, 0, 0, 0)), f"`{path}` {source}", "invalid-yaml"))
            else:
                self.complete = False
                gitlab_says = (f" (GitLab: \"Local file `{path[len(self.prefix):]}` does not "
                               "exist!\")" if source == "does not exist" else "")
                self.problem(at, f"`include` names `{path[len(self.prefix):]}`, which "
                             f"{source}{gitlab_says}", "include")
            return None
        self.sources[path] = source
        self.loaded.append(path)
        try:
            document = yamlsource.load(source.text, max_documents=2)
        except yamlsource.YamlLoadError as exc:
            self.problems.append(PipelineProblem(
                Anchor(path, (), span=(exc.line, exc.column, exc.line, exc.column)),
                f"not valid YAML: {exc.message}", "invalid-yaml"))
            self.complete = self.complete and at is None
            return None
        for diagnostic in document.diagnostics:
            if diagnostic.message.startswith("duplicate key"):
                continue  # GitLab's YAML loader keeps the last value, as the model does
            self.problems.append(PipelineProblem(
                Anchor(path, ("diagnostic", diagnostic.line), span=(
                    diagnostic.line, diagnostic.column, diagnostic.line, diagnostic.column)),
                diagnostic.message, "invalid-yaml"))
        for root in document.roots:
            self._register(root, path)
        header: Mapping | None = None
        content = document.root
        if len(document.roots) == 2:
            first, content = document.roots
            if isinstance(first, Mapping) and "spec" in first:
                header = first
            else:
                self.problem(first, "a GitLab CI file may hold a second YAML document only "
                             "after a `spec:` header")
        elif isinstance(content, Mapping) and "spec" in content and len(content.pairs) == 1:
            header, content = content, None
        self.documents[path] = (header, content)
        return header, content

    def listed(self, directory: str) -> list[str]:
        """Files under ``directory`` of the repository, listed once."""
        if directory not in self.listings:
            base = (self.prefix + directory).rstrip("/")
            self.listings[directory] = sorted(self.files.list(base)[:MAX_LISTED_FILES])
        return self.listings[directory]

    def _local_paths(self, target: str, node: Node) -> list[str]:
        relative = target.strip().lstrip("/")
        normal = posixpath.normpath(relative) if relative else ""
        if not normal or normal.startswith("../") or normal == "..":
            self.problem(node, f"`include: local: {target}` does not name a file inside the "
                         "repository", "include")
            return []
        if not normal.endswith((".yml", ".yaml")):
            self.problem(node, f"`include: local: {target}`: GitLab includes only `.yml` or "
                         "`.yaml` files", "include")
            return []
        if any(c in _GLOB_CHARS for c in normal):
            parts = normal.split("/")
            fixed = next(i for i, part in enumerate(parts) if _GLOB_CHARS & set(part))
            return [p for p in self.listed("/".join(parts[:fixed]))
                    if glob_matches(normal, p[len(self.prefix):])]
        return [self.prefix + normal]

    # ------------------------------------------------------------------ inputs

    def _input_values(self, header: Mapping | None, given: Node | None) -> dict[str, Node]:
        values: dict[str, Node] = {}
        spec = header.get("spec") if header is not None else None
        declared = get(spec, "inputs")
        if isinstance(declared, Mapping):
            for key, value in declared.pairs:
                default = get(value, "default")
                if isinstance(default, Node):
                    values[key.value] = default
        if isinstance(given, Mapping):
            for key, value in given.pairs:
                values[key.value] = value
        return values

    def interpolate(self, node: Node, values: dict[str, Node], path: str,
                    memo: dict[int, Node]) -> Node:
        """A copy of ``node`` with ``$[[ inputs.x ]]`` replaced; unchanged nodes are shared,
        copies keep the original marks (so positions stay in ``path``)."""
        done = memo.get(id(node))
        if done is not None:
            return done
        result: Node = node
        if isinstance(node, Scalar):
            if "$[[" in node.value:
                whole = _INPUT_RE.fullmatch(node.value.strip())
                replacement = values.get(whole.group(1)) if whole else None
                if replacement is not None and not isinstance(replacement, Scalar):
                    result = replacement
                else:
                    def substitute(match: re.Match[str]) -> str:
                        value = values.get(match.group(1))
                        return value.value if isinstance(value, Scalar) else match.group(0)

                    result = Scalar(_INPUT_RE.sub(substitute, node.value), node.style,
                                    node.start, node.end, node.tag)
                    self.origin[id(result)] = path
        elif isinstance(node, Sequence):
            items = [self.interpolate(item, values, path, memo) for item in node.items]
            if any(a is not b for a, b in zip(items, node.items, strict=True)):
                result = Sequence(items, node.start, node.end, node.tag)
                self.origin[id(result)] = path
        elif isinstance(node, Mapping):
            pairs: list[tuple[Scalar, Node]] = []
            for key, value in node.pairs:
                new_key = self.interpolate(key, values, path, memo)
                pairs.append((new_key if isinstance(new_key, Scalar) else key,
                              self.interpolate(value, values, path, memo)))
            if any(a[0] is not b[0] or a[1] is not b[1]
                   for a, b in zip(pairs, node.pairs, strict=True)):
                mapping = Mapping(node.start, node.end, node.tag)
                for key, value in pairs:
                    mapping.pairs.append((key, value))
                    mapping.index[key.value] = value
                    mapping.keys[key.value] = key
                self.origin[id(mapping)] = path
                result = mapping
        memo[id(node)] = result
        return result

    # ------------------------------------------------------------------ includes

    def _entries(self, include: Node) -> Iterator[tuple[int, Node]]:
        items = include.items if isinstance(include, Sequence) else [include]
        yield from enumerate(items)

    def file_config(self, path: str, given_inputs: Node | None, chain: tuple[str, ...],
                    at: Node | None) -> Value | None:
        """The configuration a file contributes: its includes merged, then its own keys."""
        loaded = self.document(path, at)
        if loaded is None:
            return None
        header, content = loaded
        if content is None or (isinstance(content, Scalar) and content.is_null):
            return MergedMap()
        if not isinstance(content, Mapping):
            kind = "a list" if isinstance(content, Sequence) else "a single value"
            self.problem(content, f"the CI file `{path[len(self.prefix):]}` is {kind}, not a "
                         "mapping of jobs and keywords", "root")
            return None
        values = self._input_values(header, given_inputs)
        if values or header is not None:
            interpolated = self.interpolate(content, values, path, {})
            content = interpolated if isinstance(interpolated, Mapping) else content
        config: Value = MergedMap()
        include = content.get("include")
        if include is not None and not is_null(include):
            for position, entry in self._entries(include):
                for target, entry_inputs in self._include(entry, path, position):
                    if target in chain:
                        self.problem(entry, f"`include` of `{target[len(self.prefix):]}` "
                                     "includes itself through its own includes (a cycle)",
                                     "cycle", target)
                        continue
                    identity = (target, id(entry_inputs))
                    if identity in self.included:
                        continue  # the same file with the same inputs: included once
                    if len(chain) >= MAX_INCLUDE_DEPTH or \
                            len(self.included) >= MAX_INCLUDED_FILES:
                        self.problem(entry, f"more than {MAX_INCLUDED_FILES} included files "
                                     f"or {MAX_INCLUDE_DEPTH} levels of nested includes",
                                     "limit")
                        self.complete = False
                        continue
                    self.included.add(identity)
                    sub = self.file_config(target, entry_inputs, (*chain, target), entry)
                    if sub is not None:
                        config = deep_merge(config, sub)
        own = MergedMap(content)
        own.entries.pop("include", None)
        own.entries.pop("spec", None)
        for name, (key, _value) in own.entries.items():
            if name not in RESERVED_KEYS:
                self.definitions.setdefault(name, []).append(key)
        return deep_merge(config, own)

    def _include(self, entry: Node, path: str,
                 position: int) -> Iterator[tuple[str, Node | None]]:
        """The local files one include entry names, with the inputs it passes."""
        anchor = self.anchor(entry, "include", position)
        kind, target, inputs = "invalid", "", None
        if isinstance(entry, Scalar):
            target = entry.value.strip()
            kind = "remote" if target.startswith(("http://", "https://")) else "local"
        elif isinstance(entry, Mapping):
            inputs = entry.get("inputs")
            for candidate in ("local", "remote", "project", "template", "component"):
                if candidate in entry:
                    kind = candidate
                    target = text_of(entry.get(candidate)) or ""
                    break
        if kind == "invalid" or not target:
            self.problem(entry, "an `include` entry must be a path or a mapping with `local`, "
                         "`remote`, `project`, `template` or `component`", "include",
                         position)
            self.includes.append(Include("invalid", target, anchor, (), path))
            return
        if kind != "local":
            self.complete = False
            self.includes.append(Include(kind, target, anchor, (), path))
            return
        targets = self._local_paths(target, entry)
        self.includes.append(Include("local", target, anchor, tuple(targets), path))
        for resolved in targets:
            yield resolved, inputs

    # ------------------------------------------------------------------ extends, references

    def extended(self, name: str, chain: tuple[str, ...] = ()) -> Value | None:
        """A top-level entry with its ``extends`` merged in (bases first, own keys last)."""
        if name in self.expanded:
            return self.expanded[name]
        entry = self.config.entries.get(name)
        if entry is None:
            return None
        value = entry[1]
        if not is_map(value):
            return value
        own = as_map(value)
        extends_node = get(own, "extends")
        bases = name_list(extends_node)
        if not bases:
            self.expanded[name] = own
            return own
        if len(chain) >= MAX_EXTENDS_DEPTH:
            self.problem(extends_node, f"`extends` of `{name}` goes deeper than "
                         f"{MAX_EXTENDS_DEPTH} levels", "extends", name)
            return own
        merged: Value = MergedMap()
        for base in bases:
            if base == name or base in chain:
                self.problem(extends_node, f"`extends` of `{name}` reaches `{base}` again "
                             "(a cycle)", "extends", name)
                continue
            if base not in self.config.entries:
                if self.complete:
                    self.problem(extends_node, f"`{name}` extends `{base}`, which is not "
                                 "defined in this pipeline", "extends", name)
                continue
            resolved = self.extended(base, (*chain, name))
            if resolved is not None and is_map(resolved):
                merged = deep_merge(merged, resolved)
        result = deep_merge(merged, own)
        self.expanded[name] = result
        return result

    def resolve(self, value: Value | None) -> Value | None:
        """Follow ``!reference`` tags (nested ones too, up to GitLab's limit)."""
        depth = 0
        while isinstance(value, Sequence) and value.tag == "!reference":
            if depth >= MAX_REFERENCE_DEPTH:
                self.problem(value, f"`!reference` tags nest deeper than {MAX_REFERENCE_DEPTH} "
                             "levels", "reference")
                return None
            value = self._reference(value)
            depth += 1
        return value

    def _reference(self, node: Sequence) -> Value | None:
        path = [text_of(item) for item in node.items]
        if not path or any(n is None for n in path):
            self.problem(node, "`!reference` takes a list of names, such as "
                         "`!reference [.setup, script]`", "reference")
            return None
        first = str(path[0])
        value: Value | None = self.extended(first, ())
        for name in path[1:]:
            value = get(value, str(name))
        if value is None and self.complete:
            self.problem(node, f"`!reference [{', '.join(str(n) for n in path)}]` points at "
                         "nothing defined in this pipeline", "reference")
        return value

    def items(self, value: Value | None, depth: int = 0) -> list[Value]:
        """An array's items with ``!reference`` results and nested arrays flattened."""
        value = self.resolve(value)
        if is_null(value):
            return []
        if not isinstance(value, Sequence):
            return [value] if value is not None else []
        key = (id(value), depth)
        if key in self.flattened:  # the same array reached again: expanded once
            done = self.flattened[key]
            self.expansion_budget -= len(done)
            return done
        out: list[Value] = []
        for item in value.items:
            resolved = self.resolve(item)
            if isinstance(resolved, Sequence) and depth < MAX_REFERENCE_DEPTH:
                if self.expansion_budget <= 0:  # the items written here still count
                    self._expansion_too_large(item)
                    continue
                out.extend(self.items(resolved, depth + 1))
            elif resolved is not None:
                out.append(resolved)
                self.expansion_budget -= 1
        self.flattened[key] = out
        return out

    def _expansion_too_large(self, node: Value) -> None:
        if self.expansion_budget == 0:  # once per pipeline
            self.expansion_budget = -1
            self.problem(node, f"`!reference` tags expand to more than {MAX_EXPANDED_ITEMS} "
                         "array items in this pipeline; pubaudit stops expanding them here and "
                         "audits the arrays without what they reference from here on",
                         "reference")

    # ------------------------------------------------------------------ jobs

    def inherited(self, job: MergedMap, name: str, section: str) -> bool:
        """Whether ``inherit:`` lets the job take ``name`` from ``section`` (default or
        variables)."""
        rule = self.resolve(get(get(job, "inherit"), section))
        if rule is None or is_null(rule):
            return True
        if isinstance(rule, Scalar):
            return rule.value.strip().lower() != "false"
        return name in name_list(rule)

    def effective(self, job: MergedMap, key: str) -> tuple[Value | None, Scalar | None]:
        """A job key, else the ``default:`` one, else a legacy global, with its key node."""
        if key in job.entries:
            return job.entries[key][1], job.entries[key][0]
        if key in DEFAULT_KEYS and self.inherited(job, key, "default"):
            default = self.resolve(get(self.config, "default"))
            if is_map(default) and key_of(default, key) is not None:
                return get(default, key), key_of(default, key)
            if key in LEGACY_GLOBAL_KEYS and key in self.config.entries:
                return self.config.entries[key][1], self.config.entries[key][0]
        return None, None

    def script(self, name: str, job: MergedMap) -> tuple[ScriptLine, ...]:
        lines: list[ScriptLine] = []
        for section in SCRIPT_SECTIONS:
            value, _key = self.effective(job, section)
            for position, item in enumerate(self.items(value)):
                if isinstance(item, Scalar) and not item.is_null:
                    lines.append(ScriptLine(section, item,
                                            self.anchor(item, name, section, position)))
        return tuple(lines)

    def variables(self, name: str, job: MergedMap) -> tuple[Variable, ...]:
        out: list[Variable] = []
        seen: set[str] = set()
        levels = [("job variables", get(job, "variables"), False),
                  ("global variables", get(self.config, "variables"), True)]
        for level, mapping, inherited in levels:
            resolved = self.resolve(mapping)
            if not is_map(resolved):
                continue
            assert resolved is not None
            for var_name, (key, raw) in as_map(resolved).entries.items():
                if var_name in seen or (inherited and not self.inherited(job, var_name,
                                                                         "variables")):
                    continue
                seen.add(var_name)
                value = self.resolve(raw)
                if is_map(value):
                    value = self.resolve(get(value, "value"))
                text = text_of(value) if isinstance(value, Node) else None
                out.append(Variable(var_name, text or "", level,
                                    self.anchor(key, name, "variables", var_name)))
        return tuple(out)

    def id_tokens(self, name: str, job: MergedMap) -> tuple[tuple[IdToken, ...], Anchor | None]:
        value, key = self.effective(job, "id_tokens")
        value = self.resolve(value)
        if key is None or not is_map(value):
            return (), (self.anchor(key, name, "id_tokens") if key is not None else None)
        assert value is not None
        tokens: list[IdToken] = []
        for token_name, (token_key, token_value) in as_map(value).entries.items():
            aud = self.resolve(get(self.resolve(token_value), "aud"))
            aud_key = key_of(self.resolve(token_value), "aud")
            audiences: list[str] = []
            is_list = isinstance(aud, Sequence)
            for item in self.items(aud):
                if isinstance(item, Scalar) and not item.is_null:
                    audiences.append(item.value.strip())
            aud_node: Node | None = aud if isinstance(aud, Node) else aud_key
            tokens.append(IdToken(
                token_name, self.anchor(token_key, name, "id_tokens", token_name),
                tuple(audiences),
                self.anchor(aud_node or token_key, name, "id_tokens", token_name, "aud"),
                is_list))
        return tuple(tokens), self.anchor(key, name, "id_tokens")

    def environment(self, name: str, job: MergedMap) -> GitlabEnvironment | None:
        value = self.resolve(get(job, "environment"))
        key = key_of(job, "environment")
        if key is None or is_null(value):
            return None
        name_node: Value | None = value
        if is_map(value):
            name_node = self.resolve(get(value, "name"))
        env_name = text_of(name_node) if isinstance(name_node, Node) else None
        env_name = env_name.strip() if env_name is not None else None
        node = name_node if isinstance(name_node, Node) else key
        return GitlabEnvironment(env_name, self.anchor(key, name, "environment"),
                                 self.anchor(node, name, "environment", "name"),
                                 bool(env_name and "$" in env_name))

    def clauses(self, rules: Value | None) -> list[Clause]:
        out: list[Clause] = []
        for item in self.items(rules):
            if not is_map(item):
                continue
            if_ = self.resolve(get(item, "if"))
            when = self.resolve(get(item, "when"))
            out.append(Clause(text_of(if_) if isinstance(if_, Node) else None,
                              text_of(when) if isinstance(when, Node) else None,
                              get(item, "changes") is not None or
                              get(item, "exists") is not None))
        return out

    def condition(self, name: str, job: MergedMap, when: str | None) -> RunCondition:
        workflow_rules = get(self.resolve(get(self.config, "workflow")), "rules")
        by_workflow = workflow_rules is not None and rules_tag_only(
            self.clauses(workflow_rules))
        manual = (when or "").strip() == "manual"
        if "rules" in job.entries:
            key = job.entries["rules"][0]
            clauses = self.clauses(job.entries["rules"][1])
            active = [c for c in clauses if (c.when or "").strip() != "never"]
            manual = manual or (bool(active) and all(
                (c.when or "").strip() == "manual" for c in active))
            return RunCondition("rules", self.anchor(key, name, "rules"),
                                rules_tag_only(clauses) or by_workflow, manual,
                                by_workflow and not rules_tag_only(clauses))
        only, except_ = self.resolve(get(job, "only")), self.resolve(get(job, "except"))
        if only is None and except_ is None:
            return RunCondition("none", None, by_workflow, manual, by_workflow)
        only_key = key_of(job, "only") if only is not None else key_of(job, "except")
        only_refs: list[str] | None = None
        if is_map(only):
            refs = get(only, "refs")
            only_refs = name_list(refs) if refs is not None else None
        elif only is not None:
            only_refs = name_list(only)
        except_refs = name_list(get(except_, "refs")) if is_map(except_) else name_list(except_)
        only_vars = name_list(get(only, "variables")) if is_map(only) else []
        except_vars = name_list(get(except_, "variables")) if is_map(except_) else []
        tag_only = (refs_tag_only(only_refs, except_refs)
                    or variables_exclude_untagged(only_vars, all_false=True)
                    or variables_exclude_untagged(except_vars, all_false=False))
        return RunCondition("only/except",
                            self.anchor(only_key, name, only_key.value if only_key else "only"),
                            tag_only or by_workflow, manual, by_workflow and not tag_only)

    def job(self, name: str, value: Value) -> GitlabJob | None:
        keys = self.definitions.get(name) or [self.config.entries[name][0]]
        first = keys[0]
        if not is_map(value):
            if not is_null(value):
                self.problem(first, f"job `{name}` must be a mapping of keywords", "job", name)
            return None
        expanded = self.extended(name, ())
        job = as_map(expanded if expanded is not None else value)
        if self.complete and not any(k in job.entries for k in ("script", "run", "trigger")):
            self.problem(first, f"job `{name}` has no `script:`, `run:` or `trigger:` keyword "
                         "(GitLab: \"config should implement the script:, run:, or trigger: "
                         "keyword\")", "job", name)
        image_value, _ = self.effective(job, "image")
        image_value = self.resolve(image_value)
        image_name = self.resolve(get(image_value, "name")) if is_map(image_value) \
            else image_value
        image = text_of(image_name) if isinstance(image_name, Node) else None
        stage = self.resolve(get(job, "stage"))
        when = self.resolve(get(job, "when"))
        when_text = text_of(when) if isinstance(when, Node) else None
        tokens, tokens_anchor = self.id_tokens(name, job)
        return GitlabJob(
            name=name,
            path=self.where(first),
            key=first,
            anchor=self.anchor(first, name),
            definitions=tuple(self.anchor(k, name) for k in keys),
            stage=text_of(stage) if isinstance(stage, Node) else None,
            image=image,
            extends=tuple(name_list(get(value, "extends"))),
            script=self.script(name, job),
            variables=self.variables(name, job),
            id_tokens=tokens,
            id_tokens_anchor=tokens_anchor,
            environment=self.environment(name, job),
            condition=self.condition(name, job, when_text),
            when=when_text,
        )

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
