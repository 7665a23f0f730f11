"""YAML with positions, built from libyaml's event stream.

Why events and not ``yaml.compose``: compose builds the node tree recursively in C and
crashes the interpreter (SIGSEGV) on 100k-deep flow nesting, and it copies nothing for
aliases, which pushes alias-bomb protection onto every later walker. Building the tree from
``CSafeLoader``'s events (``get_event``) is iterative, costs about what compose does (the
shared corpus's 349 files, best of 7: 97 ms against compose's 93 ms, and 60 ms of the 97 are
libyaml producing the events; 159 ms before ``_Builder.run`` became one loop), and lets one
place enforce every limit: depth, total expanded size through aliases, duplicate keys and
merge keys.

Scalars stay strings (``on:`` is the key "on", never ``True``); callers interpret them. Marks
are 0-based lines and code-point columns, as libyaml gives them; ``end`` is exclusive. An
explicit tag is kept on its node (``tag``, ``None`` when absent) and never interpreted here:
GitLab's ``!reference [.job, script]`` is resolved by the GitLab model, and an unknown tag
does not stop the file from loading.
"""

from __future__ import annotations

from typing import Any, NoReturn

from auditor.output.lazyre import lazy_re
from auditor.output.records import record
from auditor.reading.pyyaml import yaml

try:  # the wheels bundle libyaml; keep a pure-Python fallback for exotic installs
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 200
MAX_EXPANDED_NODES = 250_000


