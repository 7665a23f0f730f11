"""pubaudit against zizmor, side by side in one run: ``python benchmarks/bench.py``.

Installs nothing: both tools must be on PATH (``pip install -e . zizmor``). Each case runs
the two tools alternately, ``--runs`` times each, as whole processes (start-up included,
which is what a pre-commit hook pays), and prints the median wall time, the ratio
pubaudit/zizmor and the peak RSS of each child (from ``wait4``). zizmor runs offline.
``--scaling`` also times pubaudit on 1x, 4x and 16x copies of the corpus, with its workers
and with ``--jobs 1``, to show the cost per file stays flat, and on two large generated
inputs: one repository of 50,000 small publishing workflows, and one workflow whose upload
URL is a 2 MB line.

The numbers are wall-clock times on a shared machine: compare the two tools within one run,
not runs with each other. Bytecode must exist for a fair start-up (a normal ``pip install``
compiles it; with an editable install and ``PYTHONDONTWRITEBYTECODE`` nothing is cached), so
the script compiles the package first.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus"
ONE_FILE = CORPUS / "pypa__sampleproject" / ".github" / "workflows" / "release.yml"
ONE_REPO = CORPUS / "aio-libs__aiohttp"


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed child process: wall seconds, peak RSS in KiB, exit status."""

    seconds: float
    max_rss_kib: int
    status: int


def run(argv: list[str]) -> Sample:
    """Run a child with output discarded; wall time and its own peak RSS (wait4)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Sample(seconds, usage.ru_maxrss, proc.returncode)


def pubaudit(target: Path) -> list[str]:
    return ["pubaudit", "scan", str(target), "--format", "json", "--exit-zero"]


def one_process(target: Path) -> list[str]:
    """``--jobs 1``: a tree of repositories audited without forked workers."""
    return [*pubaudit(target), "--jobs", "1"]


def zizmor(target: Path) -> list[str]:
    return ["zizmor", "--offline", "--no-progress", "--format", "json", str(target)]


def github_inputs(target: Path) -> int:
    """The workflow and action files under ``target``: what zizmor should audit."""
    if target.is_file():
        return 1
    return sum(1 for p in target.rglob("*") if p.is_file() and (
        p.name in ("action.yml", "action.yaml") or (
            p.suffix in (".yml", ".yaml") and p.parent.name == "workflows"
            and p.parent.parent.name == ".github")))


def check_zizmor(target: Path) -> None:
    """Fail loudly unless zizmor audits every workflow and action file of ``target``.

    zizmor exits 10-14 for findings and 0 when clean, which is fine; 1 (an audit crashed),
    2 (usage) and 3 (no inputs collected) would time an error path, and a file it skipped
    would time less work than pubaudit does. It logs one "completed <file>" line per input.
    """
    proc = subprocess.run(zizmor(target), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    if proc.returncode in (1, 2, 3):
        sys.exit(f"zizmor failed on {target} (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    audited = sum(1 for line in proc.stderr.splitlines() if " completed " in line)
    expected = github_inputs(target)
    if audited != expected:
        sys.exit(f"zizmor audited {audited} inputs of {target}, expected {expected}")


# What any tool on the project's libraries must pay: the interpreter, typer and PyYAML
# imported, and the same YAML files composed with the C loader (no model, no rules).
_FLOOR = """
import sys, pathlib, typer, yaml
target = pathlib.Path(sys.argv[1])
files = [target] if target.is_file() else [p for p in target.rglob("*") if p.is_file() and (
    p.name in ("action.yml", "action.yaml", ".gitlab-ci.yml") or (
        p.suffix in (".yml", ".yaml") and p.parent.name == "workflows"))]
for path in files:
    try:
        yaml.compose(path.read_text(encoding="utf-8-sig"), Loader=yaml.CSafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError):
        pass
