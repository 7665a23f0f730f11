"""The command line: a thin typer app that parses options, calls the engine, picks a format.

Exit codes: 0 nothing at or above the threshold; 1 findings at or above it; 2 usage or
configuration error; 3 internal error (a bug). Everything heavy is imported inside the
command that needs it, so ``pubaudit --version`` and ``--help`` stay cheap.

`from __future__ import annotations` is left out on purpose: typer reads every option's
annotation at start-up, and string annotations cost it one `eval` each (~200 of them).
"""

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer

from auditor import __version__

if TYPE_CHECKING:
    from auditor.engine.scan import Report
    from auditor.facts.context import Context
    from auditor.history.audit import HistoryAudit
    from auditor.online.run import Runner

EXIT_HELP = """Exit codes: 0 no finding at or above the threshold (--fail-on, default low);
1 findings at or above it; 2 usage or configuration error; 3 internal error (a bug)."""

app = typer.Typer(
    name="pubaudit",
    help="Audit PyPI trusted publishing: will publishing work, and is it safe?\n\n" + EXIT_HELP,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# The choices of the options: typer shows and checks a Literal's values as it does an enum's,
# and an alias costs nothing at start-up (each enum class cost ~0.15 ms to create).
Format = Literal["text", "json", "sarif", "github", "markdown", "concise"]
Level = Literal["info", "low", "medium", "high"]
Confidence = Literal["low", "medium", "high"]
PublishersFormat = Literal["text", "toml", "json"]
LogFormat = Literal["text", "json"]
HistoryFormat = Literal["text", "json"]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pubaudit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Audit PyPI trusted publishing: will publishing work, and is it safe?"""


def _use_color(no_color: bool, output: Path | None) -> bool:
    if no_color or os.environ.get("NO_COLOR") or output is not None:
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"pubaudit: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def scan(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Repository directories, each audited as its own repository (default .), or "
             "files of one repository (as pre-commit passes them).", show_default=False)] =
    None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = "text",
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write the report to this file.")] = None,
    min_severity: Annotated[Level | None, typer.Option(
        help="Report only findings of this severity or higher (default info).")] = None,
    min_confidence: Annotated[Confidence | None, typer.Option(
        help="Report only findings of this confidence or higher (default low).")] = None,
    fail_on: Annotated[Level | None, typer.Option(
        help="Exit 1 when a reported finding has this severity or higher (default low).")] =
    None,
    select: Annotated[list[str] | None, typer.Option(
        help="Only these rules: ids, families (pinning), globs (publisher-*) or ALL; "
             "repeat or separate with commas.")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        help="Skip these rules (as --select); adds to the configuration's ignore.")] = None,
    config: Annotated[Path | None, typer.Option(
        help="Configuration file (default: pubaudit.toml, else [tool.pubaudit] in "
             "pyproject.toml).")] = None,
    baseline: Annotated[Path | None, typer.Option(
        help="Fingerprints of accepted findings: report only new ones. Written from this "
             "scan's findings when the file does not exist.")] = None,
    exit_zero: Annotated[bool, typer.Option(help="Exit 0 even when findings are reported.")] =
    False,
    no_color: Annotated[bool, typer.Option("--no-color", help="Never use colour.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q",
                                        help="Print only the summary line (text format).")] =
    False,
    statistics: Annotated[bool, typer.Option(
        "--statistics", help="Print counts per rule instead of the findings (text and "
                             "concise formats).")] = False,
    online: Annotated[bool, typer.Option(
        "--online", help="Also ask GitHub and PyPI (environments, secret names, provenance, "
                         "pins); needs httpx. Off by default: nothing else uses the "
                         "network.")] = False,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="With --online: neither read nor write the on-disk cache.")] =
    False,
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=0,
        help="Processes for many repositories (a directory of them with more than 256 CI "
             "files, or 8 or more directories given): 0 one per CPU; 1 never splits. The "
             "report is the same.")] = 0,
) -> None:
    """Audit repositories' publishing workflows.

    Each directory is audited as its own repository (its own configuration, git remote and
    declared publishers), all in one report; files given instead are files of one
    repository, whose root is found upward. Exit codes: 0 no finding at or above the
    threshold; 1 findings at or above it; 2 usage or configuration error, or nothing to
    audit in a directory; 3 internal error.
    """
    from auditor.engine.scan import BaselineError, Options, scan_repositories

    targets = paths or [Path(".")]
    for target in targets:
        if not target.exists():
            _fail(f"no such file or directory: {target}")
    selected, ignored = _selection(select, ignore)
    _check_config(config)
    if baseline is not None:
        if baseline.is_dir():
            _fail(f"--baseline {baseline}: is a directory")
        if not baseline.exists() and not (baseline.parent if str(baseline.parent) else
                                          Path(".")).is_dir():
            _fail(f"--baseline {baseline}: directory {baseline.parent} does not exist")
    _check_output(output)
    options = Options(
        select=selected, ignore=ignored,
        min_severity=min_severity, min_confidence=min_confidence,
        fail_on=fail_on, config_file=config, baseline=baseline,
        jobs=jobs)
    runner = _online_runner(online, no_cache, quiet)
    try:
        report = scan_repositories(targets, replace(options, online=runner))
    except BaselineError as exc:
        _fail(f"--baseline {baseline}: {exc}")
    except OSError as exc:  # writing a new baseline: a read-only directory, a full disk
        _fail(f"--baseline {baseline}: {exc.strerror or exc}")
    finally:
        if runner is not None:
            runner.close()
    empty = [part for part in report.repositories if part.nothing_to_audit]
    for part in empty:
        typer.echo(f"pubaudit: nothing to audit in {part.display_root}: no "
                   ".github/workflows/*.yml, .gitlab-ci.yml, action.yml or pyproject.toml",
                   err=True)
    if empty:
        raise typer.Exit(2)
    rendered = _render(report, format, statistics, _use_color(no_color, output), quiet)
    _emit(rendered, output)
    if report.baseline_written is not None:
        typer.echo(f"pubaudit: wrote baseline {report.baseline_written} "
                   f"({len(report.findings)} findings accepted)", err=True)
    if report.config.errors:
        typer.echo("pubaudit: configuration error (see invalid-config findings)", err=True)
        raise typer.Exit(2)
    if report.failed and not exit_zero:
        raise typer.Exit(1)


def _check_output(output: Path | None) -> None:
    """``--output``: exit 2 before any work when the file could not be written."""
    if output is None:
        return
    from auditor.output.write import OutputError, check_target

    try:
        check_target(output)
    except OutputError as exc:
        _fail(f"--output {exc}")


def _emit(rendered: str, output: Path | None) -> None:
    """The report to ``--output`` (atomically; exit 2 when it cannot be written) or stdout."""
    if output is None:
        sys.stdout.write(rendered)
        return
    from auditor.output.write import OutputError, write_report

    try:
        write_report(output, rendered)
    except OutputError as exc:
        _fail(f"--output {exc}")


def _selection(select: list[str] | None, ignore: list[str] | None
               ) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """``--select`` and ``--ignore`` as rule names and prefixes, each checked to name one."""
    from auditor.reading.catalogue import load_index
    from auditor.reading.selection import expand, split, unknown_message

    known = load_index()
    selected = split(select) if select is not None else None
    ignored = split(ignore or ())
    for name, rules in (("--select", selected or ()), ("--ignore", ignored)):
        for rule in rules:
            if expand(rule, known) is None:
                _fail(f"{name}: {unknown_message(rule, known)}")
    return selected, ignored


def _stored_secrets(audit: "HistoryAudit", runner: "Runner") -> "HistoryAudit":
    """``history --online``: where GitHub stores each of the history's secrets today."""
    from auditor.facts.context import Context
    from auditor.history.audit import with_stored
    from auditor.reading.config import load_config
    from auditor.repository.discovery import load_repository

    names = sorted({c.history.credential.name for c in audit.credentials if c.github_secret})
    environments = sorted({e for c in audit.credentials if c.github_secret
                           for e in c.history.environments})
    ctx = Context(load_repository(audit.root, load_config(audit.root, None)))
    try:
        stored, notices = runner.stored_secrets(ctx, names, environments)
    finally:
        runner.close()
    return with_stored(audit, stored, notices)


def _online_runner(online: bool, no_cache: bool, quiet: bool) -> "Runner | None":
    """``--online``: the network runner (httpx is imported only now), or exit 2 with an
    install hint when httpx is missing."""
    if not online:
        if no_cache:
            _fail("--no-cache is only meaningful with --online")
        return None
    from auditor.online import OnlineUnavailable, start

    try:
        return start(no_cache=no_cache, progress=sys.stderr.isatty() and not quiet)
    except OnlineUnavailable as exc:
        _fail(str(exc))


def _check_config(config: Path | None) -> None:
    if config is None:
        return
    if config.is_dir():
        _fail(f"--config {config}: is a directory")
    if not config.is_file():
        _fail(f"--config: no such file: {config}")


def _render(report: "Report", format: Format, statistics: bool, color: bool,
            quiet: bool) -> str:
    """The report in the chosen format; ``--statistics`` replaces the findings of the
    human formats (text, concise) with counts per rule."""
    if statistics and format in ("text", "concise"):
        from auditor.formats import statistics as statistics_format
        return statistics_format.render(report)
    if format == "json":
        from auditor.formats import json as json_format
        return json_format.render(report)
    if format == "sarif":
        from auditor.formats import sarif
        return sarif.render(report)
    if format == "github":
        from auditor.formats import github
        return github.render(report)
    if format == "markdown":
        from auditor.formats import markdown
        return markdown.render(report)
    if format == "concise":
        from auditor.formats import concise
        return concise.render(report)
    from auditor.formats import text
    return text.render(report, color, quiet)


@app.command()
def publishers(
    path: Annotated[Path, typer.Argument(help="The repository (default .).")] = Path("."),
    format: Annotated[PublishersFormat, typer.Option(
        "--format", "-f", help="text; toml: declarations to paste into pyproject.toml; "
                               "json.")] = "text",
    config: Annotated[Path | None, typer.Option(
        help="Configuration file (default: pubaudit.toml, else [tool.pubaudit] in "
             "pyproject.toml).")] = None,
    online: Annotated[bool, typer.Option(
        "--online", help="Also show, per job, the publisher PyPI's provenance records for "
                         "the latest release (text and json; needs httpx).")] = False,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="With --online: neither read nor write the on-disk cache.")] =
    False,
) -> None:
    """Show the trusted publisher each publish job needs on PyPI and TestPyPI.

    For every job that uploads: owner, repository, workflow file name and environment to
    enter in PyPI's form, whether a declared publisher matches, and the form link.
    Exit codes: 0 listed; 2 usage or configuration error.
    """
    from auditor.facts.context import Context
    from auditor.output.inert import inert
    from auditor.output.redact import redact
    from auditor.publishers.registration import registrations, render_json, render_text, render_toml
    from auditor.reading.config import load_config
    from auditor.repository.discovery import find_root, load_repository

    if not path.exists():
        _fail(f"no such file or directory: {path}")
    _check_config(config)
    root = path.resolve() if path.is_dir() else find_root(path)
    settings = load_config(root, config)
    if settings.errors:
        for error in settings.errors:
            typer.echo(redact(inert(f"{error.path}:{error.line}:{error.column}: "
                                    f"{error.message}")), err=True)
        _fail("configuration error")
    if online and format == "toml":
        _fail("--online applies to the text and json formats")
    runner = _online_runner(online, no_cache, False)
    ctx = Context(load_repository(root, settings))
    regs = registrations(ctx)
    try:
        if format == "toml":
            sys.stdout.write(render_toml(regs))
        elif format == "json":
            sys.stdout.write(_publishers_online_json(render_json(regs), runner, ctx))
        else:
            sys.stdout.write(render_text(regs, root) + _publishers_online_text(runner, ctx))
    finally:
        if runner is not None:
            runner.close()


