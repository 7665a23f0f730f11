"""Fuzzing of the two structured inputs that are not YAML: TOML configuration and the
baseline JSON (atheris when installed, else a replay of seeds).

The first byte of an input picks the target, the rest is the file:

- even: ``pyproject.toml`` of a repository holding nothing else, read the way a scan reads
  it: ``tomlsource.decode_toml`` and ``parse_toml``, ``config.load_config`` (the
  ``[tool.pubaudit]`` table) and ``discovery.load_repository`` (the project name, uv
  indexes and publisher declarations);
- odd: a ``--baseline`` file through ``engine.read_baseline``.

Every outcome is a value: a parsed document or a ``TomlProblem``, a ``Config`` (with its
errors), a set of fingerprints or a ``BaselineError``. Any other exception is a crash.

Without atheris, ``python fuzz/fuzz_inputs.py [FILE_OR_DIR ...]`` runs every given input
once (``fuzz/crashes/`` entries, a corpus directory), or with no argument the built-in
seeds plus every ``pyproject.toml`` of ``../shared/corpus``; it prints how many ran.
Usage with atheris: see ``fuzz/README.md``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
CORPUS = REPO.parent / "shared" / "corpus"

try:
    import atheris  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:  # replay only
    atheris = None

if atheris is not None:
    with atheris.instrument_imports():
        from auditor.engine import scan as engine
        from auditor.reading import config, tomlsource
        from auditor.repository import discovery
else:
    from auditor.engine import scan as engine
    from auditor.reading import config, tomlsource
    from auditor.repository import discovery

PYPROJECT, BASELINE = 0, 1

SEEDS: tuple[tuple[int, bytes], ...] = (
    (PYPROJECT, b'[project]\nname = "x"\n[tool.pubaudit]\nselect = ["ALL"]\nfail-on = "high"\n'
                b'[[tool.pubaudit.publishers]]\nindex = "pypi"\nowner = "o"\nrepository = "r"\n'
                b'workflow = "release.yml"\nenvironment = "pypi"\n'
                b'[[tool.uv.index]]\nname = "testpypi"\n'
                b'publish-url = "https://test.pypi.org/legacy/"\n'),
    (PYPROJECT, b"a = [[[1]]]\nb = {c = {d = 1e400}}\n'q' = \"\\u00e9\"\n"),
    (PYPROJECT, b"\xef\xbb\xbf[project]\r\nname = 'x'\r\n"),
    (BASELINE, b'{"schema_version": 1, "tool": "pubaudit", "fingerprints": ["ab", "cd"]}'),
    (BASELINE, b'{"findings": [{"fingerprint": "ab"}, 3, {"x": null}]}'),
    (BASELINE, b'[{"fingerprints": 1e999}]'),
)

_ROOT = Path(tempfile.mkdtemp(prefix="pubaudit-fuzz-inputs-"))
CRASHES = Path(os.environ.get("PUBAUDIT_FUZZ_CRASHES", REPO / "fuzz" / "crashes"))


def _one(data: bytes) -> None:
    if not data:
        return
    body = data[1:]
    for child in _ROOT.iterdir():
        child.unlink()
    if data[0] % 2 == PYPROJECT:
        text = tomlsource.decode_toml(body)
        if isinstance(text, str):
            document = tomlsource.parse_toml(text)
            assert isinstance(document, (dict, tomlsource.TomlProblem)), type(document)
        (_ROOT / "pyproject.toml").write_bytes(body)
        loaded = config.load_config(_ROOT)
        assert isinstance(loaded, config.Config), type(loaded)
        discovery.load_repository(_ROOT, loaded)
    else:
        (_ROOT / "baseline.json").write_bytes(body)
        try:
            fingerprints = engine.read_baseline(_ROOT / "baseline.json")
        except engine.BaselineError:
            return
        assert all(isinstance(f, str) for f in fingerprints)


def test_one_input(data: bytes) -> None:
    """One input; a failing one is saved to ``CRASHES`` before the exception goes on."""
    try:
        _one(data)
    except BaseException:
        CRASHES.mkdir(parents=True, exist_ok=True)
        (CRASHES / f"crash-inputs-{hashlib.sha1(data).hexdigest()}").write_bytes(data)
        raise


def _replay_inputs(arguments: list[str]) -> Iterator[bytes]:
    if not arguments:
        yield from (bytes([kind]) + body for kind, body in SEEDS)
        for path in sorted(CORPUS.glob("*/pyproject.toml")):
            yield bytes([PYPROJECT]) + path.read_bytes()
        return
    for argument in arguments:
        path = Path(argument)
        yield from (p.read_bytes() for p in (sorted(path.iterdir()) if path.is_dir()
                                             else [path]) if p.is_file())


def main() -> None:
    try:
        if atheris is not None:
            atheris.Setup(sys.argv, test_one_input)
            atheris.Fuzz()
        else:
            count = 0
            for data in _replay_inputs(sys.argv[1:]):
                test_one_input(data)
                count += 1
            print(f"{count} inputs replayed without a crash (atheris not installed)")
    finally:
        shutil.rmtree(_ROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
