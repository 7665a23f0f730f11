"""Fix operations and the smallest text edits that carry them out.

A rule states a fix as operations on the YAML tree it read (a scalar node, a mapping node
and a key), never as line numbers; this module turns each operation into character-offset
edits of the file's own text, in the file's own indentation, quoting and line endings, and
refuses the shapes it cannot edit without guessing (flow collections over several lines,
anchors and aliases, keys that are expressions). Block collections are measured by their
lines, never by their end mark: libyaml's end mark of a block mapping runs past trailing
comments and blank lines up to the next token, so an edit that trusted it would eat the
comment above the next step.

The edits are applied by ``auditor.fix``, which verifies the result before writing it.
"""

from __future__ import annotations

import itertools
import re

from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.source import Anchor, SourceFile
from auditor.reading.yamlsource import Mapping, Mark, Node, Scalar, Sequence


@record
class ReplaceScalar:
    """Give the scalar at ``anchor`` a new value, keeping its quote style."""

    anchor: Anchor
    value: str


@record
class SetComment:
    """Make ``comment`` the trailing comment of the line of the scalar at ``anchor``; an
    existing comment is replaced only when it is a version comment (``# v1.2.3``)."""

    anchor: Anchor
    comment: str


@record
class RenameKey:
    """Rename the key scalar at ``anchor`` (a key node), keeping its quote style."""

    anchor: Anchor
    key: str


@record
class InsertKey:
    """Add ``key: value`` to the block mapping at ``mapping`` (its node), or, when
    ``mapping`` is the owner and ``child`` names a key it lacks, create ``child:`` holding
    the pair. ``value`` is YAML text: one line for a scalar or flow value, or lines that
    form a block mapping (``"contents: read\\nid-token: write"``), indented as the file
    indents. The pair goes after the first of ``after`` the mapping has, else before the
    first of ``before``, else last."""

    mapping: Anchor
    key: str
    value: str
    after: tuple[str, ...] = ()
    before: tuple[str, ...] = ()
    child: str | None = None


@record
class RemoveKey:
    """Remove ``key`` and its value from the block mapping at ``mapping``. When that leaves
    the mapping empty and ``owner`` is given, ``owner_key`` is removed from ``owner`` too
    (an empty ``with:``), or written as ``{}`` when ``empty`` is ``"{}"`` (an emptied
    ``permissions:`` must stay, or the default grants come back)."""

    mapping: Anchor
    key: str
    owner: Anchor | None = None
    owner_key: str | None = None
    empty: str = "remove"


EditOp = ReplaceScalar | SetComment | RenameKey | InsertKey | RemoveKey


def path_of(op: EditOp) -> str:
    """The file an operation edits."""
    return op.mapping.path if isinstance(op, (InsertKey, RemoveKey)) else op.anchor.path


@record
class TextEdit:
    """Replace ``text[start:end]`` of the file with ``text``."""

    start: int
    end: int
    text: str


class Refused(Exception):
    """The operation cannot be carried out safely on this file's shape; the message says
    why, in words for the user."""


_VERSION_COMMENT_RE = lazy_re(r"^#\s*(?:tag[:=]\s*|version[:=]\s*)?v?\d+(?:\.\d+)*\S*\s*$",
                                 re.I)
_PLAIN_SAFE_RE = lazy_re(r"^[A-Za-z0-9_./@+-][A-Za-z0-9_./@+:# -]*$")


_PAIR_RE = lazy_re(r"^[^\s{\[\"'#][^:]*:(?:\s|$)")
_BREAK_RE = lazy_re(r"\r\n|\r|\n")


def line_starts(text: str) -> list[int]:
    """The offset of each line's first character, lines broken as YAML breaks them (CRLF,
    CR or LF), so that a node's line number indexes this list."""
    return [0, *(match.end() for match in _BREAK_RE.finditer(text))]


class Text:
    """A file's text with its line starts and line ending, for offset arithmetic."""

    def __init__(self, source: SourceFile) -> None:
        self.text = source.text
        self.starts = line_starts(self.text)
        first = _BREAK_RE.search(self.text)
        self.newline = first.group() if first else "\n"

    def offset(self, line: int, column: int) -> int:
        return self.starts[line] + column if line < len(self.starts) else len(self.text)

    def line(self, line: int) -> str:
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end].rstrip("\r\n")  # one break: CRLF, CR or LF

    def line_end(self, line: int) -> int:
        """The offset just past ``line``'s line break (the start of the next line)."""
        return self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)