def _publishers_online_text(runner: "Runner | None", ctx: "Context") -> str:
    """``publishers --online``: the provenance section and notices, for the text format."""
    if runner is None:
        return ""
    from auditor.online.provenance import render_rows
    from auditor.output.inert import inert, no_commands
    from auditor.output.redact import redact

    rows, notices = runner.publisher_provenance(ctx)
    text = render_rows(rows) + "".join(
        f"notice: {n.message}{f' [{n.endpoint} → {n.status}]' if n.endpoint else ''}\n"
        for n in notices)
    return redact(no_commands(inert(text, keep_breaks=True)))


def _publishers_online_json(rendered: str, runner: "Runner | None", ctx: "Context") -> str:
    """``publishers --online``: ``provenance`` and ``notices`` keys in the JSON document."""
    if runner is None:
        return rendered
    import json

    from auditor.output.redact import redact

    rows, notices = runner.publisher_provenance(ctx)
    document = json.loads(rendered)
    document["provenance"] = rows
    document["notices"] = [n.as_dict() for n in notices]
    return redact(json.dumps(document, indent=2, ensure_ascii=False)) + "\n"


@app.command()
def fix(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Repositories to fix (default: the current directory).")] = None,
    unsafe: Annotated[bool, typer.Option(
        "--unsafe", help="Also apply the fixes that change what the workflow does (removing "
                         "a token, a new permissions block, choosing a release).")] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Print the changes as a unified diff; write nothing.")] = False,
    select: Annotated[list[str] | None, typer.Option(
        help="Fix only these rules or prefixes (repeatable, or comma-separated).")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        help="Leave these rules or prefixes alone (repeatable, or comma-separated).")] = None,
    config: Annotated[Path | None, typer.Option(
        help="Configuration file (default: pubaudit.toml, else [tool.pubaudit] in "
             "pyproject.toml).")] = None,
    exit_zero: Annotated[bool, typer.Option(help="Exit 0 even when findings remain.")] = False,
) -> None:
    """Apply the fixes findings carry, in place, keeping layout and comments.

    Safe fixes only unless --unsafe. Each file's edits are checked before it is written:
    the result parses, keeps every comment, holds the original data plus exactly the fix,
    and a scan of it no longer reports the fixed findings and reports nothing new; a file
    that fails is left as it was, with the reason. A fix that removes a token ends with
    what only you can do: register the publisher, delete the secret, revoke the token.
    Exit codes: 0 no finding left at or above the threshold; 1 findings left; 2 usage or
    configuration error, or a file that could not be written; 3 internal error.
    """
    from auditor.engine.scan import Options, repository_targets
    from auditor.fix.checklist import checklist
    from auditor.fix.report import diff as render_diff
    from auditor.fix.report import summary
    from auditor.fix.run import plan_fixes
    from auditor.fix.write import WriteError, write_atomic

    targets = paths or [Path(".")]
    for target in targets:
        if not target.exists():
            _fail(f"no such file or directory: {target}")
    selected, ignored = _selection(select, ignore)
    _check_config(config)
    options = Options(select=selected, ignore=ignored, config_file=config)
    failed_any = config_error = False
    for repository in repository_targets(targets):
        outcome = plan_fixes(repository, options, unsafe)
        root = outcome.before.root
        failed: dict[str, str] = {}
        if diff:
            sys.stdout.write("".join(render_diff(c, root) for c in outcome.changes))
        else:
            for change in outcome.changes:
                try:
                    write_atomic(root / change.path, change.data, change.original)
                except WriteError as exc:
                    failed[change.path] = str(exc)
        steps = checklist(outcome, root, config) if not failed else []
        text = summary(outcome, root, not diff, failed, steps)
        if diff:
            sys.stderr.write(text)
        else:
            sys.stdout.write(text)
        failed_any = failed_any or outcome.after.failed or bool(failed)
        config_error = config_error or bool(outcome.after.config.errors) or bool(failed)
    if config_error:
        raise typer.Exit(2)
    if failed_any and not exit_zero:
        raise typer.Exit(1)