class YamlLoadError(Exception):
    """The text is not YAML we accept; ``line``/``column`` are 0-based."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@record
class Mark:
    """A 0-based position in a YAML text.

    Nodes built by ``load`` keep libyaml's own mark objects, which have the same ``line``
    and ``column`` attributes: copying ~100k marks per corpus scan into this class cost more
    than any rule.
    """

    line: int
    column: int


class Node:
    """A YAML node with its span and explicit tag; subclasses hold the content."""

    __slots__ = ("end", "start", "tag")

    def __init__(self, start: Mark, end: Mark, tag: str | None = None) -> None:
        self.start = start
        self.end = end
        self.tag = tag


class Scalar(Node):
    """A scalar, kept as the string it was written as (``plain`` is False when quoted)."""

    __slots__ = ("plain", "style", "value")

    def __init__(self, value: str, style: str | None, start: Mark, end: Mark,
                 tag: str | None = None) -> None:
        # the fields set here rather than through Node.__init__, which doubled the cost of a
        # Scalar() (the loader sets them itself, see _Builder.run)
        self.start = start
        self.end = end
        self.tag = tag
        self.value = value
        # libyaml reports a plain scalar's style as "" where pure PyYAML says None: one
        # spelling here, or nulls and merge keys go unrecognised under the C loader.
        self.style = style or None
        self.plain = not style

    @property
    def is_null(self) -> bool:
        return self.plain and self.value in ("", "~", "null", "Null", "NULL")

    def __repr__(self) -> str:
        return f"Scalar({self.value!r})"


class Sequence(Node):
    __slots__ = ("items",)

    def __init__(self, items: list[Node], start: Mark, end: Mark,
                 tag: str | None = None) -> None:
        self.start = start
        self.end = end
        self.tag = tag
        self.items = items

    def __repr__(self) -> str:
        return f"Sequence({self.items!r})"


class Mapping(Node):
    """A mapping; ``pairs`` keeps every key in order, ``index`` the last value per key.

    Merge keys (``<<: *base``) are resolved here: the merged pairs appear in ``pairs`` and
    ``index`` (keys written in the mapping itself win), and the ``<<`` keys themselves are
    kept in ``merge_keys`` so that a reader whose CI system does not honour merges (GitHub
    Actions) can say so.
    """

    __slots__ = ("index", "keys", "merge_keys", "pairs")

    def __init__(self, start: Mark, end: Mark, tag: str | None = None) -> None:
        self.start = start
        self.end = end
        self.tag = tag
        self.pairs: list[tuple[Scalar, Node]] = []
        self.index: dict[str, Node] = {}
        self.keys: dict[str, Scalar] = {}
        self.merge_keys: list[Scalar] = []

    def get(self, key: str) -> Node | None:
        return self.index.get(key)

    def key(self, key: str) -> Scalar | None:
        return self.keys.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.index

    def __repr__(self) -> str:
        return f"Mapping({self.pairs!r})"


@record
class Diagnostic:
    """A problem found while loading that does not stop the document from being used."""

    message: str
    line: int
    column: int


@record
class Document:
    """The first document's ``root``; ``roots`` holds every document when several are allowed
    (a GitLab file may start with a ``spec:`` header document)."""

    root: Node | None
    diagnostics: tuple[Diagnostic, ...]
    roots: tuple[Node | None, ...] = ()


class _Builder:
    """Turns events into nodes, enforcing the limits as it goes.

    ``run`` is one loop with the open collection's state in local variables: a call per event
    (and one more per node to attach it, one per constructor) was most of the builder's time,
    so the common cases (a scalar or a closed collection as a mapping key, a mapping value or
    a sequence item) are handled inline and the rare ones (merge keys, duplicate keys,
    collection keys) go to ``_add_pair``.
    """

    def __init__(self, max_documents: int = 1) -> None:
        self.max_documents = max_documents
        self.roots: list[Node | None] = []
        self.diagnostics: list[Diagnostic] = []
        self.root: Node | None = None
        # id(mapping) -> keys it got from ``<<`` that an explicit key may still override, for
        # the open mappings only
        self.merged: dict[int, set[str]] = {}
        # set by ``load`` when YAML 1.1 line breaks were swapped out before parsing
        self.restore: dict[int, int] | None = None

    def run(self, get_event: Any) -> None:
        """Build from ``get_event()`` until the stream ends (or ``get_event`` returns None).

        The expanded size of a node (what its aliases cost, counted against
        ``MAX_EXPANDED_NODES``) is the growth of ``expanded`` from its start event to its end
        event, since every node inside adds its own size there: a collection keeps the count
        it started at instead of summing its children's sizes.
        """
        restore = self.restore
        roots, add_pair, merged = self.roots, self._add_pair, self.merged
        new = object.__new__
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        mapping_start, mapping_end = yaml.MappingStartEvent, yaml.MappingEndEvent
        sequence_start, sequence_end = yaml.SequenceStartEvent, yaml.SequenceEndEvent
        document_start, stream_end = yaml.DocumentStartEvent, yaml.StreamEndEvent
        anchors: dict[str, tuple[Node, int]] = {}  # anchor -> (node, expanded size)
        expanded = documents = 0
        # the open collection: the node, its index and keys when a mapping, its items when a
        # sequence, the key waiting for its value, its anchor and ``expanded`` before it
        current: Any = None
        index: dict[str, Node] | None = None
        keys: dict[str, Scalar] = {}
        items: list[Node] | None = None
        key: Node | None = None
        anchor: str | None = None
        before = 0
        # the enclosing collections' states, innermost last
        stack: list[tuple[Any, dict[str, Node] | None, dict[str, Scalar], list[Node] | None,
                          Node | None, str | None, int]] = []
        node: Node
        while (event := get_event()) is not None:
            kind = type(event)
            if kind is scalar_event:
                expanded += 1
                if expanded > MAX_EXPANDED_NODES:
                    _too_many(event)
                value: str = event.value
                if restore is not None:
                    value = value.translate(restore)
                style: str | None = event.style
                # Scalar.__init__'s fields, set here: a Python call per scalar cost more than
                # the rest of this branch (keep the two in step)
                scalar: Scalar = new(Scalar)
                scalar.start = event.start_mark
                scalar.end = event.end_mark
                scalar.tag = event.tag
                scalar.value = value
                scalar.style = style or None
                scalar.plain = not style
                if event.anchor:
                    anchors[event.anchor] = (scalar, 1)
                node = scalar
            elif kind is mapping_end or kind is sequence_end:
                node = current
                node.end = event.end_mark
                if anchor:
                    anchors[anchor] = (node, expanded - before)
                if merged:
                    # a closed mapping takes no more keys; once freed (as a merge source
                    # written in place is) its id can be a later mapping's, whose new keys
                    # the shortcut below does not check against ``merged``
                    merged.pop(id(node), None)
                current, index, keys, items, key, anchor, before = stack.pop()
            elif kind is mapping_start or kind is sequence_start:
                expanded += 1
                mark: Any = event.start_mark
                if expanded > MAX_EXPANDED_NODES:
                    _too_many(event)
                if len(stack) >= MAX_DEPTH:
                    raise YamlLoadError(f"nesting deeper than {MAX_DEPTH} levels", mark.line,
                                        mark.column)
                stack.append((current, index, keys, items, key, anchor, before))
                if kind is mapping_start:
                    mapping: Mapping = new(Mapping)
                    mapping.pairs = []
                    mapping.index = index = {}
                    mapping.keys = keys = {}
                    mapping.merge_keys = []
                    items = None
                    current = mapping
                else:
                    sequence: Sequence = new(Sequence)
                    sequence.items = items = []
                    index = None
                    current = sequence
                current.start = current.end = mark
                current.tag = event.tag
                key = None
                anchor = event.anchor
                before = expanded - 1
                continue
            elif kind is alias_event:
                found = anchors.get(event.anchor)
                if found is None:
                    mark = event.start_mark
                    raise YamlLoadError(f"unknown alias *{event.anchor}", mark.line,
                                        mark.column)
                node, size = found
                expanded += size
                if expanded > MAX_EXPANDED_NODES:
                    _too_many(event)
            elif kind is document_start:
                documents += 1
                if documents > self.max_documents:
                    mark = event.start_mark
                    raise YamlLoadError(
                        "more than one YAML document in the file; CI systems read a single one"
                        if self.max_documents == 1 else
                        f"more than {self.max_documents} YAML documents in the file",
                        mark.line, mark.column)
                continue
            elif kind is stream_end:
                break
            else:  # stream start, document end
                continue
            # attach ``node`` to the open collection
            if index is not None:
                if key is None:
                    key = node
                    continue
                # a key merged in by ``<<`` is in ``index``, so a new key is neither a
                # duplicate nor an override: only these need _add_pair's checks
                if (type(key) is Scalar and (text := key.value) not in index
                        and text != "<<"):
                    current.pairs.append((key, node))
                    index[text] = node
                    keys[text] = key
                else:  # a duplicate or merged key, "<<", or a collection as the key
                    add_pair(current, key, node)
                key = None
            elif items is not None:
                items.append(node)
            else:
                if self.root is None and not roots:
                    self.root = node
                roots.append(node)

    def _add_pair(self, mapping: Mapping, key: Node, value: Node) -> None:
        if not isinstance(key, Scalar):
            self.diagnostics.append(
                Diagnostic("a mapping key must be a plain value, not a collection",
                           key.start.line, key.start.column)
            )
            return
        if key.plain and key.value == "<<":
            self._merge(mapping, key, value)
            return
        merged = self.merged.get(id(mapping))
        if merged is not None and key.value in merged:
            # a key written in the mapping overrides a merged one, wherever it stands
            merged.discard(key.value)
            mapping.pairs = [(k, v) for k, v in mapping.pairs if k.value != key.value]
        elif key.value in mapping.index:
            self.diagnostics.append(
                Diagnostic(f"duplicate key {key.value!r}: YAML requires unique keys and "
                           "GitHub rejects the file", key.start.line, key.start.column)
            )
        mapping.pairs.append((key, value))
        mapping.index[key.value] = value
        mapping.keys[key.value] = key

    def _merge(self, mapping: Mapping, key: Scalar, value: Node) -> None:
        """Apply ``<<: value``; the first source naming a key wins, as YAML specifies."""
        mapping.merge_keys.append(key)
        sources = value.items if isinstance(value, Sequence) else [value]
        if not sources or not all(isinstance(s, Mapping) for s in sources):
            self.diagnostics.append(
                Diagnostic("the merge key `<<` needs a mapping or a list of mappings; "
                           "this value is ignored", key.start.line, key.start.column))
            return
        merged = self.merged.setdefault(id(mapping), set())
        for source in sources:
            assert isinstance(source, Mapping)
            for k, v in source.pairs:
                if k.value not in mapping.index:
                    mapping.pairs.append((k, v))
                    mapping.index[k.value] = v
                    mapping.keys[k.value] = k
                    merged.add(k.value)


def _too_many(event: Any) -> NoReturn:
    """Refuse the document at ``event``, whose node takes it over ``MAX_EXPANDED_NODES``."""
    mark: Any = event.start_mark
    raise YamlLoadError(f"aliases expand the document to more than {MAX_EXPANDED_NODES} nodes "
                        "(an alias bomb?)", mark.line, mark.column)


# libyaml follows YAML 1.1, where NEL, LS and PS break lines; GitHub's and GitLab's parsers,
# editors and SARIF viewers follow YAML 1.2 and count only CR/LF. Each is swapped for a
# private-use stand-in of the same length before parsing (so marks count lines as everyone
# else does and a NEL inside a string does not end the key) and swapped back in scalars.
_YAML11_BREAKS = "\x85\u2028\u2029"
_STAND_INS = "\ue085\ue028\ue029"
_LINE_BREAK_RE = lazy_re(r"\r\n|\r|\n")


def _yaml12_breaks(text: str) -> tuple[str, dict[int, int] | None]:
    """``text`` ready for libyaml, and the table that restores scalar values (or ``None``)."""
    if not any(c in text for c in _YAML11_BREAKS) or any(c in text for c in _STAND_INS):
        return text, None  # nothing to swap, or the stand-ins are taken: parse as it is
    forward = str.maketrans(_YAML11_BREAKS, _STAND_INS)
    return text.translate(forward), str.maketrans(_STAND_INS, _YAML11_BREAKS)


def _reader_position(text: str, position: int) -> tuple[int, int]:
    """The 0-based (line, column) of a reader error's offset: a UTF-8 byte offset from
    libyaml, a code-point offset from the pure-Python reader."""
    if _Loader is not yaml.SafeLoader:
        position = len(text.encode("utf-8")[:position].decode("utf-8", "ignore"))
    before = text[:position]
    breaks = list(_LINE_BREAK_RE.finditer(before))
    start = breaks[-1].end() if breaks else 0
    return len(breaks), position - start


def load(text: str, max_documents: int = 1) -> Document:
    """Parse a YAML stream of at most ``max_documents`` documents; raise
    :class:`YamlLoadError` with a 0-based position."""
    if len(text) > MAX_BYTES:
        raise YamlLoadError(f"file larger than {MAX_BYTES // (1024 * 1024)} MB; not parsed")
    builder = _Builder(max_documents)
    parsed, builder.restore = _yaml12_breaks(text)
    try:
        parser = _Loader(parsed)
        # get_event() directly: yaml.parse() wraps it in a generator that asks twice per event
        builder.run(parser.get_event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # CR, LF and CRLF all end a line (counting "\n" alone put every error of a CR-only
        # file past the end, so it was reported where the enclosing bracket opened)
        last_line = len(_LINE_BREAK_RE.findall(text)) - (1 if text.endswith(("\n", "\r"))
                                                         else 0)
        if mark is not None and mark.line > last_line and exc.context_mark is not None:
            mark = exc.context_mark  # an unclosed quote or bracket: point where it opened
        problem = exc.problem or "invalid YAML"
        if problem == "exceeded maximum nesting depth":
            # libyaml >= 0.2.6 (PyYAML 6.0.3+ wheels) stops at 1000 levels in its scanner, which
            # reads ahead of the events across a run of "[" that could each open a flow key: the
            # same refusal as ours, reported at the bracket where the library stopped
            problem, exc.context = f"nesting deeper than {MAX_DEPTH} levels", None
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise YamlLoadError(problem, mark.line if mark else 0, mark.column if mark else 0) \
            from None
    except yaml.reader.ReaderError as exc:  # control characters, bad encoding
        line, column = _reader_position(text, exc.position)
        raise YamlLoadError(str(exc).splitlines()[0] or "invalid YAML", line, column) from None
    except yaml.YAMLError as exc:
        raise YamlLoadError(str(exc).splitlines()[0] if str(exc) else "invalid YAML") from None
    return Document(builder.root, tuple(builder.diagnostics), tuple(builder.roots))


def text_of(node: Node | None) -> str | None:
    """The string of a scalar node, ``None`` for anything else."""
    return node.value if isinstance(node, Scalar) else None


def is_true(node: Node | None) -> bool:
    """A YAML boolean true as GitHub reads it (``true``/``True``, or the string "true")."""
    return isinstance(node, Scalar) and node.value.strip().lower() == "true"


def is_false(node: Node | None) -> bool:
    return isinstance(node, Scalar) and node.value.strip().lower() == "false"
