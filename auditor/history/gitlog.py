"""Run ``git`` and stream its log: the only process ``pubaudit history`` starts.

The history is read by the ``git`` command itself (no library, nothing else is run), in ONE
``git log -p`` over the paths that can hold a publishing credential, read line by line from
the pipe: a process per commit would take minutes on a long history, and the whole output
held in memory could be gigabytes. What is read is bounded (a line, a file's diff in one
commit, the whole stream); a bound that is hit is reported, never silently.

The repository is untrusted input, and so is its ``.git/config`` when pubaudit runs on a
checkout it did not make: every option that could make ``git log`` run another program or
change the shape of its output (external diff, textconv filters, signature checks, the
pager, colours, prefixes, renames, merge diffs) is set on the command line.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from auditor.output.inert import inert
from auditor.output.records import record

# Where a PyPI credential of CI can be written, as git pathspecs (``:(glob)``: ``*`` stays in
# one directory, ``**/`` spans any number). docs/history.md lists them for users. Every
# pattern starts with a literal directory or is a top-level name: a leading ``**/`` makes git
# descend every changed directory of every commit (pytest's 17,666 commits: 4.2 s of git
# instead of 0.9 s).
CI_PATHS = (
    ".github/workflows/*.yml", ".github/workflows/*.yaml",
    ".github/actions/**/action.yml", ".github/actions/**/action.yaml",
    "action.yml", "action.yaml",
    ".gitlab-ci.yml", ".gitlab-ci.yaml", "*.gitlab-ci.yml", "*.gitlab-ci.yaml",
    ".gitlab/**/*.yml", ".gitlab/**/*.yaml",
    ".travis.yml", ".circleci/config.yml", "azure-pipelines.yml", "appveyor.yml",
    ".appveyor.yml",
)
RELEASE_PATHS = (
    "pyproject.toml", "setup.cfg", "tox.ini", "tox.toml", "noxfile.py",
    "Makefile", "GNUmakefile", "makefile", "justfile", "Justfile", ".justfile",
    ".pypirc", "pypirc",
    "scripts/**", "script/**", "release/**", "ci/**", ".ci/**",
)
PATHSPECS = tuple(f":(glob){path}" for path in CI_PATHS + RELEASE_PATHS)

# git marks the start of each commit with this (then hash, author date ISO and Unix, NUL
# between); no line of a diff starts with NUL.
COMMIT_MARKER = "\x00\x00"
_FORMAT = "%x00%x00%H%x00%aI%x00%at"

MAX_LINE = 8 * 1024  # characters of a line kept; a token is ~200, a minified file is not read
MAX_FILE_LINES = 20_000  # diff lines of one file in one commit (a vendored script, a dump)
MAX_BYTES = 512 * 1024 * 1024  # of the whole stream: far beyond any CI history
MAX_TREE_FILE = 4 * 1024 * 1024  # a working-tree file larger than this is not read

# The line each hunk header names ("funcname"): the job of a workflow or pipeline, the
# section of an INI or TOML file, the target of a Makefile, the session of a noxfile. git
# picks the nearest such line above the hunk, which the diff alone does not show.
_DRIVERS = {
    "pubaudit-actions": "^ {0,2}[A-Za-z0-9_.-]+:",
    "pubaudit-top": "^[A-Za-z0-9_.$/-][^:#=]*:",
    "pubaudit-ini": "^\\[.+\\]",
}
_ATTRIBUTES = """\
.github/workflows/*.yml diff=pubaudit-actions
.github/workflows/*.yaml diff=pubaudit-actions
.gitlab-ci.yml diff=pubaudit-top
.gitlab-ci.yaml diff=pubaudit-top
*.gitlab-ci.yml diff=pubaudit-top
*.gitlab-ci.yaml diff=pubaudit-top
.gitlab/** diff=pubaudit-top
Makefile diff=pubaudit-top
GNUmakefile diff=pubaudit-top
makefile diff=pubaudit-top
justfile diff=pubaudit-top
Justfile diff=pubaudit-top
.justfile diff=pubaudit-top
*.ini diff=pubaudit-ini
*.cfg diff=pubaudit-ini
*.toml diff=pubaudit-ini
.pypirc diff=pubaudit-ini
pypirc diff=pubaudit-ini
noxfile.py diff=python
"""

# Settings of the repository or the user that would run a program or reshape the output.
_SAFE_CONFIG = (
    "core.quotePath=true", "core.fsmonitor=false", "diff.noprefix=false",
    "diff.mnemonicPrefix=false", "diff.relative=false", "diff.suppressBlankEmpty=false",
    "diff.external=", "log.showSignature=false", "log.follow=false", "color.ui=never",
    "i18n.logOutputEncoding=UTF-8",
)


class GitError(Exception):
    """The history cannot be read: one line for the user, exit code 2."""


@record
class GitRepository:
    """A repository with at least one commit, and the git that reads it."""

    git: str  # the executable found on PATH
    root: Path  # the top of the working tree
    shallow: bool = False  # a shallow clone: the older history is not there to read


def _environment() -> dict[str, str]:
    """The caller's environment, minus what would point git elsewhere or ask questions."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_EXTERNAL_DIFF",
                        "GIT_PAGER", "PAGER", "GIT_CONFIG_PARAMETERS")}
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", GIT_PAGER="cat")
    return env


def _config_args(extra: tuple[str, ...] = ()) -> list[str]:
    out: list[str] = []
    for setting in _SAFE_CONFIG + extra:
        out += ["-c", setting]
    return out


def _run(git: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run([git, "--no-pager", *_config_args(), *args], cwd=cwd,
                              capture_output=True, env=_environment(), check=False,
                              stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None


def _first_line(data: bytes) -> str:
    """git's first line of complaint, printable: it may quote a hostile path."""
    text = data.decode("utf-8", "replace").strip()
    line = text.splitlines()[0] if text else "no message"
    return inert(line.removeprefix("fatal: ").removeprefix("error: "))


def open_repository(path: Path) -> GitRepository:
    """The repository ``path`` is in, or a ``GitError`` saying why there is no history to
    read: git missing, not a repository, no commit yet."""
    git = shutil.which("git")
    if git is None:
        raise GitError("git is not installed (or not on PATH): `pubaudit history` reads the "
                       "history with the git command")
    directory = path if path.is_dir() else path.parent
    top = _run(git, directory, "rev-parse", "--show-toplevel", "--is-shallow-repository")
    if top.returncode != 0:
        reason = _first_line(top.stderr)
        if "not a git repository" in reason:
            raise GitError(inert(f"{path} is not in a git repository: there is no history to "
                             "read"))
        raise GitError(inert(f"git cannot read {path}: {reason}"))
    output = top.stdout.rstrip(b"\n").rsplit(b"\n", 1)
    root = Path(os.fsdecode(output[0]))
    shallow = len(output) > 1 and output[1].strip() == b"true"
    head = _run(git, root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if head.returncode != 0:
        raise GitError(inert(f"{path}: the repository has no commits yet: there is no history "
                             "to read"))
    return GitRepository(git, root, shallow)


def working_tree_files(repository: GitRepository) -> list[str]:
    """The files of the working tree under the pathspecs: tracked ones and new ones that
    are not ignored, as paths relative to the top."""
    listed = _run(repository.git, repository.root, "ls-files", "-z", "--cached", "--others",
                  "--exclude-standard", "--", *PATHSPECS)
    if listed.returncode != 0:
        raise GitError(f"git ls-files failed: {_first_line(listed.stderr)}")
    names = {os.fsdecode(name) for name in listed.stdout.split(b"\0") if name}
    return sorted(names)


@dataclass(slots=True)
class LogStream:
    """The lines of ``git log -p`` as text, with what the bounds cut."""

    lines: Iterator[str]
    long_lines: int = 0  # lines cut at MAX_LINE characters
    truncated: bool = False  # MAX_BYTES reached: older history not read
    exhausted: bool = False  # git's output was read to its end


def _lines(stream: LogStream, pipe: IO[bytes]) -> Iterator[str]:
    """The pipe's lines, read a megabyte at a time (a ``readline`` per line costs more than
    everything else the audit does), each cut at ``MAX_LINE`` characters; the rest of a
    longer line is dropped as it arrives, so no line is ever held whole."""
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""  # the start of a line whose end has not arrived (at most MAX_LINE)
    dropping = False  # pending was cut: the rest of its line is skipped
    total = 0
    while chunk := pipe.read(1024 * 1024):
        total += len(chunk)
        if total > MAX_BYTES:
            stream.truncated = True
            return
        parts = decoder.decode(chunk).split("\n")
        head = pending if dropping else pending + parts[0]
        if len(parts) == 1:
            pending = head
        else:
            lines = [head, *parts[1:-1]]
            for i, line in enumerate(lines):
                if len(line) > MAX_LINE:
                    lines[i] = line[:MAX_LINE]
                    stream.long_lines += 1 if i or not dropping else 0
            yield from lines
            pending, dropping = parts[-1], False
        if len(pending) > MAX_LINE:
            stream.long_lines += 0 if dropping else 1
            pending, dropping = pending[:MAX_LINE], True
    pending += "" if dropping else decoder.decode(b"", final=True)
    stream.exhausted = True
    if pending:
        yield pending[:MAX_LINE]


def _log_command(repository: GitRepository, attributes: str) -> list[str]:
    drivers = tuple(f"diff.{name}.xfuncname={pattern}" for name, pattern in _DRIVERS.items())
    return [repository.git, "--no-pager",
            *_config_args((f"core.attributesFile={attributes}", *drivers)),
            # --full-history: by default git log hides a side branch whose merge left a
            # file as it was, which is where an added-then-removed token would be.
            # --no-merges: a merge brings nothing its own commits do not show (and old
            # gits have no --diff-merges)
            "log", "--full-history", "-p", "--no-color", "--no-ext-diff", "--no-textconv",
            "--no-renames", "--no-merges", "--unified=5", "--src-prefix=a/",
            "--dst-prefix=b/", f"--format={_FORMAT}", "--", *PATHSPECS]


@contextlib.contextmanager
def log_lines(repository: GitRepository) -> Iterator[LogStream]:
    """``git log -p`` over the pathspecs, newest commit first, as a stream of lines. The
    process is stopped when the reader stops early (a bound, an exception)."""
    with tempfile.TemporaryDirectory(prefix="pubaudit-history-") as scratch:
        attributes = Path(scratch) / "attributes"
        attributes.write_text(_ATTRIBUTES, encoding="utf-8")
        errors = Path(scratch) / "stderr"
        with errors.open("w+b") as error_file:
            try:
                process = subprocess.Popen(
                    _log_command(repository, str(attributes)), cwd=repository.root,
                    stdout=subprocess.PIPE, stderr=error_file, stdin=subprocess.DEVNULL,
                    env=_environment(), bufsize=1024 * 1024)
            except OSError as exc:
                raise GitError(f"cannot run git: {exc.strerror or exc}") from None
            assert process.stdout is not None
            stream = LogStream(iter(()))
            stream.lines = _lines(stream, process.stdout)
            try:
                yield stream
            finally:
                if not stream.exhausted:
                    process.kill()  # a bound was hit, or the reader failed
                process.stdout.close()
                code = process.wait()
            if stream.exhausted and code != 0:
                error_file.seek(0)
                raise GitError(f"git log failed: {_first_line(error_file.read(64 * 1024))}")