@app.command()
def rules() -> None:
    """List the rules: id, default severity and title."""
    from auditor.reading.catalogue import load_index

    for rule in load_index().values():
        typer.echo(f"{rule.id:<32} {rule.severity:<7} {rule.title}")


@app.command()
def explain(rule: Annotated[str, typer.Argument(help="A rule id, e.g. missing-id-token.")]) \
        -> None:
    """Show one rule's documentation."""
    from auditor.reading.catalogue import load_catalogue, render_markdown
    from auditor.reading.selection import suggestion

    catalogue = load_catalogue()
    if rule not in catalogue:
        _fail(f"unknown rule {rule!r}{suggestion(rule, catalogue)}; `pubaudit rules` lists "
              "them")
    typer.echo(render_markdown(catalogue[rule]))


@app.command("explain-log")
def explain_log(
    logfile: Annotated[str, typer.Argument(
        metavar="LOGFILE", help="The log of the failed publish job (or its step summary); "
                                "`-` reads standard input.", show_default=False)],
    path: Annotated[Path, typer.Option(
        "--path", help="The repository whose declared publishers and workflows to compare "
                       "with.")] = Path("."),
    format: Annotated[LogFormat, typer.Option("--format", "-f", help="Output format.")] = "text",
    config: Annotated[Path | None, typer.Option(
        help="Configuration file (default: pubaudit.toml, else [tool.pubaudit] in "
             "pyproject.toml).")] = None,
) -> None:
    """Explain a failed publish run: what failed, which value differs, what to change.

    Reads logs of pypa/gh-action-pypi-publish, twine, uv and pdm on GitHub Actions or
    GitLab CI (raw or downloaded, with timestamps and colours). Exit codes: 0 no known
    trusted-publishing failure in the log; 1 failures explained; 2 usage error (missing,
    unreadable or binary log, bad --path or --config).
    """
    from auditor.explainlog.report import UsageError, render_json, render_text, run

    try:
        explanation = run(logfile, path, config, sys.stdin.buffer)
    except UsageError as exc:
        _fail(str(exc))
    rendered = render_json(explanation) if format == "json" else \
        render_text(explanation)
    sys.stdout.write(rendered)
    raise typer.Exit(explanation.exit_code)


