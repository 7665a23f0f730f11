"""``extends:`` (multi-level deep merge, cycle-safe) and ``!reference [.job, key, ...]``
(flattened one level per reference, each array once, within a budget of expanded items)."""

from __future__ import annotations

from auditor.gitlab.merge import (
    MergedMap,
    Value,
    as_map,
    deep_merge,
    get,
    is_map,
    is_null,
    name_list,
)
from auditor.gitlab.model import (
    MAX_EXPANDED_ITEMS,
    MAX_EXTENDS_DEPTH,
    MAX_REFERENCE_DEPTH,
)
from auditor.gitlab.state import BuildState
from auditor.reading.yamlsource import Sequence, text_of


class References(BuildState):
    """``extends:`` and ``!reference``, resolved against the merged configuration, within
    GitLab's depth limits and pubaudit's expansion budget."""

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
