"""``lazy_re`` answers as the compiled pattern does, before and after its first use, and
compiles once."""

from __future__ import annotations

import re

import pytest

from auditor.output.lazyre import lazy_re


@pytest.mark.parametrize("first", ["search", "pattern", "groups", "sub"])
def test_lazy_pattern_answers_as_the_compiled_one(first: str) -> None:
    lazy, compiled = lazy_re(r"(a)(b)?", re.I), re.compile(r"(a)(b)?", re.I)
    getattr(lazy, first)  # whatever is asked first compiles it
    text = "xAbya"
    assert lazy.search(text).span() == compiled.search(text).span()  # type: ignore[union-attr]
    assert lazy.match(text) is None and lazy.fullmatch("ab") is not None
    assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in compiled.finditer(text)]
    assert lazy.findall(text) == compiled.findall(text)
    assert lazy.sub("-", text, 1) == compiled.sub("-", text, 1)
    assert lazy.subn("-", text) == compiled.subn("-", text)
    assert lazy.split(text, 1) == compiled.split(text, 1)
    assert (lazy.pattern, lazy.groups, lazy.flags) == (compiled.pattern, compiled.groups,
                                                       compiled.flags)


def test_lazy_pattern_compiles_on_first_use_only(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = re.compile

    def counting(source: str, flags: int = 0) -> re.Pattern[str]:
        calls.append(source)
        return real(source, flags)

    monkeypatch.setattr(re, "compile", counting)  # the module lazyre compiles with
    pattern = lazy_re(r"x+")
    assert calls == []
    for _ in range(3):
        assert pattern.search("axx") is not None and pattern.groups == 0
    assert calls == [r"x+"]
