"""Credentials: long-lived tokens that reach uploads, and secrets committed to the tree."""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.findings import Problem
from auditor.checks.fixes import token_removal
from auditor.checks.permissions import other_oidc_use
from auditor.facts.context import Context
from auditor.output.lazyre import lazy_re
from auditor.output.redact import (
    describe_token,
    may_hold_pypi_token,
    plausible_pypi_token,
    pypi_token_res,
)
from auditor.reading.source import Anchor, SourceFile
from auditor.reading.yamlsource import is_false
from auditor.upload.publish import Credential, PublishStep
from auditor.upload.scope import index_scope

_TP_METHODS = frozenset({"gh-action-pypi-publish", "twine", "uv", "pdm", "maturin"})
_NO_TP_METHODS = frozenset({"poetry", "flit", "hatch", "other"})

_PEM_RE = lazy_re(r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY)-----"
                     r"(.*?)-----END \1-----", re.S)
# The scheme starts where a run of scheme characters starts and is at most 32 long: with an
# unbounded ``\b[a-z][a-z0-9+.-]*`` every position of a long host ("a.a.a…") began a scan to
# its end, quadratic (a 16 KB host took seconds).
_URL_RE = lazy_re(r"(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31})://([^\s/@'\":]+):([^\s/@'\"]+)@([^\s/'\"]+)"
                     r"(/[^\s'\"]*)?", re.I)
# What every _URL_RE match holds: ``://user:password@``. It starts with a literal, which the
# engine finds fast, where _URL_RE must try each letter as the start of a scheme; most files
# with a URL have no password in one and are not searched further.
_USERINFO_RE = lazy_re(r"://[^\s/@'\":]+:[^\s/@'\"]+@")
_INDEX_HINT_RE = lazy_re(r"simple|pypi|legacy|repository|artifactory|nexus|devpi|packages|"
                            r"index|api/v4/projects|jfrog|gemfury|cloudsmith|codeartifact",
                            re.I)
PLACEHOLDER_RE = lazy_re(r"^(\$\{?[\w.]+\}?|\$\(.*\)|%\(.*\)s|<.*>|\{\{.*\}\}|\*+|x+|"
                             r"changeme|password|passwd|pass|secret|token|your[-_]?\w*|"
                             r"\$\{\{.*\}\}|__token__|username|user|\.\.\.)$", re.I)
# Where throw-away material lives: test suites, examples and documentation. A key or a URL
# with a password there is a fixture (celery, pip, urllib3 and sentry all commit test keys),
# not a credential of the release, unless CI names the file.
_THROWAWAY_DIRS = frozenset({"test", "tests", "t", "testing", "testdata", "test_data",
                             "fixtures", "fixture", "example", "examples", "sample", "samples",
                             "demo", "docs", "doc", "documentation", "dummyserver", "spec",
                             "specs", "benchmarks", "__tests__"})
_THROWAWAY_NAME_RE = lazy_re(r"(^|[._-])(test|tests|example|sample|dummy|fake|mock)"
                                r"([._-]|$)|^conftest\.py$", re.I)
_DOC_SUFFIXES = (".md", ".rst", ".adoc", ".html", ".ipynb")
PYPIRC_PASSWORD_RE = lazy_re(r"^\s*password\s*[=:]\s*(\S.*?)\s*$", re.I)


def _span_of(source: SourceFile, start: int, end: int) -> tuple[int, int, int, int]:
    line = source.text.count("\n", 0, start)
    col = start - (source.text.rfind("\n", 0, start) + 1)
    end_line = source.text.count("\n", 0, end)
    end_col = end - (source.text.rfind("\n", 0, end) + 1)
    return (line, col, end_line, end_col)


def _text_anchor(source: SourceFile, start: int, end: int, tag: str) -> Anchor:
    return Anchor(source.path, (tag, source.text[start:end][:24]),
                  span=_span_of(source, start, end))


