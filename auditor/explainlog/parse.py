"""Recognising what a publish run's log says: the failures it shows and the claims it prints.

The texts recognised here are the ones the publishing tools print (sources in
``research/pypi-trusted-publishing.md`` §1.2, §2.3-2.4, §7 and ``research/failure-modes.md``):
PyPI's mint-token error codes as gh-action-pypi-publish, twine and uv render them, the
action's rendered claims block, uv's ``OidcTokenClaims`` Debug output, the upload-time
refusals of PyPI, and the errors of GitHub Actions and GitLab CI around them.

Logs come in several dresses, all undone before matching: GitHub's timestamp prefix
(``2026-01-02T03:04:05.1234567Z``), the job and step columns of ``gh run view --log``,
``##[error]``/``##[group]`` markers, workflow commands (``::error::`` with ``%0A`` for
newlines), ANSI colours, GitLab's ``section_start:...`` markers and timestamps,
carriage-return overwrites. Line numbers are those of the file (1-based), so a user can
jump to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from auditor.output.lazyre import lazy_re
from auditor.output.records import record

MAX_LINE = 64 * 1024  # characters of one line looked at; the rest of a longer line is ignored
MAX_EXCERPT = 300


# ----------------------------------------------------------------- normalising one line

_TIMESTAMP_RE = lazy_re(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}) ?")
_GITLAB_STREAM_RE = lazy_re(r"^[0-9a-f]{2}[OE]\+? ?")  # GitLab's timestamped log format
_ANSI_RE = lazy_re(
    r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Z0-9]")
_SECTION_RE = lazy_re(r"section_(?:start|end):\d+:[A-Za-z0-9_.\-]+(?:\[[^\]\r\n]*\])?\r?")
# `gh run view --log` / `--log-failed`: "<job name>\t<step name>\t<timestamp> <text>".
_GH_CLI_PREFIX_RE = lazy_re(r"^[^\t]*\t[^\t]*\t(?=\ufeff?\d{4}-\d{2}-\d{2}T)")
_MARKER_RE = lazy_re(
    r"^(?:##\[(?:error|warning|notice|debug|group|endgroup|command|section)\]"
    r"|::(?:error|warning|notice|debug|group|endgroup)(?: [^:]*)?::)")


def logical_lines(raw: str) -> list[str]:
    """The text of one physical log line as a reader would see it: prefixes, colours and
    markers removed, ``%0A``-encoded workflow commands split back into their lines."""
    line = raw[:MAX_LINE]
    if "\x1b" in line:
        line = _ANSI_RE.sub("", line)
    if "section_" in line:
        line = _SECTION_RE.sub("", line)
    if "\r" in line:
        parts = [p for p in line.split("\r") if p.strip()]
        line = parts[-1] if parts else ""
    if "\t" in line[:300]:
        line = _GH_CLI_PREFIX_RE.sub("", line, count=1).lstrip("\ufeff")
    stamped = _TIMESTAMP_RE.match(line)
    if stamped:
        line = _GITLAB_STREAM_RE.sub("", line[stamped.end():], count=1)
    line = _MARKER_RE.sub("", line, count=1)
    if "%0A" in line:
        line = line.replace("%0D", "").replace("%0A", "\n").replace("%25", "%")
        return [_MARKER_RE.sub("", part, count=1).rstrip() for part in line.split("\n")]
    return [line.rstrip()]


# ----------------------------------------------------------------- the facts


@record
class Failure:
    """One recognised failure (or warning) line."""

    kind: str
    line: int  # 1-based, in the log
    excerpt: str  # the line as shown (prefixes removed), shortened
    data: tuple[tuple[str, str], ...] = ()  # values read from the text (sha, project, ...)

    def get(self, key: str) -> str | None:
        for name, value in self.data:
            if name == key:
                return value
        return None


@record
class Claim:
    """One OIDC claim printed in a log, with its line."""

    name: str
    value: str | None  # ``None``: printed as MISSING / ``None``
    line: int


@record
class ClaimSet:
    """The OIDC token claims one tool printed after a refused exchange."""

    source: str  # gh-action-pypi-publish | uv
    line: int
    claims: tuple[Claim, ...]

    def get(self, name: str) -> Claim | None:
        return next((c for c in self.claims if c.name == name), None)

    def value(self, name: str) -> str | None:
        claim = self.get(name)
        return claim.value if claim else None

    def has(self, name: str) -> bool:
        return self.get(name) is not None

    @property
    def provider(self) -> str:
        if self.has("project_path") or self.has("ci_config_ref_uri"):
            return "gitlab"
        return "github"


@record
class LogFacts:
    """Everything recognised in a log: failures, claims, tool and index."""

    failures: tuple[Failure, ...]
    claim_sets: tuple[ClaimSet, ...]
    tool: str | None  # gh-action-pypi-publish | uv | pdm | twine
    platform: str | None  # github | gitlab
    index_mentions: tuple[tuple[int, str], ...]  # (line, pypi|testpypi), where it changes
    distributions: tuple[tuple[int, str], ...]  # (line, file name) of uploaded files
    lines: int  # last line number read
    first_line: int = 1

    @property
    def index(self) -> str | None:
        """The index of the first failure (else the first one named)."""
        if self.failures:
            return self.index_near(self.failures[0].line)
        return self.index_mentions[0][1] if self.index_mentions else None

    def index_near(self, line: int) -> str | None:
        """The index named last before ``line`` (else first after it)."""
        before = [index for at, index in self.index_mentions if at <= line]
        if before:
            return before[-1]
        return self.index_mentions[0][1] if self.index_mentions else None

    def claims_near(self, line: int) -> ClaimSet | None:
        """The claim set printed with the failure at ``line``: the first one after it
        within 80 lines, else the last one before it."""
        after = [c for c in self.claim_sets if line <= c.line <= line + 80]
        if after:
            return after[0]
        before = [c for c in self.claim_sets if c.line < line]
        return before[-1] if before else None

    def of_kind(self, kind: str) -> list[Failure]:
        return [f for f in self.failures if f.kind == kind]


# ----------------------------------------------------------------- what is recognised


@record
class Pattern:
    """A known failure text and the kind of failure it signals."""

    kind: str
    regex: re.Pattern[str]
    tool: str | None = None  # the tool this text identifies
    unless: tuple[str, ...] = ()  # kinds that, found on the same line, make this one moot
    extra: re.Pattern[str] | None = None  # more values to read from the same line
    guard: tuple[str, ...] = ()  # literals of which every match contains one (fast reject)


def _p(kind: str, regex: str, tool: str | None = None, unless: tuple[str, ...] = (),
       extra: str | None = None) -> Pattern:
    return Pattern(kind, re.compile(regex), tool, unless,
                   re.compile(extra) if extra else None)


_CODE = r"[`\"']{code}[`\"']"
PATTERNS: tuple[Pattern, ...] = (
    # --- mint-token refusals (PyPI's codes, §1.2)
    _p("pull-request-target", r"invoked via 'pull_request_target' is not supported"),
    _p("invalid-publisher",
       r"valid token, but no corresponding publisher|" + _CODE.format(code="invalid-publisher"),
       unless=("pull-request-target",),
       extra=r"no corresponding publisher \((?P<reason>.*)\)(?:[\"`'}\]]|\s*$)"),
    _p("invalid-pending-publisher", r"valid token, but project already exists|"
       + _CODE.format(code="invalid-pending-publisher")),
    _p("invalid-reuse-token",
       r"invalid token: already used|" + _CODE.format(code="invalid-reuse-token")),
    _p("invalid-token", r"malformed or invalid token|" + _CODE.format(code="invalid-token")),
    _p("unknown-issuer", r"unknown trusted publishing issuer"
       r"|JWT issuer (?P<issuer>\S+) does not match expected issuer"),
    _p("invalid-payload", _CODE.format(code="invalid-payload") + r"|malformed JWT",
       unless=("unknown-issuer",)),
    _p("not-enabled", r"trusted publishing functionality not enabled"
       r"|has trusted publishing disabled|" + _CODE.format(code="not-enabled")),
    _p("audience-not-supported",
       r"audience retrieval failed: repository at (?P<host>\S+) does not indicate trusted "
       r"publishing support|audience retrieval failed: repository at (?P<host2>\S+) responded"),
    _p("exchange-failed",
       r"Trusted publishing exchange failure|Token request failed: the server refused"
       r"|The token request failed; the index server|(?:PyPI|Server) returned error code "
       r"(?P<status>\d+)|TrustedPublishingFailure|The token-minting request returned invalid "
       r"JSON|Token request failed: the index produced an unexpected"),
    # --- no OIDC token
    _p("fork-pull-request", r"pull request on a fork"),
    _p("gitlab-id-token-missing",
       r"GitLab: Environment variable (?P<variable>[A-Za-z0-9_]+) not found"),
    _p("missing-id-token",
       r"ACTIONS_ID_TOKEN_REQUEST_(?:TOKEN|URL)(?: environment variable was unset| not set)"
       r"|missing or insufficient OIDC token permissions"
       r"|is the `id-token: write` permission missing\?"
       r"|Unable to retrieve an OIDC token from the CI platform for trusted publishing"
       r"|OpenID Connect token retrieval failed"
       r"|Failed to get PyPI token via GitHub Actions OIDC",
       unless=("gitlab-id-token-missing",)),
    _p("uv-missing-credentials", r"Missing credentials for (?P<url>https?://\S+)", "uv"),
    _p("uv-no-oidc", r"No OIDC token discovered: are you in a supported trusted publishing "
       r"environment", "uv"),
    _p("twine-no-credentials", r"Credential not found for (?:API token|password)\."
       r"|This environment is not supported for trusted publishing", "twine"),
    _p("caller-denies-id-token",
       r"The nested job '(?P<job>[^']+)' is requesting '(?P<requested>[^']*id-token[^']*)', "
       r"but is only allowed '(?P<allowed>[^']*)'"),
    # --- the action cannot run
    _p("image-not-found",
       r"Unable to find image '(?P<image>[^']+)'|docker: Error response from daemon: "
       r"(?:manifest unknown|denied|pull access denied)|(?:^|\s)manifest unknown(?:\s|$)"),
    _p("non-linux-runner",
       r"This action is only able to run under GNU/Linux environments"
       r"|Container action is only supported on Linux|docker: command not found"),
    _p("container-job", r"create-docker-action\.py'?: \[Errno 2\] No such file or directory"),
    _p("caller-environment-protection",
       r"is not allowed to deploy to (?P<environment>\S+?) due to environment protection "
       r"rules"),
    # --- credentials instead of trusted publishing
    _p("password-login",
       r"Password-based uploads disabled|has two factor auth enabled, an API Token or Trusted "
       r"Publisher must be used"),
    _p("attestations-need-trusted-publishing",
       r"Attestations are only supported when using Trusted Publishing"),
    _p("invalid-auth", r"Invalid or non-existent authentication information"),
    _p("token-scope",
       r"project-scoped token is not valid for project:? '(?P<project>[^']+)'"),
    # --- upload-time refusals
    _p("project-not-allowed",
       r"OIDC scoped token is not valid for project:? '(?P<project>[^']+)'"
       r"|The (?:token|user '[^']*') isn't allowed to upload to (?:the )?project "
       r"'(?P<project2>[^']+)'"),
    _p("non-user-identity", r"Non-user identities cannot create new projects"),
    _p("file-exists", r"File already exists"),
    _p("duplicate-attestation",
       r"already has a publish attestation|already have publish attestations"),
    _p("attestation-identity-mismatch",
       r"Certificate's Build Config URI \((?P<uri>[^)]*)\) does not match expected Trusted "
       r"Publisher \((?P<expected>[^)]*)\)"),
    _p("invalid-attestations", r"Invalid attestations supplied",
       unless=("attestation-identity-mismatch", "attestations-need-trusted-publishing")),
    _p("metadata-too-new",
       r"'2\.[45]' is not a valid metadata version|unrecognized or malformed field "
       r"'license-(?:file|expression)'|license-expression introduced in metadata version"),
    _p("no-distributions",
       r"no Python distribution packages to publish in the directory"
       r"|Unknown distribution format|No such file or directory: '/github/workspace/dist'"
       r"|InvalidDistribution: Cannot find file \(or expand pattern\)"),
    # --- warnings worth a note
    _p("reusable-workflow-warning",
       r"calling workflow is a reusable workflow"),
    _p("master-branch-sunset", r"\"master\" branch of this project has been sunset"),
)

# For each kind, literals of which every match contains at least one: a line holding none
# is rejected by ``in`` (C speed) before any regex runs. A test checks them on every
# fixture line the regex matches.
_GUARDS: dict[str, tuple[str, ...]] = {
    "pull-request-target": ("pull_request_target",),
    "invalid-publisher": ("no corresponding publisher", "invalid-publisher"),
    "invalid-pending-publisher": ("project already exists", "invalid-pending-publisher"),
    "invalid-reuse-token": ("already used", "invalid-reuse-token"),
    "invalid-token": ("malformed or invalid token", "invalid-token"),
    "unknown-issuer": ("issuer",),
    "invalid-payload": ("invalid-payload", "malformed JWT"),
    "not-enabled": ("not enabled", "publishing disabled", "not-enabled"),
    "audience-not-supported": ("audience retrieval failed",),
    "exchange-failed": ("exchange failure", "Token request failed", "token request failed",
                        "returned error code", "TrustedPublishingFailure", "token-minting"),
    "fork-pull-request": ("on a fork",),
    "gitlab-id-token-missing": ("GitLab: Environment variable",),
    "missing-id-token": ("ACTIONS_ID_TOKEN_REQUEST", "OIDC token", "id-token: write",
                         "OpenID Connect", "Actions OIDC"),
    "uv-missing-credentials": ("Missing credentials",),
    "uv-no-oidc": ("No OIDC token discovered",),
    "twine-no-credentials": ("Credential not found", "not supported for trusted publishing"),
    "caller-denies-id-token": ("nested job",),
    "image-not-found": ("Unable to find image", "manifest unknown", "Error response from"),
    "non-linux-runner": ("GNU/Linux", "only supported on Linux", "docker: command not found"),
    "container-job": ("create-docker-action",),
    "caller-environment-protection": ("not allowed to deploy",),
    "password-login": ("Password-based uploads", "two factor auth"),
    "attestations-need-trusted-publishing": ("only supported when using Trusted",),
    "invalid-auth": ("non-existent authentication",),
    "token-scope": ("project-scoped token",),
    "project-not-allowed": ("scoped token is not valid", "allowed to upload to"),
    "non-user-identity": ("Non-user identities",),
    "file-exists": ("File already exists",),
    "duplicate-attestation": ("publish attestation",),
    "attestation-identity-mismatch": ("Build Config URI",),
    "invalid-attestations": ("Invalid attestations",),
    "metadata-too-new": ("metadata version", "license-"),
    "no-distributions": ("distribution packages to publish", "distribution format",
                         "/github/workspace/dist", "Cannot find file"),
    "reusable-workflow-warning": ("reusable workflow",),
    "master-branch-sunset": ("has been sunset",),
}
PATTERNS = tuple(replace(p, guard=_GUARDS[p.kind]) for p in PATTERNS)
_ANY_GUARD_RE = lazy_re("|".join(re.escape(literal) for literal in sorted(
    {literal for literals in _GUARDS.values() for literal in literals}, key=len, reverse=True)))
MAX_PER_KIND = 100  # failures kept per kind (a log repeating one error keeps the others)

# Every text recognised below contains one of these; only lines holding one are looked at
# (with the lines of a claims block that follow). ``str.find`` per trigger over the whole
# text runs in C, where a per-line regex over hundreds of thousands of build-output lines
# would dominate the run time.
TRIGGERS = ("oken", "TOKEN", "ublish", "OIDC", "JWT", "image", "manifest", "Linux", "docker",
            "deploy", "assword", "two factor", "ttestation", "Build Config", "authentication",
            "project", "already exists", "etadata", "license-", "istribution", "/dist",
            "reusable", "sunset", "audience", "issuer", "redential", "fork", "nested job",
            "`: `", "pypi.org", "Upload", "Checking", "twine", "%0A")

# Texts that name the uploading tool, and the CI platform (literals: checked on many lines).
_TOOL_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gh-action-pypi-publish", ("pypa/gh-action-pypi-publish",
                                "Trusted publishing exchange failure", "oidc-exchange.py")),
    ("uv", ("uv publish", "Token claims, which must match", "OidcTokenClaims",
            "is trusted publishing correctly configured?")),
    ("pdm", ("pdm publish",)),
    ("twine", ("twine upload", "TrustedPublishingFailure",
               "The token request failed; the index server")),
)
_TOOL_ORDER = ("gh-action-pypi-publish", "uv", "pdm", "twine")
_PLATFORM_MARKERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gitlab", ("Running with gitlab-runner", 'Executing "step_script" stage',
                "GitLab: Environment variable", "ERROR: Job failed:", "CI_JOB_JWT",
                "ci_config_ref_uri")),
    ("github", ("Current runner version", "ACTIONS_ID_TOKEN_REQUEST", "GITHUB_WORKSPACE",
                "GITHUB_REPOSITORY", "GITHUB_REF", "Complete job name", "job_workflow_ref")),
)
_INDEX_RE = lazy_re(
    r"https?://(?P<host>upload\.test\.pypi\.org|test\.pypi\.org|upload\.pypi\.org"
    r"|pypi\.org)(?P<path>/[^\s'\"`)]*)?|for audience (?P<audience>testpypi|pypi)\b")
_DIST_RE = lazy_re(
    r"\b(?:Uploading|Checking|Publishing)\s+(?:[^\s]*/)?(?P<file>[A-Za-z0-9][^\s/:'\"]*?"
    r"(?:\.whl|\.tar\.gz|\.zip))\b")

GITHUB_CLAIMS = ("sub", "repository", "repository_owner", "repository_owner_id",
                 "workflow_ref", "job_workflow_ref", "ref", "environment", "event_name",
                 "repository_id", "workflow_sha", "job_workflow_sha", "ref_type", "actor")
GITLAB_CLAIMS = ("project_path", "ci_config_ref_uri", "namespace_path", "pipeline_source",
                 "ref_path", "ref_type")
_KNOWN_CLAIMS = frozenset(GITHUB_CLAIMS + GITLAB_CLAIMS)
_CLAIM_BULLET_RE = lazy_re(r"^\s*[*-]\s+`(?P<name>[a-z_]+)`:\s+`?(?P<value>.*?)`?\s*$")
_UV_CLAIMS_RE = lazy_re(r"Token claims, which must match the (?:PyPI|publisher) "
                           r"configuration:\s*(?P<rest>.*)$")
_RUST_FIELD_RE = lazy_re(
    r"(?:r#)?(?P<name>[a-z_]+): (?:(?P<none>None)\b|(?:Some\()?\"(?P<value>(?:[^\"\\]|\\.)*)\""
    r"|(?P<open>Some\()\s*$)")
_RUST_STRING_LINE_RE = lazy_re(r"^\"(?P<value>(?:[^\"\\]|\\.)*)\",?$")
_RUST_STRING_RE = lazy_re(r"\"(?:[^\"\\]|\\.)*\"")
_RUST_ESCAPE_RE = lazy_re(r"\\(u\{[0-9a-fA-F]{1,6}\}|.)")


def _rust_unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code.startswith("u{"):
            try:
                return chr(int(code[2:-1], 16))
            except ValueError:
                return code
        return {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(code, code)
    return _RUST_ESCAPE_RE.sub(one, text)


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_EXCERPT else text[:MAX_EXCERPT - 1] + "…"


def _index_of(match: re.Match[str]) -> str | None:
    if match.group("audience"):
        return match.group("audience")
    host = match.group("host")
    path = match.group("path") or ""
    if "test" in host:
        return "testpypi"
    if host == "upload.pypi.org" or path.startswith(("/legacy", "/_/oidc", "/manage", "/p/")):
        return "pypi"
    return None  # https://pypi.org/simple and the like: pip, not the upload


@dataclass
class _Parser:
    """One pass over the lines; keeps only what it recognises."""

    failures: list[Failure] = field(default_factory=list)
    seen: set[tuple[str, int]] = field(default_factory=set)
    per_kind: dict[str, int] = field(default_factory=dict)
    claim_sets: list[ClaimSet] = field(default_factory=list)
    tools: dict[str, int] = field(default_factory=dict)
    platform: str | None = None
    index_mentions: list[tuple[int, str]] = field(default_factory=list)
    distributions: list[tuple[int, str]] = field(default_factory=list)
    # the claims block being read
    bullet_claims: list[Claim] = field(default_factory=list)
    bullet_last: int = 0
    uv_claims: list[Claim] | None = None
    uv_start: int = 0
    uv_depth: int = 0
    uv_pending: str | None = None

    def feed(self, number: int, text: str) -> None:
        if self.uv_claims is not None and number > self.uv_start:
            self._uv_line(number, text)
            return
        self._markers(text)
        self._patterns(number, text)
        self._bullet(number, text)
        uv = _UV_CLAIMS_RE.search(text) if "oken claims" in text else None
        if uv:
            self._flush_bullets()
            self.uv_claims, self.uv_start, self.uv_depth = [], number, 0
            self.uv_pending = None
            self._uv_line(number, uv.group("rest"))
        if "pypi.org" in text or "for audience" in text:
            for match in _INDEX_RE.finditer(text):
                index = _index_of(match)
                if index and (not self.index_mentions or self.index_mentions[-1][1] != index):
                    self.index_mentions.append((number, index))
        if len(self.distributions) < 50 and ("Upload" in text or "Check" in text or
                                             "Publish" in text):
            for match in _DIST_RE.finditer(text):
                self.distributions.append((number, match.group("file")))

    def _markers(self, text: str) -> None:
        for tool, literals in _TOOL_MARKERS:
            if tool not in self.tools and any(literal in text for literal in literals):
                self.tools[tool] = len(self.tools)
        if self.platform is None:
            for platform, literals in _PLATFORM_MARKERS:
                if any(literal in text for literal in literals):
                    self.platform = platform
                    break

    def _patterns(self, number: int, text: str) -> None:
        if not _ANY_GUARD_RE.search(text):
            return
        found: dict[str, re.Match[str]] = {}
        for pattern in PATTERNS:
            if not any(literal in text for literal in pattern.guard):
                continue
            match = pattern.regex.search(text)
            if match:
                found[pattern.kind] = match
        if not found:
            return
        for pattern in PATTERNS:
            match = found.get(pattern.kind)
            if match is None or any(kind in found for kind in pattern.unless):
                continue
            if pattern.tool and pattern.tool not in self.tools:
                self.tools[pattern.tool] = len(self.tools)
            if self.per_kind.get(pattern.kind, 0) >= MAX_PER_KIND:
                continue
            values = dict(match.groupdict())
            if pattern.extra is not None:
                more = pattern.extra.search(text)
                values |= more.groupdict() if more else {}
            data = tuple((name.rstrip("0123456789"), value)
                         for name, value in values.items() if value)
            if (pattern.kind, number) in self.seen:
                continue  # one physical line (a %0A-encoded message) counts once per kind
            self.seen.add((pattern.kind, number))
            self.per_kind[pattern.kind] = self.per_kind.get(pattern.kind, 0) + 1
            self.failures.append(Failure(pattern.kind, number, _excerpt(text), data))

    # -- the action's rendered claims (and the same bullets in the step summary)
    def _bullet(self, number: int, text: str) -> None:
        if "`" not in text:
            if self.bullet_claims and number - self.bullet_last > 12:
                self._flush_bullets()
            return
        match = _CLAIM_BULLET_RE.match(text)
        if not match or match.group("name") not in _KNOWN_CLAIMS:
            if self.bullet_claims and number - self.bullet_last > 12:
                self._flush_bullets()
            return
        name = match.group("name")
        if self.bullet_claims and (number - self.bullet_last > 12 or
                                   any(c.name == name for c in self.bullet_claims)):
            self._flush_bullets()
        value: str | None = match.group("value")
        self.bullet_claims.append(Claim(name, None if value == "MISSING" else value, number))
        self.bullet_last = number

    def _flush_bullets(self) -> None:
        if len(self.bullet_claims) >= 2:
            self.claim_sets.append(ClaimSet("gh-action-pypi-publish",
                                            self.bullet_claims[0].line,
                                            tuple(self.bullet_claims)))
        self.bullet_claims = []

    # -- uv's Debug rendering of OidcTokenClaims (pretty or one-line)
    def _uv_line(self, number: int, text: str) -> None:
        assert self.uv_claims is not None
        stripped = text.strip()
        if self.uv_pending is not None:
            string = _RUST_STRING_LINE_RE.match(stripped)
            if string:
                self.uv_claims.append(Claim(self.uv_pending,
                                            _rust_unescape(string.group("value")), number))
                self.uv_pending = None
        for match in _RUST_FIELD_RE.finditer(stripped):
            name = match.group("name")
            if match.group("open"):
                self.uv_pending = name
            elif match.group("none"):
                self.uv_claims.append(Claim(name, None, number))
            else:
                self.uv_claims.append(Claim(name, _rust_unescape(match.group("value")), number))
        bare = _RUST_STRING_RE.sub("", stripped)
        self.uv_depth += bare.count("{") + bare.count("(") - bare.count("}") - bare.count(")")
        opened = self.uv_depth > 0 or bool(self.uv_claims)
        closed = opened and self.uv_depth <= 0 and (number > self.uv_start or "}" in bare)
        blank_after = number > self.uv_start and not stripped and self.uv_depth <= 0
        if closed or blank_after or number - self.uv_start > 40:
            self._flush_uv()

    def _flush_uv(self) -> None:
        if self.uv_claims:
            self.claim_sets.append(ClaimSet("uv", self.uv_start, tuple(self.uv_claims)))
            self.tools.setdefault("uv", len(self.tools))
        self.uv_claims = None
        self.uv_pending = None

    def finish(self, last: int, first: int) -> LogFacts:
        self._flush_bullets()
        if self.uv_claims is not None:
            self._flush_uv()
        tool = next((t for t in _TOOL_ORDER if t in self.tools), None)
        return LogFacts(tuple(self.failures), tuple(self.claim_sets), tool, self.platform,
                        tuple(self.index_mentions), tuple(self.distributions), last, first)


def _trigger_lines(text: str) -> list[int]:
    """Start offsets of the lines that contain a trigger, in order."""
    starts: set[int] = set()
    for trigger in TRIGGERS:
        at = text.find(trigger)
        while at >= 0:
            line_start = text.rfind("\n", 0, at) + 1
            starts.add(line_start)
            end = text.find("\n", at)
            if end < 0:
                break
            at = text.find(trigger, end)
    return sorted(starts)


_HEAD_LINES = 200
# GitHub's log lines: a timestamp with 7 fractional digits, or a ``##[`` marker.
_GITHUB_HEAD_RE = lazy_re(
    r"^(?:[^\t]*\t[^\t]*\t)?\ufeff?(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z |##\[)")


def parse_log(text: str, first_line: int = 1, every_line: bool = False) -> LogFacts:
    """The failures, claims, tool, platform and index found in ``text``, whose first line
    is line ``first_line`` of the log. ``every_line`` looks at every line instead of the
    lines holding a trigger (same result, slower: for tests)."""
    parser = _Parser()
    for raw in text.split("\n", _HEAD_LINES)[:_HEAD_LINES]:
        if _GITHUB_HEAD_RE.match(raw):
            parser.platform = "github"
            break
        if "section_start:" in raw or raw.startswith("Running with gitlab-runner"):
            parser.platform = "gitlab"
            break
    offsets = _every_line(text) if every_line else _trigger_lines(text)
    number = first_line
    counted = 0  # offset up to which newlines are counted into ``number``
    done = 0  # offset before which lines were already fed (a claims block read ahead)
    for start in offsets:
        if start < done:
            continue
        number += text.count("\n", counted, start)
        counted = start
        at = start
        while True:
            end = text.find("\n", at)
            stop = len(text) if end < 0 else end
            for line in logical_lines(text[at:min(stop, at + MAX_LINE)]):
                if line:
                    parser.feed(number, line)
            done = stop + 1
            if parser.uv_claims is None or end < 0:
                break
            at = end + 1  # inside uv's claims block: read the following lines too
            number += 1
            counted = at
    count = text.count("\n") + (0 if not text or text.endswith("\n") else 1)
    return parser.finish(first_line - 1 + count, first_line)


def _every_line(text: str) -> list[int]:
    offsets = [0]
    at = text.find("\n")
    while at >= 0:
        offsets.append(at + 1)
        at = text.find("\n", at + 1)
    if offsets[-1] == len(text) and len(offsets) > 1:
        offsets.pop()
    return offsets
