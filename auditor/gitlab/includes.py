"""``include:``: which files make up a pipeline, read once each, with ``$[[ inputs.x ]]``
interpolation; remote, project, template and component includes recorded, not fetched."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from auditor.gitlab.merge import (
    MergedMap,
    Value,
    deep_merge,
    get,
    glob_matches,
    is_null,
)
from auditor.gitlab.model import (
    MAX_INCLUDE_DEPTH,
    MAX_INCLUDED_FILES,
    MAX_LISTED_FILES,
    RESERVED_KEYS,
    Include,
    PipelineProblem,
)
from auditor.gitlab.state import BuildState
from auditor.output.lazyre import lazy_re
from auditor.reading import yamlsource
from auditor.reading.source import Anchor
from auditor.reading.yamlsource import Mapping, Node, Scalar, Sequence, text_of

_INPUT_RE = lazy_re(r"\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*(?:\|[^\]]*)?\]\]")
_GLOB_CHARS = frozenset("*?[{")


class Includes(BuildState):
    """Reading the files of a pipeline: ``include:`` (local paths, globs, nested, with
    ``spec: inputs:`` interpolation), cycle- and count-bounded."""

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