"""


def floor(target: Path) -> list[str]:
    return [sys.executable, "-c", _FLOOR, str(target)]


def python_m(target: Path) -> list[str]:
    """``python -m auditor``: the same scan without the console-script wrapper."""
    return [sys.executable, "-m", "auditor", *pubaudit(target)[1:]]


def compare(name: str, target: Path, runs: int,
            command: Callable[[Path], list[str]] = pubaudit,
            ) -> tuple[str, float, float, float, int, int]:
    check_zizmor(target)
    ours: list[Sample] = []
    theirs: list[Sample] = []
    floors: list[Sample] = []
    for _ in range(runs):  # alternate, so drift in machine load hits all three alike
        ours.append(run(command(target)))
        theirs.append(run(zizmor(target)))
        floors.append(run(floor(target)))
    bad = [s.status for s in ours if s.status not in (0,)]
    if bad:
        sys.exit(f"pubaudit failed on {target}: exit {bad[0]}")
    return (name, statistics.median(s.seconds for s in ours),
            statistics.median(s.seconds for s in theirs),
            statistics.median(s.seconds for s in floors),
            max(s.max_rss_kib for s in ours), max(s.max_rss_kib for s in theirs))


def scaling(runs: int) -> list[tuple[int, int, float, float]]:
    """(copies, files, median seconds, median seconds with ``--jobs 1``) for 1x, 4x and 16x
    the corpus."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="pubaudit-bench-") as tmp:
        for copies in (1, 4, 16):
            root = Path(tmp) / f"x{copies}"
            for i in range(copies):
                shutil.copytree(CORPUS, root / f"copy{i}", ignore=shutil.ignore_patterns(
                    "MANIFEST.tsv", "README.md"))
            files = sum(1 for p in root.rglob("*") if p.is_file())
            times: list[float] = []
            serial: list[float] = []
            for _ in range(max(3, runs // 2)):
                times.append(run(pubaudit(root)).seconds)
                serial.append(run(one_process(root)).seconds)
            rows.append((copies, files, statistics.median(times), statistics.median(serial)))
    return rows


_SMALL_WORKFLOW = """on:
  push:
    tags: ['v*']
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
    steps:
      - uses: pypa/gh-action-pypi-publish@release/v1
"""


def _many_files(root: Path, count: int = 50_000) -> None:
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    for i in range(count):
        (workflows / f"w{i}.yml").write_text(_SMALL_WORKFLOW, encoding="utf-8")


def _long_line(root: Path, size: int = 2 * 1024 * 1024) -> None:
    """A publishing workflow whose upload URL is a 2 MB line (a host of ``a.a.a...``). A
    2 MB flow mapping of jobs would be refused by the loader's 250,000-node cap instead."""
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    url = "https://" + "a." * (size // 2) + "pypi.org/legacy/"
    (workflows / "w.yml").write_text(
        _SMALL_WORKFLOW + f'        with:\n          repository-url: "{url}"\n',
        encoding="utf-8")


def large_inputs(runs: int) -> list[tuple[str, float, int]]:
    """(input, median seconds, peak RSS KiB) of pubaudit on the generated large inputs."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="pubaudit-bench-") as tmp:
        for name, make in (("50,000 workflow files in one repository", _many_files),
                           ("one 2 MB line (the host of an upload URL)", _long_line)):
            root = Path(tmp) / make.__name__
            make(root)
            samples = [run(pubaudit(root)) for _ in range(max(1, runs // 5))]
            if any(s.status != 0 for s in samples):
                sys.exit(f"pubaudit failed on {name}: exit {samples[0].status}")
            rows.append((name, statistics.median(s.seconds for s in samples),
                         max(s.max_rss_kib for s in samples)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per tool and case")
    parser.add_argument("--scaling", action="store_true", help="also 1x/4x/16x the corpus")
    args = parser.parse_args()
    for tool in ("pubaudit", "zizmor"):
        if shutil.which(tool) is None:
            sys.exit(f"`{tool}` is not on PATH: pip install -e . zizmor")
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    import auditor

    compileall.compile_dir(str(Path(auditor.__file__).parent), quiet=1)
    cases = [("one workflow file (pre-commit)", ONE_FILE, pubaudit),
             ("one workflow file, `python -m auditor`", ONE_FILE, python_m),
             ("one repository (aiohttp)", ONE_REPO, pubaudit),
             ("whole corpus", CORPUS, pubaudit),
             ("whole corpus, `--jobs 1`", CORPUS, one_process)]
    print(f"{args.runs} alternating runs each; medians; peak RSS of the largest process "
          "(wait4 counts the workers a child reaped)\n")
    print("| case | pubaudit | zizmor | floor | pubaudit / zizmor | pubaudit / floor | "
          "pubaudit RSS | zizmor RSS |")
    print("|---|---|---|---|---|---|---|---|")
    for name, target, command in cases:
        label, ours, theirs, least, our_rss, their_rss = compare(name, target, args.runs,
                                                                 command)
        print(f"| {label} | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms | "
              f"{least * 1000:.0f} ms | {ours / theirs:.2f} | {ours / least:.2f} | "
              f"{our_rss / 1024:.1f} MB | {their_rss / 1024:.1f} MB |")
    if args.scaling:
        print("\n| corpus copies | files | pubaudit | per file | `--jobs 1` | per file |")
        print("|---|---|---|---|---|---|")
        for copies, files, seconds, serial in scaling(args.runs):
            print(f"| {copies}x | {files} | {seconds * 1000:.0f} ms | "
                  f"{seconds / files * 1e6:.0f} µs | {serial * 1000:.0f} ms | "
                  f"{serial / files * 1e6:.0f} µs |")
        print("\n| input | pubaudit | peak RSS |")
        print("|---|---|---|")
        for name, seconds, rss in large_inputs(args.runs):
            print(f"| {name} | {seconds:.1f} s | {rss / 1024:.0f} MB |")


if __name__ == "__main__":
    main()
