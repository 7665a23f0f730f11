"""Build the seed corpus for ``fuzz_scan.py`` from the shared corpus of real files.

Each seed is one byte naming the target file kind (see ``KINDS`` in ``fuzz_scan.py``)
followed by the file's content: real workflows as workflows (tree and file mode) and as
composite actions, real ``pyproject.toml`` and ``.gitlab-ci.yml`` files, plus a few small
hand-written ``.pypirc``, ``.git/config`` and ``pubaudit.toml`` files. Seeds are named by
content hash, so re-running the script is idempotent.

Usage: ``python fuzz/make_seeds.py [CORPUS_DIR] [SEED_DIR]``
(defaults: ``../shared/corpus`` next to the repository, ``fuzz/seeds``).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"
MAX_SEED_BYTES = 64 * 1024  # big seeds only slow libFuzzer down

# Kind numbers: the index into fuzz_scan.KINDS.
WORKFLOW, WORKFLOW_FILE, ACTION, PYPROJECT, PUBAUDIT_TOML, GITLAB, PYPIRC, GIT_CONFIG = range(8)

HANDWRITTEN: tuple[tuple[int, str], ...] = (
    (PYPIRC, "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\n"
             "password = " + "pypi" + "-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAw" + "\n"),
    (GIT_CONFIG, '[core]\n\tbare = false\n[remote "origin"]\n\turl = git@github.com:o/r.git\n'
                 '\tfetch = +refs/heads/*:refs/remotes/origin/*\n'),
    (GIT_CONFIG, '[remote "origin"]\n\turl = https://gitlab.com/group/sub/r.git\n'),
    (PUBAUDIT_TOML, 'ignore = ["unpinned-action"]\nexclude = ["docs/"]\n\n[[publishers]]\n'
                    'index = "pypi"\nowner = "fuzz"\nrepository = "fuzzed"\n'
                    'workflow = "caller.yml"\nenvironment = "pypi"\n'),
    (PYPROJECT, '[project]\nname = "x"\nlicense = "MIT"\n\n[tool.pubaudit]\n'
                'select = ["ALL"]\n[tool.pubaudit.rules.unpinned-action]\nseverity = "low"\n'
                '[[tool.uv.index]]\nname = "testpypi"\n'
                'publish-url = "https://test.pypi.org/legacy/"\n'),
)


def seeds(corpus: Path) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = [(kind, text.encode()) for kind, text in HANDWRITTEN]
    for path in sorted(corpus.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()[:MAX_SEED_BYTES]
        rel = path.relative_to(corpus).as_posix()
        if "/.github/workflows/" in f"/{rel}":
            digest = int(hashlib.sha256(data).hexdigest(), 16)
            # every workflow once as a tree workflow; a share also as file mode or action
            out.append((WORKFLOW, data))
            out.append(((WORKFLOW_FILE, ACTION, WORKFLOW)[digest % 3], data))
        elif path.name == "pyproject.toml":
            out.append((PYPROJECT, data))
        elif path.name.endswith((".yml", ".yaml")) and "gitlab" in rel:
            out.append((GITLAB, data))
    return out


def main(argv: list[str]) -> int:
    corpus = Path(argv[1]) if len(argv) > 1 else DEFAULT_CORPUS
    target = Path(argv[2]) if len(argv) > 2 else HERE / "seeds"
    if not corpus.is_dir():
        print(f"make_seeds: no corpus directory at {corpus}", file=sys.stderr)
        return 2
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for kind, data in seeds(corpus):
        blob = bytes([kind]) + data
        name = hashlib.sha256(blob).hexdigest()[:20]
        path = target / name
        if not path.exists():
            path.write_bytes(blob)
            written += 1
    print(f"make_seeds: {written} new seeds in {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