def _at(text: Text, mark: Mark) -> int:
    """The offset of a node mark, from its line and column (both in characters)."""
    return text.offset(mark.line, mark.column)


def _node(anchor: Anchor) -> Node:
    if anchor.node is None:
        raise Refused("the fix names no YAML node")
    return anchor.node


def _check_plain(node: Node) -> None:
    if node.tag is not None and node.tag.startswith("!"):
        raise Refused("the value carries a YAML tag")


def _quote(value: str, style: str | None) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"':
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style is None and _PLAIN_SAFE_RE.match(value) and " #" not in value and \
            not value.endswith(":") and ": " not in value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scalar_edit(text: Text, node: Node, value: str) -> TextEdit:
    if not isinstance(node, Scalar) or node.style in ("|", ">"):
        raise Refused("the value is not a one-line scalar")
    if node.start.line != node.end.line:
        raise Refused("the value spans several lines")
    _check_plain(node)
    start, end = _at(text, node.start), _at(text, node.end)
    if text.text[start:end].lstrip("'\"") != text.text[start:end] and node.style is None:
        raise Refused("the value's quoting could not be read")
    return TextEdit(start, end, _quote(value, node.style))


def _comment_edit(text: Text, node: Node, comment: str) -> TextEdit:
    line = node.end.line
    rest_start = _at(text, node.end)
    line_end = text.starts[line] + len(text.line(line))
    rest = text.text[rest_start:line_end]
    stripped = rest.strip()
    if not stripped:
        return TextEdit(line_end, line_end, f" # {comment}")
    if not stripped.startswith("#"):
        raise Refused("something other than a comment follows the value on its line")
    if not _VERSION_COMMENT_RE.match(stripped):
        raise Refused(f"the line already has a comment (`{stripped[:40]}`) that is not a "
                      "version comment; pubaudit does not overwrite it")
    hash_at = rest_start + rest.index("#")
    return TextEdit(hash_at, line_end, f"# {comment}")


def _key_of(mapping: Mapping, key: str) -> tuple[Scalar, Node]:
    for pair_key, value in mapping.pairs:
        if pair_key.value == key:
            return pair_key, value
    raise Refused(f"`{key}` is not in the mapping")


def _is_block(text: Text, node: Node) -> bool:
    if isinstance(node, (Mapping, Sequence)):
        first = text.text[_at(text, node.start):_at(text, node.start) + 1]
        return first not in ("{", "[")
    return False


def _last_line(text: Text, node: Node) -> int:
    """The last line holding content of ``node`` (never its end mark's line for a block
    collection: that runs past trailing comments)."""
    if isinstance(node, Mapping):
        if not node.pairs or not _is_block(text, node):
            return node.end.line if not _is_block(text, node) else node.start.line
        return max(_last_line(text, value) for _, value in node.pairs[-1:]) if \
            node.pairs else node.start.line
    if isinstance(node, Sequence):
        if not node.items or not _is_block(text, node):
            return node.end.line if not _is_block(text, node) else node.start.line
        return _last_line(text, node.items[-1])
    if isinstance(node, Scalar) and node.style in ("|", ">"):
        # a block scalar's end mark is the line after its last content line
        end = node.end.line if node.end.column == 0 else node.end.line + 1
        last = end - 1
        while last > node.start.line and not text.line(last).strip():
            last -= 1
        return last
    return node.end.line


def _refuse_aliases(text: Text, start_line: int, end_line: int) -> None:
    for number in range(start_line, end_line + 1):
        line = text.line(number)
        code = line.split(" #", 1)[0]
        if re.search(r"(^|[\s:\-\[{,])[&*][\w-]+", code) or "<<:" in code:
            raise Refused("the lines to edit hold a YAML anchor, alias or merge key")


def _pair_lines(text: Text, key: Scalar, value: Node) -> tuple[int, int]:
    return key.start.line, _last_line(text, value)


def _indent_of(text: Text, line: int) -> str:
    raw = text.line(line)
    return raw[:len(raw) - len(raw.lstrip(" "))]


