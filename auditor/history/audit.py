"""Compose the history audit: the log, the working tree, and the checklist that follows.

A credential the history names but the working tree does not is a leftover: its secret can
be deleted and its token revoked now. One the working tree still names must be migrated
first, or the next release breaks. A token committed in clear is public to everyone who can
clone the repository, so it is revoked first, whether or not a later commit removed it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from auditor.engine.notices import Notice
from auditor.history.diff import ParseStats, parse
from auditor.history.gitlog import (
    MAX_BYTES,
    MAX_FILE_LINES,
    MAX_LINE,
    MAX_TREE_FILE,
    GitRepository,
    log_lines,
    open_repository,
    working_tree_files,
)
from auditor.history.ledger import CredentialHistory, Ledger, Usage, describe_usages
from auditor.history.places import file_kind
from auditor.history.recognise import CredentialId, recognise
from auditor.output.records import record
from auditor.reading.gitremote import Remote, origin
from auditor.reading.source import read_regular, split_lines

INDEX_NAMES = {"pypi": "PyPI", "testpypi": "TestPyPI"}
TOKEN_PAGES = {"pypi": "https://pypi.org/manage/account/token/",
               "testpypi": "https://test.pypi.org/manage/account/token/"}


@record
class AuditedCredential:
    """A credential of the history, and where the working tree still names it."""

    history: CredentialHistory
    used_today: tuple[Usage, ...]
    # ``--online``: where GitHub stores a secret of this name today (() nowhere: already
    # deleted); None when not asked or not known
    stored: tuple[str, ...] | None = None

    @property
    def still_used(self) -> bool:
        return bool(self.used_today)

    @property
    def github_secret(self) -> bool:
        credential = self.history.credential
        return credential.platform == "github" and credential.kind == "secret"


@record
class ChecklistStep:
    """One thing to do, in the order the checklist gives."""

    action: str  # "revoke-now" | "delete-secret" | "revoke-token" | "migrate"
    text: str
    credentials: tuple[str, ...]  # the names (or redacted descriptions) it is about
    url: str | None


@record
class HistoryAudit:
    """What ``pubaudit history`` reports for one repository."""

    root: Path  # the top of the working tree
    origin: Remote | None
    commits: int  # commits that changed a file under the pathspecs
    credentials: tuple[AuditedCredential, ...]
    checklist: tuple[ChecklistStep, ...]
    notes: tuple[str, ...]  # bounds that were hit, files that could not be read
    notices: tuple[Notice, ...] = ()  # ``--online``: what could not be asked
    online: bool = False  # ``--online`` was given

    @property
    def exit_code(self) -> int:
        """1 when a credential is still used or a token was ever committed in clear."""
        return 1 if any(c.still_used or c.history.credential.committed
                        for c in self.credentials) else 0


def _read_history(repository: GitRepository, ledger: Ledger
                  ) -> tuple[int, list[str], bool]:
    """Commits read, notes, and whether a GitLab CI file was ever changed."""
    stats = ParseStats()
    notes: list[str] = []
    gitlab = False
    with log_lines(repository) as stream:
        for hunk in parse(stream.lines, stats):
            gitlab = gitlab or file_kind(hunk.path) == "gitlab"
            found = recognise(hunk.path, hunk.header, hunk.lines)
            if found.sightings or found.local_names:
                ledger.add(hunk.commit, hunk.path, found)
    if stream.truncated:
        notes.append(f"the log was read up to its bound ({MAX_BYTES // (1024 * 1024)} MiB): "
                     "older commits were not read")
    if stream.long_lines:
        notes.append(f"{stream.long_lines} lines longer than {MAX_LINE} characters were cut "
                     "there")
    if stats.files_cut:
        notes.append(f"{stats.files_cut} file changes longer than {MAX_FILE_LINES} lines "
                     "were read up to there")
    return stats.commits, notes, gitlab


def _read_working_tree(repository: GitRepository, ledger: Ledger) -> tuple[list[str], bool]:
    """Notes, and whether the working tree has a GitLab CI file."""
    notes = []
    names = working_tree_files(repository)
    for name in names:
        if (repository.root / name).is_dir():
            continue  # a submodule: its own repository, not a file of this one
        data = read_regular(repository.root / name, MAX_TREE_FILE, repository.root)
        if isinstance(data, str):
            if "cannot be read: No such file" not in data:  # deleted, not yet committed
                notes.append(f"{name} {data}")
            continue
        if b"\0" in data[:8000]:
            continue  # binary, as git would say
        text = data.decode("utf-8", "replace")
        lines = [" " + line for line in split_lines(text)]
        ledger.add(None, name, recognise(name, "", lines, every_line=True))
    return notes, any(file_kind(name) == "gitlab" for name in names)


def audit_history(path: Path) -> HistoryAudit:
    """Audit the history of the repository ``path`` is in; raises ``GitError``."""
    repository = open_repository(path)
    past, today = Ledger(), Ledger()
    commits, notes, gitlab_before = _read_history(repository, past)
    if repository.shallow:
        notes.insert(0, "this is a shallow clone: the history before its oldest commit is "
                        "missing, and with it the credentials it used (`git fetch "
                        "--unshallow`; actions/checkout: `fetch-depth: 0`)")
    tree_notes, gitlab_now = _read_working_tree(repository, today)
    notes += tree_notes
    local = past.local_names | today.local_names
    now = {c.credential: c for c in today.credentials(local)}
    audited = [AuditedCredential(c, now.pop(c.credential).usages if c.credential in now
                                 else ()) for c in past.credentials(local)]
    audited += [AuditedCredential(c, c.usages) for c in now.values()]
    audited = attribute_env_reads(audited, gitlab_before or gitlab_now)
    remote = origin(repository.root)
    return HistoryAudit(repository.root, remote, commits, tuple(audited),
                        checklist(audited, remote), tuple(notes))


def with_stored(audit: HistoryAudit, stored: dict[str, tuple[str, ...]] | None,
                notices: list[Notice]) -> HistoryAudit:
    """The audit with ``--online``'s answer: where each GitHub secret is stored today. A
    secret stored nowhere needs no deletion (its token may still need revoking); one still
    stored is named with the place to delete it from."""
    credentials = [replace(c, stored=stored.get(c.history.credential.name))
                   if stored is not None and c.github_secret else c
                   for c in audit.credentials]
    return replace(audit, credentials=tuple(credentials),
                   checklist=checklist(credentials, audit.origin),
                   notices=tuple(notices), online=True)


def _merged(target: AuditedCredential, reads: AuditedCredential) -> AuditedCredential:
    """``target`` with the files that read it from the environment added."""
    past, extra = target.history, reads.history
    commits = [c for c in (past.first, past.last, extra.first, extra.last) if c is not None]
    first = min(commits, key=lambda c: c.timestamp) if commits else None
    last = max(commits, key=lambda c: c.timestamp) if commits else None
    usages = tuple(sorted(set(past.usages) | set(extra.usages),
                          key=lambda u: (u.path, u.job or "")))
    today = target.used_today
    if target.still_used:  # a script reading it keeps it used only while the CI sets it
        today = tuple(sorted(set(today) | set(reads.used_today),
                             key=lambda u: (u.path, u.job or "")))
    return AuditedCredential(replace(past, first=first, last=last, usages=usages,
                                     commits=past.commits + extra.commits), today)


def attribute_env_reads(audited: list[AuditedCredential], gitlab: bool
                        ) -> list[AuditedCredential]:
    """Give each variable a release file reads (``$PYPI_TOKEN`` in ``scripts/publish.sh``,
    ``{env:TWINE_PASSWORD}`` in tox.ini) to the CI credential that sets it: the secret of
    that name or the one handed to that variable. With no such credential, in a repository
    with GitLab CI it is a CI/CD variable (GitLab hands every one to every job's scripts);
    otherwise it is the release manager's own environment, not CI's, and left out."""
    found = {item.history.credential: item for item in audited
             if item.history.credential.platform != "env"}
    for reads in (item for item in audited if item.history.credential.platform == "env"):
        name = reads.history.credential.name
        targets = [key for key, item in found.items() if not key.committed and
                   (key.name == name or name in item.history.feeds)]
        if not targets and gitlab:
            key = CredentialId("variable", "gitlab", name)
            found[key] = AuditedCredential(replace(reads.history, credential=key),
                                           reads.used_today)
            continue
        for key in targets:
            found[key] = _merged(found[key], reads)
    return sorted(found.values(), key=lambda item: (
        item.history.first is None, item.history.first.timestamp if item.history.first
        else 0, item.history.credential.kind, item.history.credential.name))


def _short(history: CredentialHistory, which: str) -> str:
    commit = history.first if which == "first" else history.last
    return f"{commit.hash[:12]}, {commit.date[:10]}" if commit else "not committed"


def _indexes(history: CredentialHistory) -> list[str]:
    return [index for index in ("pypi", "testpypi") if index in history.indexes] or ["pypi"]


def _secret_place(history: CredentialHistory, remote: Remote | None) -> tuple[str, str | None]:
    """Where to delete a secret or variable, in words and as a URL when the origin says."""
    credential = history.credential
    if credential.platform == "github":
        page = "secrets" if credential.kind == "secret" else "variables"
        repository = (f"https://github.com/{remote.owner}/{remote.repository}"
                      if remote is not None and remote.host == "github.com" else None)
        url = f"{repository}/settings/{page}/actions" if repository else None
        where = (f"Settings → Secrets and variables → Actions ({url})" if url else
                 "the GitHub repository's Settings → Secrets and variables → Actions")
        environments = ", ".join(history.environments)
        link = f" ({repository}/settings/environments)" if repository else ""
        if environments:  # the job's environment may hold it instead of the repository
            where += (f", or, if it is a secret of the environment {environments} its job "
                      f"uses, Settings → Environments → {environments}{link}")
        elif credential.kind == "secret":
            where += "; an environment secret is under Settings → Environments"
        return where, url
    if credential.platform == "gitlab":
        url = (f"https://{remote.host}/{remote.owner}/{remote.repository}/-/settings/ci_cd"
               if remote is not None and "gitlab" in remote.host else None)
        where = "Settings → CI/CD → Variables" + (f" ({url})" if url else "") + \
            "; a group variable is in the group's settings"
        return where, url
    return f"the settings of the CI service that ran {', '.join(history.files)}", None


def _label(history: CredentialHistory) -> str:
    credential = history.credential
    if credential.committed:
        return credential.name
    kind = {"github": "GitHub Actions", "gitlab": "GitLab CI/CD", "ci": "CI"}[
        credential.platform]
    return f"{kind} {credential.kind} {credential.name}"


def checklist(credentials: list[AuditedCredential], remote: Remote | None
              ) -> tuple[ChecklistStep, ...]:
    """The steps, in order: revoke what was committed in clear; delete the secrets nothing
    uses any more; revoke their tokens on PyPI (TestPyPI); migrate what is still used."""
    steps: list[ChecklistStep] = []
    committed = [c for c in credentials if c.history.credential.committed]
    leftover = [c for c in credentials if not c.history.credential.committed and
                not c.still_used]
    in_use = [c for c in credentials if not c.history.credential.committed and c.still_used]
    for item in committed:
        history = item.history
        name = history.credential.name
        for index in _indexes(history):
            what = (f"the API token {name}" if history.credential.kind == "token" else
                    f"the token committed as the {name} (or change the password, if it is "
                    "your account's)")
            still = (f"; it is still in {describe_usages(item.used_today)}, so remove it "
                     "from there too" if item.still_used else
                     ", even though a later commit removed it")
            steps.append(ChecklistStep(
                "revoke-now",
                f"Revoke {what} on {INDEX_NAMES[index]} now ({TOKEN_PAGES[index]}): it was "
                f"committed in {', '.join(history.files)} ({_short(history, 'first')}), and "
                f"anyone who can clone the repository can read it in the history{still}. "
                "Then publish with trusted publishing.",
                (name,), TOKEN_PAGES[index]))
    for item in leftover:
        history = item.history
        if item.stored == ():
            continue  # GitHub says it is stored nowhere: already deleted
        where, url = _secret_place(history, remote)
        if item.stored:
            where = f"stored today as {', '.join(item.stored)} (checked online); {where}"
        steps.append(ChecklistStep(
            "delete-secret",
            f"Delete the {_label(history)}: {where}. No file names it any more (last in "
            f"{_short(history, 'last')}).",
            (history.credential.name,), url))
    for index in ("pypi", "testpypi"):
        names = [c.history.credential.name for c in leftover if index in _indexes(c.history)]
        if names:
            held = ", ".join(names)
            steps.append(ChecklistStep(
                "revoke-token",
                f"Revoke on {INDEX_NAMES[index]} the API token{'s' if len(names) > 1 else ''} "
                f"that {held} held ({TOKEN_PAGES[index]}); {INDEX_NAMES[index]}'s account "
                "settings list your tokens with their scope and when each was last used.",
                tuple(names), TOKEN_PAGES[index]))
    for item in in_use:
        history = item.history
        where, _ = _secret_place(history, remote)
        tokens = " and ".join(TOKEN_PAGES[i] for i in _indexes(history))
        steps.append(ChecklistStep(
            "migrate",
            f"The {_label(history)} is still used by {describe_usages(item.used_today)}: migrate "
            "that upload to trusted publishing first (`pubaudit scan` shows what the publish "
            "job still lacks, `pubaudit publishers` the values to register on PyPI), remove "
            f"it from the files, then delete it ({where}) and revoke its token ({tokens}).",
            (history.credential.name,), None))
    return tuple(steps)
