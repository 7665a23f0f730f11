"""What building one pipeline keeps while it runs: the files read, the node -> file origin
of every value, the problems found, the expansion budget; and positions from it."""

from __future__ import annotations

from auditor.gitlab.merge import (
    MergedMap,
    Value,
)
from auditor.gitlab.model import (
    MAX_EXPANDED_ITEMS,
    Include,
    PipelineFiles,
    PipelineProblem,
)
from auditor.reading.source import Anchor, SourceFile
from auditor.reading.yamlsource import Mapping, Node, Scalar


class BuildState:
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
