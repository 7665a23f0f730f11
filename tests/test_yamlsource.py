"""The YAML loader's marks and limits, pinned where its event loop takes shortcuts.

``yamlsource._Builder.run`` builds the tree inline from libyaml's events: it gets a
collection's expanded size from a running count instead of summing its children, and sets
node fields without the constructors. These tests fail if either shortcut drifts from what the
tree itself says.
"""

from __future__ import annotations

import pytest

from auditor.reading.yamlsource import (
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    Mapping,
    Node,
    Scalar,
    Sequence,
    YamlLoadError,
    load,
    text_of,
)


def span(node: Node | None) -> tuple[int, int, int, int]:
    assert node is not None
    return node.start.line, node.start.column, node.end.line, node.end.column


def test_marks_of_a_flow_sequence_inside_a_block_mapping() -> None:
    document = load("jobs:\n  a:\n    steps: [x, 'y', {uses: z}]\n    k: &v v\n")
    root = document.root
    assert isinstance(root, Mapping)
    assert span(root) == (0, 0, 4, 0)
    jobs = root.get("jobs")
    assert isinstance(jobs, Mapping) and span(jobs) == (1, 2, 4, 0)
    job = jobs.get("a")
    assert isinstance(job, Mapping)
    steps = job.get("steps")
    assert isinstance(steps, Sequence) and span(steps) == (2, 11, 2, 30)
    x, y, uses = steps.items
    assert isinstance(x, Scalar) and span(x) == (2, 12, 2, 13) and x.plain and x.style is None
    assert isinstance(y, Scalar) and span(y) == (2, 15, 2, 18) and not y.plain
    assert y.style == "'"
    assert isinstance(uses, Mapping) and span(uses) == (2, 20, 2, 29)
    assert span(uses.key("uses")) == (2, 21, 2, 25) and span(uses.get("uses")) == (2, 27, 2, 28)
    # an anchored scalar starts at its anchor
    assert span(job.key("k")) == (3, 4, 3, 5) and span(job.get("k")) == (3, 7, 3, 11)
    assert [k.value for k, _ in job.pairs] == ["steps", "k"]


def expanded_size(node: Node) -> int:
    """Nodes in ``node`` with every alias expanded: what MAX_EXPANDED_NODES counts."""
    size, todo = 0, [node]
    while todo:
        current = todo.pop()
        size += 1
        if isinstance(current, Sequence):
            todo.extend(current.items)
        elif isinstance(current, Mapping):
            for key, value in current.pairs:
                todo.extend((key, value))
    return size


def aliased(total: int) -> str:
    """A document of ``total`` expanded nodes, mostly aliases of an anchored mapping that
    holds aliases itself; its last node is the alias ``*s``."""
    head = ("a: &a [" + ", ".join(["x"] * 99) + "]\n"  # 100 nodes
            "m: &m {p: *a, q: [*a, {r: *a}], s: &s t}\n")  # 308 nodes
    fixed = 1 + 1 + 100 + 1 + 308 + 1 + 1 + 1  # the root, a, m, l and its sequence, *s
    aliases, filler = divmod(total - fixed, 308)
    return head + "l: [" + "x, " * filler + "*m, " * aliases + "*s]\n"


def test_anchored_collections_count_every_node_their_aliases_expand_to() -> None:
    for total in (MAX_EXPANDED_NODES - 1, MAX_EXPANDED_NODES):
        root = load(aliased(total)).root
        assert root is not None and expanded_size(root) == total
    text = aliased(MAX_EXPANDED_NODES + 1)
    with pytest.raises(YamlLoadError, match="alias bomb") as refused:
        load(text)
    last = text.splitlines()[2]
    assert (refused.value.line, refused.value.column) == (2, last.rindex("*s"))


@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_depth_limit_counts_open_collections(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    inner = "[]" if opener == "[" else "{}"
    levels = MAX_DEPTH - 1  # and the innermost empty collection: MAX_DEPTH in all
    assert load(opener * levels + inner + closer * levels).root is not None
    with pytest.raises(YamlLoadError, match="nesting deeper") as refused:
        load(opener * (levels + 1) + inner + closer * (levels + 1))
    assert (refused.value.line, refused.value.column) == (0, len(opener) * MAX_DEPTH)


@pytest.mark.parametrize("text", [
    "m0: {<<: {<<: {a: 1}}}\nn: {a: 1, a: 2}\n",
    "m0:\n  <<:\n    <<: {a: 1}\nn:\n  a: 1\n  a: 2\n",
])
def test_a_duplicate_key_after_a_nested_merge_is_still_a_duplicate(text: str) -> None:
    """The inner merge source is freed once merged, and the next mapping usually gets its
    id: the keys merged into the source must not pass for keys merged into that mapping."""
    document = load(text)
    assert [d.message.split(":")[0] for d in document.diagnostics] == ["duplicate key 'a'"]
    assert isinstance(document.root, Mapping)
    n = document.root.get("n")
    assert isinstance(n, Mapping) and [k.value for k, _ in n.pairs] == ["a", "a"]
    assert text_of(n.get("a")) == "2"
