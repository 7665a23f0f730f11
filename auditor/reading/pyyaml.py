"""PyYAML, imported without paying for the one pattern of it pubaudit never runs.

``import yaml`` imports PyYAML's pure-Python reader, whose class body compiles
``Reader.NON_PRINTABLE``: a negated character class reaching U+10FFFF, which ``re`` turns into
a table by walking every code point in its ranges. That is 9-10 ms, about a twelfth of a
pre-commit run on one workflow file, and pubaudit never uses the pattern: it parses with
libyaml (``CSafeLoader``), which checks printability in C.

The same set of characters written as its complement (the few non-printable ranges, a
positive class) matches exactly the same characters (``tests/test_pyyaml.py`` checks every
code point) and compiles in under a millisecond, on first use (``output.lazyre``): with the
C loader, never. Before importing PyYAML, this module puts that pattern into ``re``'s cache
under the reader's pattern string, so the reader's ``re.compile`` finds it there instead of
compiling; after the import the entry is taken out again, so later callers compile their
own. If ``re`` keeps its cache differently (another Python), or PyYAML is already imported,
nothing is put there and PyYAML is imported as usual: slower, never different.
"""

import re
import sys

from auditor.output.lazyre import lazy_re

# yaml/reader.py, Reader.NON_PRINTABLE, character for character (PyYAML 5.1 to 6.x)
READER_PATTERN = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"
# every code point the reader's class does not accept, as ranges
COMPLEMENT = "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uD800-\uDFFF\uFFFE\uFFFF]"


def _caches() -> list[dict[object, object]]:
    """``re``'s pattern caches that ``re.compile`` consults, keyed ``(type, pattern,
    flags)``: ``_cache`` on every CPython since 3.7, and ``_cache2`` in front of it from
    3.12. Empty when they are not what this module expects."""
    found = [getattr(re, name, None) for name in ("_cache", "_cache2")]
    return [cache for cache in found if isinstance(cache, dict)]


def _import() -> None:
    caches = _caches()
    key = (str, READER_PATTERN, 0)
    seeded = "yaml.reader" not in sys.modules and bool(caches) and key not in caches[0]
    if seeded:
        caches[0][key] = lazy_re(COMPLEMENT)
    try:
        import yaml  # noqa: F401
    finally:
        if seeded:
            for cache in caches:
                cache.pop(key, None)


_import()

import yaml  # noqa: E402  (imported above, after the cache was seeded)

__all__ = ["yaml"]
