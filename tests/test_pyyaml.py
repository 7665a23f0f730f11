"""``auditor.reading.pyyaml``: PyYAML imported with its reader's pattern taken from ``re``'s
cache. The substitute must match exactly what PyYAML's own pattern matches, the string it is
filed under must be PyYAML's own, and the cache must be left as it was."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

from auditor.reading.pyyaml import COMPLEMENT, READER_PATTERN


def _fresh(code: str) -> str:
    """Run ``code`` in a new interpreter (nothing imported yet) and return its output."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, check=True)
    return proc.stdout.strip()


def test_the_complement_matches_the_same_code_points() -> None:
    every = "".join(map(chr, range(sys.maxunicode + 1)))
    theirs = [m.start() for m in re.compile(READER_PATTERN).finditer(every)]
    ours = [m.start() for m in re.compile(COMPLEMENT).finditer(every)]
    assert ours == theirs
    # C0 controls but tab, LF and CR (29); DEL and C1 controls but NEL (32); surrogates;
    # U+FFFE and U+FFFF
    assert len(ours) == 29 + 32 + 2048 + 2


def test_the_pattern_is_pyyamls_own() -> None:
    # imported without this module, PyYAML compiles the string the cache entry is filed
    # under: if PyYAML ever changes it, the cache would simply be missed, and this fails
    shown = _fresh("import yaml.reader; print(ascii(yaml.reader.Reader.NON_PRINTABLE.pattern))")
    assert shown == ascii(READER_PATTERN)


@pytest.mark.skipif(not isinstance(getattr(re, "_cache", None), dict),
                    reason="re keeps no _cache dict on this Python: the module only imports")
def test_pyyaml_gets_the_substitute_and_the_cache_is_restored() -> None:
    shown = _fresh("""
        import re
        from auditor.reading.pyyaml import COMPLEMENT, READER_PATTERN, yaml
        key = (str, READER_PATTERN, 0)
        caches = [c for c in (getattr(re, "_cache", None), getattr(re, "_cache2", None))
                  if isinstance(c, dict)]
        print(yaml.reader.Reader.NON_PRINTABLE.pattern == COMPLEMENT,
              any(key in cache for cache in caches),
              re.compile(READER_PATTERN).pattern == READER_PATTERN)
    """)
    assert shown == "True False True"


def test_the_pure_python_reader_still_refuses_control_characters() -> None:
    shown = _fresh("""
        from auditor.reading.pyyaml import yaml
        try:
            yaml.load("key: a\\x07b", Loader=yaml.SafeLoader)
        except yaml.reader.ReaderError as error:
            print("refused", hex(error.character))
        print(yaml.load("key: caf\\u00e9 \\U0001F600", Loader=yaml.SafeLoader))
    """)
    assert shown.splitlines() == ["refused 0x7", "{'key': 'café 😀'}"]