def _uses_tp_job(ctx: Context, step: PublishStep) -> bool:
    """The job was given ``id-token: write`` for PyPI: granted, and no other step of the job
    (attestations, a cloud login, signing) explains the grant."""
    return ctx.effective_permissions(step.workflow, step.job).id_token and \
        not other_oidc_use(step.job)


def _describe(step: PublishStep) -> str:
    if step.method == "gh-action-pypi-publish":
        return ("pypa/gh-action-pypi-publish turns trusted publishing and attestations off "
                "whenever a password is set, and uploads with this long-lived token instead")
    return (f"{step.method} uses a configured token instead of trusted publishing, so this "
            "long-lived credential stays able to upload")


def _where(credential: Credential) -> str:
    return {"input": "input", "option": "option"}.get(credential.where,
                                                      f"variable ({credential.where})")


def _step_output_message(credential: Credential, index: str) -> str:
    """A credential read from another step's output: no secret is named, nothing to revoke
    can be pointed at; say what pubaudit could not see."""
    return (f"`{credential.name}` {_where(credential)} passes the upload a credential produced "
            f"by another step (`{credential.value.strip()}`), which pubaudit cannot see into. "
            "If that step hands over a long-lived API token, the upload bypasses trusted "
            "publishing: register a trusted publisher for this workflow on "
            f"{index}, grant `id-token: write` to this job and remove `{credential.name}`. If "
            "the step mints a short-lived token from the OIDC exchange, this is trusted "
            "publishing already.")


def _fallback_fix(step: PublishStep) -> str:
    """`attestations: false` next to `password:`: the usual answer to an exchange error that
    in fact meant the password secret was empty."""
    if step.method != "gh-action-pypi-publish" or not is_false(step.step.input("attestations")):
        return ""
    return (" `attestations: false` next to it suggests a workaround for \"Trusted publishing "
            "exchange failure\" / \"OpenID Connect token retrieval failed\": that error means "
            "the password secret was empty or unset, so the action fell back to trusted "
            "publishing, which was not configured. Turning attestations off does not fix it; "
            "configure trusted publishing instead and remove both `password:` and "
            "`attestations: false`.")


def leftover_token(ctx: Context) -> Iterator[Problem]:
    declared = bool(ctx.config.publishers)
    for step in ctx.publish_steps:
        scope = index_scope(step.index)
        if step.method not in _TP_METHODS | {"poetry", "flit", "hatch"} or scope is None:
            continue
        index = "TestPyPI" if step.index == "testpypi" else "PyPI"
        for credential in step.secrets:
            if credential.origin == "step-output":
                yield Problem(credential.anchor, _step_output_message(credential, index)
                              + scope.note, (("the upload", step.anchor),), undecided=True)
                continue
            has_oidc = _uses_tp_job(ctx, step)
            severity = "high" if has_oidc or declared else "medium"
            extra = (" The job already has `id-token: write`, so trusted publishing is set up "
                     "and this token is only a leftover." if has_oidc else "")
            yield Problem(
                credential.anchor,
                f"`{credential.name}` {_where(credential)} passes a long-lived {index} "
                f"credential to the upload: {_describe(step)}.{extra}{_fallback_fix(step)} "
                f"Remove `{credential.name}`, register a trusted publisher for this workflow on "
                f"{index}, grant `id-token: write` to this job, then delete the repository "
                f"secret and revoke the token on {index}.{scope.note}",
                (("the upload", step.anchor),), fix=token_removal(ctx, step),
                severity=severity, undecided=scope.undecided)
    yield from _gitlab_leftover(ctx)