@app.command()
def history(
    path: Annotated[Path, typer.Argument(help="The repository (default .).")] = Path("."),
    format: Annotated[HistoryFormat, typer.Option("--format", "-f", help="Output format.")] =
    "text",
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write the report to this file.")] = None,
    exit_zero: Annotated[bool, typer.Option(
        help="Exit 0 even when a credential is still used or was committed.")] = False,
    online: Annotated[bool, typer.Option(
        "--online", help="Also ask GitHub which of the secrets are still stored (repository, "
                         "organisation, environments; needs httpx and a token with "
                         "\"Secrets: read\").")] = False,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="With --online: neither read nor write the on-disk cache.")] =
    False,
) -> None:
    """List every PyPI credential the CI ever used, from the git history, with a checklist.

    Reads one `git log -p` over the CI and release files (docs/history.md lists them):
    secrets and CI/CD variables handed to uploads, tokens and .pypirc passwords committed
    in clear, where and when each appeared, and whether the files still use it; then what
    to delete, revoke or migrate, in order. Exit codes: 0 nothing still used or committed;
    1 a credential is still used, or a token was committed; 2 usage error (no such path,
    not a git repository, no commits, git not installed).
    """
    from auditor.history.audit import audit_history
    from auditor.history.gitlog import GitError
    from auditor.history.report import render_json, render_text

    if not path.exists():
        _fail(f"no such file or directory: {path}")
    _check_output(output)
    runner = _online_runner(online, no_cache, quiet=False)
    try:
        audit = audit_history(path)
    except GitError as exc:
        _fail(str(exc))
    if runner is not None:
        audit = _stored_secrets(audit, runner)
    rendered = render_json(audit, str(path)) if format == "json" else \
        render_text(audit, str(path))
    _emit(rendered, output)
    if audit.exit_code and not exit_zero:
        raise typer.Exit(audit.exit_code)


def main() -> None:
    """The command line as the console script runs it (``auditor.__main__``, which has
    already turned the garbage collector off): internal errors become exit 3 with one line,
    not a traceback."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        print(f"pubaudit: internal error: {type(exc).__name__}: {exc}. This is a bug; please "
              "report it with the command you ran (set PUBAUDIT_DEBUG=1 for the traceback).",
              file=sys.stderr)
        if os.environ.get("PUBAUDIT_DEBUG"):
            raise
        sys.exit(3)