def _step(text: Text, mapping: Mapping, depth: int = 0) -> str:
    """The file's indentation step: from a nested block mapping or sequence of ``mapping``
    when it has one, else from the mapping's own column over its depth (a job's keys at
    column 4 under `jobs:` mean a step of 2), else 2."""
    for key, value in mapping.pairs:
        if isinstance(value, Mapping) and value.pairs and _is_block(text, value):
            delta = value.pairs[0][0].start.column - key.start.column
            if delta > 0:
                return " " * delta
        if isinstance(value, Sequence) and value.items and _is_block(text, value):
            line = text.line(value.items[0].start.line)
            dash = len(line) - len(line.lstrip(" "))
            if line[dash:dash + 1] == "-" and dash > key.start.column:
                return " " * (dash - key.start.column)
    column = mapping.pairs[0][0].start.column if mapping.pairs else 0
    if depth and column and column % depth == 0:
        return " " * (column // depth)
    return "  "


def _block_value(value: str, indent: str, newline: str, unit: str = "  ") -> tuple[str, bool]:
    """``value`` as the text after ``key:``: inline for a one-line scalar or flow value,
    else indented lines (a block mapping, even of one pair: ``with: a: b`` is no YAML).
    Nesting in ``value`` is written with two spaces per level and becomes the file's own
    indentation step ``unit``."""
    lines = value.split("\n")
    if len(lines) == 1 and not _PAIR_RE.match(value):
        return " " + lines[0], False
    out = []
    for line in lines:
        stripped = line.lstrip(" ")
        out.append(indent + unit * ((len(line) - len(stripped)) // 2) + stripped)
    return newline + newline.join(out), True


def _insert(text: Text, op: InsertKey) -> list[TextEdit]:
    owner = _node(op.mapping)
    if not isinstance(owner, Mapping):
        raise Refused("the place to insert into is not a mapping")
    target = owner
    key, value = op.key, op.value
    if op.child is not None:
        if op.child in owner.index:
            existing = owner.index[op.child]
            if not isinstance(existing, Mapping):
                raise Refused(f"`{op.child}:` is not a mapping")
            if existing.start.line < owner.keys[op.child].start.line:
                raise Refused(f"`{op.child}:` is an alias of a mapping defined elsewhere")
            target = existing
        else:
            key, value = op.child, f"{op.key}: {op.value}" if "\n" not in op.value else \
                op.key + ":\n" + "\n".join("  " + v for v in op.value.split("\n"))
    if any(k.value == key for k, _ in target.pairs):
        raise Refused(f"`{key}:` is already there")
    if target.pairs and not _is_block(text, target):
        start, end = target.start, target.end
        if start.line != end.line:
            raise Refused("the mapping is a flow mapping over several lines")
        if "\n" in value:
            raise Refused("a block value cannot go into a one-line flow mapping")
        inner = text.text[_at(text, start) + 1:_at(text, end) - 1]
        close = _at(text, end) - 1 - (len(inner) - len(inner.rstrip()))
        return [TextEdit(close, close, f", {key}: {value.strip()}")]
    if not target.pairs:
        raise Refused("the mapping is empty; pubaudit does not guess its indentation")
    keys = [k for k, _ in target.pairs]
    column = keys[0].start.column
    if any(k.start.column != column for k in keys):
        raise Refused("the mapping's keys are not aligned")
    if any(k.start.line == target.pairs[0][0].start.line and k is not keys[0] for k in keys):
        raise Refused("the mapping's keys share a line")
    route = op.mapping.route + ((op.child,) if target is not owner and op.child else ())
    unit = _step(text, target, len(route) if all(isinstance(r, str) for r in route) else 0)
    # place the pair
    index = None
    for name in op.after:
        hit = next((i for i, k in enumerate(keys) if k.value == name), None)
        if hit is not None:
            index = hit + 1
            break
    if index is None:
        for name in op.before:
            hit = next((i for i, k in enumerate(keys) if k.value == name), None)
            if hit is not None:
                index = hit
                break
    if index is None:
        index = len(keys)
    first_line = keys[0].start.line
    indent_text = text.line(first_line)[:column]
    if indent_text.strip(" ") and not indent_text.rstrip(" ").endswith("-"):
        raise Refused("the mapping does not start on its own line")
    pad = " " * column
    rendered, _ = _block_value(value, pad + unit, text.newline, unit)
    line_text = f"{pad}{key}:{rendered}{text.newline}"
    if index < len(keys):
        at_line = keys[index].start.line
        if index == 0 and indent_text.strip(" "):
            # the first key shares its line with the sequence dash: insert after it instead
            prev_key, prev_value = target.pairs[0]
            at = text.line_end(_last_line(text, prev_value))
            _refuse_aliases(text, prev_key.start.line, _last_line(text, prev_value))
            return [TextEdit(at, at, line_text)]
        # above the key's own line, and above the comments that belong to it
        while at_line > first_line and text.line(at_line - 1).strip().startswith("#") and \
                _indent_of(text, at_line - 1) == pad:
            at_line -= 1
        at = text.starts[at_line]
        return [TextEdit(at, at, line_text)]
    prev_key, prev_value = target.pairs[-1]
    last = _last_line(text, prev_value)
    at = text.line_end(last)
    if at == len(text.text) and not text.text.endswith("\n"):
        return [TextEdit(at, at, text.newline + line_text.rstrip("\r\n"))]
    return [TextEdit(at, at, line_text)]


def _remove(text: Text, op: RemoveKey) -> list[TextEdit]:
    mapping = _node(op.mapping)
    if not isinstance(mapping, Mapping):
        raise Refused("the place to remove from is not a mapping")
    key, value = _key_of(mapping, op.key)
    if not _is_block(text, mapping):
        raise Refused("the key is in a flow mapping")
    if key.start.line == mapping.pairs[0][0].start.line and len(mapping.pairs) > 1 and \
            key is mapping.pairs[0][0] and text.line(key.start.line)[:key.start.column].strip():
        raise Refused("the key shares its line with a sequence dash")
    if mapping.merge_keys:
        raise Refused("the mapping uses a merge key")
    if value.start.line < key.start.line:
        raise Refused(f"`{op.key}:` is an alias of a value defined elsewhere")
    first, last = _pair_lines(text, key, value)
    _refuse_aliases(text, first, last)
    if len(mapping.pairs) == 1:
        if op.owner is None or op.owner_key is None:
            raise Refused(f"removing `{op.key}` would leave an empty mapping")
        owner = _node(op.owner)
        if not isinstance(owner, Mapping):
            raise Refused("the owner is not a mapping")
        owner_key, owned = _key_of(owner, op.owner_key)
        if owned is not mapping or mapping.start.line < owner_key.start.line:
            raise Refused(f"`{op.owner_key}:` is an alias of a mapping defined elsewhere")
        if op.empty == "{}":
            start = _at(text, owner_key.end)
            end = text.line_end(last)
            return [TextEdit(start, end, ": {}" + text.newline)]
        return _remove(text, RemoveKey(op.owner, op.owner_key))
    if text.line(first)[:key.start.column].strip():
        raise Refused("the key shares its line with a sequence dash")
    return [TextEdit(text.starts[first], text.line_end(last), "")]


def plan(text: Text, ops: tuple[EditOp, ...]) -> list[TextEdit]:
    """The text edits that carry out ``ops`` on a file's ``text`` (raises
    :class:`Refused`)."""
    edits: list[TextEdit] = []
    for op in ops:
        if isinstance(op, ReplaceScalar):
            edits.append(_scalar_edit(text, _node(op.anchor), op.value))
        elif isinstance(op, SetComment):
            edits.append(_comment_edit(text, _node(op.anchor), op.comment))
        elif isinstance(op, RenameKey):
            edits.append(_scalar_edit(text, _node(op.anchor), op.key))
        elif isinstance(op, InsertKey):
            edits.extend(_insert(text, op))
        else:
            edits.extend(_remove(text, op))
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    for before, after in itertools.pairwise(ordered):
        if after.start < before.end:
            raise Refused("two parts of the fix overlap")
    return edits


def apply(text: str, edits: list[TextEdit]) -> str:
    """``text`` with ``edits`` applied (from the end, so earlier offsets stay valid)."""
    for edit in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
        text = text[:edit.start] + edit.text + text[edit.end:]
    return text