_GITLAB_VARIABLE_RE = lazy_re(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _gitlab_where(credential: Credential) -> str:
    if credential.where == "option":
        return "option"
    return f"variable ({credential.where})"


def _gitlab_leftover(ctx: Context) -> Iterator[Problem]:
    """GitLab jobs that hand twine, uv or pdm a stored credential: the same leftover as on
    GitHub, with GitLab's remedy (an ID token for the job, the CI/CD variable to delete)."""
    if not ctx.repo.pipelines:
        return
    from auditor.upload.gitlab import id_token_variable  # the GitLab model: only when used

    declared = bool(ctx.config.publishers)
    for pj in ctx.gitlab_publish_jobs:
        for step in pj.steps:
            scope = index_scope(step.index)
            if step.method not in _TP_METHODS or scope is None:
                continue
            index = "TestPyPI" if step.index == "testpypi" else "PyPI"
            audience = "testpypi" if step.index == "testpypi" else "pypi"
            has_token = any(audience in t.audiences for t in pj.id_tokens)
            for credential in step.secrets:
                found = _GITLAB_VARIABLE_RE.search(credential.value)
                source = (f"the CI/CD variable `{found.group(1)}`" if found else
                          "a value written in the file")
                delete = (f"delete the CI/CD variable `{found.group(1)}` (Settings > CI/CD > "
                          "Variables) and revoke the token" if found else "revoke the token")
                extra = (f" The job already has an ID token for `{audience}`, so trusted "
                         "publishing is set up and this token is only a leftover."
                         if has_token else "")
                yield Problem(
                    credential.anchor,
                    f"`{credential.name}` {_gitlab_where(credential)} passes a long-lived "
                    f"{index} credential ({source}) to `{step.method}` in {pj.job.label}: "
                    f"{step.method} uses it instead of trusted publishing, and the token stays "
                    f"able to upload from anywhere.{extra} Register a GitLab trusted publisher "
                    f"on {index} for this project and `{pj.pipeline.ci_config_path}`, add "
                    f"`id_tokens: {{{id_token_variable(audience)}: {{aud: {audience}}}}}` to the "
                    f"job and remove "
                    f"`{credential.name}`, then {delete} on {index}.{scope.note}",
                    (("the upload", step.anchor),),
                    severity="high" if has_token or declared else "medium",
                    undecided=scope.undecided)


def password_login(ctx: Context) -> Iterator[Problem]:
    for step in ctx.publish_steps:
        scope = index_scope(step.index)
        if scope is None:
            continue
        for credential in step.credentials:
            if not credential.is_username:
                continue
            value = credential.value.strip()
            if value == "__token__" or "${{" in value or value.startswith("$"):
                continue  # a secret may well hold `__token__`: only literal names are certain
            consequence = ("the action stops with \"Password-based uploads disabled\" and exit "
                           "code 1" if step.method == "gh-action-pypi-publish" else
                           "PyPI rejects the upload with 403")
            yield Problem(
                credential.anchor,
                f"`{credential.name}: {value}` logs in with an account name: PyPI and TestPyPI "
                f"no longer accept user name and password uploads, so {consequence}. Remove "
                f"`{credential.name}` and the password, and publish with trusted publishing "
                f"(`id-token: write` and a registered publisher).{scope.note}",
                (("the upload", step.anchor),), undecided=scope.undecided)


def no_trusted_publishing_support(ctx: Context) -> Iterator[Problem]:
    for step in ctx.publish_steps:
        scope = index_scope(step.index)
        if step.method not in _NO_TP_METHODS or scope is None:
            continue
        if (step.method == "other" and not step.secrets) or step.trusted_publishing:
            continue  # nothing stored, or a token minted from the OIDC exchange in the job
        tool = step.step.uses.raw.split("@")[0] if step.method == "other" and step.step.uses \
            else step.wrapper_label if step.method == "other" and step.wrapper_label \
            else f"{step.method} publish"
        # A tool pubaudit knows cannot; one it only inferred is simply handed a token.
        claim = (f"`{tool}` is handed a long-lived API token stored as a secret, so this "
                 "upload does not use trusted publishing" if step.method == "other" else
                 f"`{tool}` cannot use trusted publishing, so this upload needs a long-lived "
                 "API token stored as a secret")
        yield Problem(
            step.anchor,
            f"{claim}. Build in a separate job and upload with "
            "`pypa/gh-action-pypi-publish` (or `uv publish --trusted-publishing always`) in a "
            f"job with `id-token: write`, then revoke the token.{scope.note}",
            undecided=scope.undecided)


def hardcoded_token(ctx: Context) -> Iterator[Problem]:
    for source in ctx.repo.secret_candidates:
        if not may_hold_pypi_token(source.text):
            continue
        seen: set[int] = set()
        for pattern in pypi_token_res():
            for match in pattern.finditer(source.text):
                if match.start() in seen or not plausible_pypi_token(match.group()):
                    continue
                seen.add(match.start())
                index = "TestPyPI" if "AgENdGVzdC5weXBpLm9yZw" in match.group() else "PyPI"
                yield Problem(
                    _text_anchor(source, match.start(), match.end(), "token"),
                    f"A {index} API token ({describe_token(match.group())}) is committed in "
                    f"`{source.path}`: anyone who can read the repository or its history can "
                    f"upload as you. Revoke it on {index} now, remove it from the file (and the "
                    "history), and publish with trusted publishing or a secret.")


def committed_pypirc(ctx: Context) -> Iterator[Problem]:
    for source in ctx.repo.secret_candidates:
        if source.name.lower() not in (".pypirc", "pypirc"):
            continue
        offset = 0
        for line in source.lines:
            match = PYPIRC_PASSWORD_RE.match(line)
            if match and not PLACEHOLDER_RE.match(match.group(1).strip("'\"")):
                start = offset + match.start(1)
                yield Problem(
                    _text_anchor(source, start, start + len(match.group(1)), "password"),
                    f"`{source.path}` is committed with a `password`: the upload credential is "
                    "in the repository and its history. Revoke it, delete the file from the "
                    "repository, and publish with trusted publishing (or keep the token in a "
                    "CI secret).")
            offset += len(line) + 1


def _throwaway(path: str) -> bool:
    """A file of a test suite, an example or the documentation (by its path)."""
    *dirs, name = path.lower().split("/")
    return any(d in _THROWAWAY_DIRS for d in dirs) or name.endswith(_DOC_SUFFIXES) or \
        _THROWAWAY_NAME_RE.search(name.rsplit(".", 1)[0] if "." in name else name) is not None


def _named_by_ci(ctx: Context, path: str) -> bool:
    """Some CI file names ``path`` (its repository path or its file name)."""
    name = path.rsplit("/", 1)[-1]
    return any(name in source.text for rel, source in ctx.repo.sources.items()
               if rel.startswith((".github/", ".gitlab")) or rel.endswith(".gitlab-ci.yml"))


def _release_material(ctx: Context, source: SourceFile) -> bool:
    return not _throwaway(source.path) or _named_by_ci(ctx, source.path)


def credentials_in_url(ctx: Context) -> Iterator[Problem]:
    sources = list(ctx.repo.secret_candidates)
    for source in sources:
        if "://" not in source.text or _USERINFO_RE.search(source.text) is None or \
                not _release_material(ctx, source):
            continue  # the cheap test first: most texts hold no user-info at all
        for match in _URL_RE.finditer(source.text):
            user, password, host, path = match.group(2), match.group(3), match.group(4), \
                match.group(5) or ""
            if match.group(1).lower() not in ("http", "https"):
                continue  # an index is reached over HTTP(S); other schemes are databases, git
            if PLACEHOLDER_RE.match(password) or (PLACEHOLDER_RE.match(user) and \
                    PLACEHOLDER_RE.match(password)):
                continue
            if password.startswith("$") or "{{" in password or "%" in password[:1]:
                continue
            host_l = host.lower()
            if host_l.endswith(("github.com", "gitlab.com", "bitbucket.org")) or not \
                    _INDEX_HINT_RE.search(host + path):
                continue
            yield Problem(
                _text_anchor(source, match.start(), match.end(), "url"),
                f"The index URL `{match.group(1)}://{user}:***@{host}{path[:40]}` carries a "
                f"password in `{source.path}`: it is stored in the repository history and "
                "printed wherever the URL is (logs, error messages, pip's output). Rotate the "
                "credential, keep the URL without it, and pass the credential from a secret "
                "through the tool's own variable (e.g. `UV_INDEX_<NAME>_PASSWORD`, "
                "`TWINE_PASSWORD`, `PIP_INDEX_URL` set in the job).")


def committed_private_key(ctx: Context) -> Iterator[Problem]:
    for source in ctx.repo.secret_candidates:
        if "PRIVATE KEY-----" not in source.text or not _release_material(ctx, source):
            continue
        for match in _PEM_RE.finditer(source.text):
            body = "".join(match.group(2).split())
            if len(body) < 40 or "..." in body:
                continue  # an elided example in documentation
            yield Problem(
                _text_anchor(source, match.start(), match.start() + 11 + len(match.group(1))
                             + 10, "key"),
                f"A PEM {match.group(1).lower()} is committed in `{source.path}`: whoever reads "
                "the repository can use it (for example as the client key of an mTLS upload "
                "with `twine --client-cert`). Revoke it, remove it from the repository and its "
                "history, store it as a CI secret and write it to a temporary file in the job. "
                "If it is a throw-away test key, exclude the path in `[tool.pubaudit] exclude`.")


def uv_publish_fallback(ctx: Context) -> Iterator[Problem]:
    for step in ctx.publish_steps:
        if step.method != "uv" or not step.trusted_publishing:
            continue
        mode = (step.uv_trusted_mode or "").strip().lower()
        if mode == "always" or "${{" in mode:
            continue
        anchor = step.uv_trusted_anchor if mode and step.uv_trusted_anchor else step.anchor
        now = f"`--trusted-publishing {mode}`" if mode else "the default `automatic` mode"
        yield Problem(
            anchor,
            f"`uv publish` runs with {now}: when the OIDC exchange fails (missing "
            "`id-token: write`, no matching publisher) uv carries on without a token and the "
            "run ends in an unrelated \"Missing credentials\" error. Use "
            "`uv publish --trusted-publishing always` (or `UV_TRUSTED_PUBLISHING: always`) so "
            "the real error is reported.")


_UV_PASSWORDS = ("UV_PUBLISH_PASSWORD", "-p", "--password")
_UV_USERNAMES = ("UV_PUBLISH_USERNAME", "-u", "--username")


def _username_set_earlier(step: PublishStep) -> bool:
    """An earlier step of the job exports the user name (``>> $GITHUB_ENV``)."""
    return any(s.run is not None and "UV_PUBLISH_USERNAME" in s.run.value
               for s in step.job.steps if s.index < step.step.index)


def uv_password_without_username(ctx: Context) -> Iterator[Problem]:
    for step in ctx.publish_steps:
        if step.method != "uv":
            continue
        names = {c.name for c in step.credentials}
        password = next((c for c in step.credentials if c.name in _UV_PASSWORDS), None)
        if password is None or names & set(_UV_USERNAMES) or _username_set_earlier(step):
            continue
        scope = index_scope(step.index)
        if scope is not None and not scope.undecided:
            fix = (f"Remove `{password.name}` and publish with trusted publishing "
                   "(`id-token: write` on this job and a publisher registered for this "
                   "workflow), which needs neither.")
        else:
            fix = (f"Set `UV_PUBLISH_USERNAME` (or `--username`) next to `{password.name}` to "
                   "the account the index expects, or pass an API token with "
                   "`UV_PUBLISH_TOKEN` instead.")
        yield Problem(
            password.anchor,
            f"`{password.name}` gives `uv publish` a password but no user name: uv stops with "
            "\"Attempted to publish with a password, but no username\" before uploading "
            f"anything (it assumes `__token__` only for `--token`). {fix}",
            (("the upload", step.anchor),))
