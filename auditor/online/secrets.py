"""``leftover-secret`` and ``missing-secret``: the names of the secrets GitHub holds.

Only names are read (GitHub never returns values), and the listings are never written to
the cache. Listing secrets needs a token with "Secrets: read" (a workflow's ``GITHUB_TOKEN``
cannot have it), so without a token no call is made and each rule gives one notice. GitHub's
own lookup decides what a job sees: environment secrets (only for a job in that
environment), then repository secrets, then organisation secrets shared with the
repository; names are case-insensitive. ``missing-secret`` speaks only when every listing a
job depends on answered 200.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from auditor.checks.findings import Problem
from auditor.engine.notices import Notice
from auditor.facts.context import PublishJob
from auditor.github.refs import secret_refs
from auditor.online.github import seg
from auditor.online.session import Session, Slug
from auditor.output.records import record
from auditor.upload.publish import Credential, PublishStep

LEFTOVER = "leftover-secret"
MISSING = "missing-secret"
_MAX_ENVIRONMENTS = 10  # environments whose secrets are listed (one call each)

_TOKEN_NAME = re.compile(r"^(?:TEST_?)?PYPI(?:_|$)|_(?:TEST_?)?PYPI(?:_API)?_(?:TOKEN|PASSWORD)$|"
                         r"^(?:TWINE_PASSWORD|UV_PUBLISH_TOKEN|UV_PUBLISH_PASSWORD|"
                         r"PDM_PUBLISH_PASSWORD|POETRY_PYPI_TOKEN_[A-Z0-9_]+)$")
_NOT_A_TOKEN = re.compile(r"_(?:USER|USERNAME|URL|REPOSITORY|INDEX)$")


def looks_like_pypi_token(name: str) -> bool:
    upper = name.upper()
    return bool(_TOKEN_NAME.search(upper)) and not _NOT_A_TOKEN.search(upper)


@record
class Listing:
    """The secret names at one place, by upper-cased name."""

    where: str  # "repository secret of o/r", "environment `pypi` secret", ...
    settings: str  # where to delete it
    names: dict[str, str]


def _needs_token(session: Session, rule: str) -> bool:
    if session.github.has_token:
        return False
    session.note(Notice("secret names can only be listed with a token: set GH_TOKEN to a "
                        "token with \"Secrets: read\" on the repository (a workflow's "
                        "GITHUB_TOKEN cannot have it)", None, None, rule))
    return True


def _listing(session: Session, path: str, what: str, where: str, settings: str, rule: str
             ) -> Listing | None:
    names = session.secret_names(path, what, rule)
    if names is None:
        return None
    return Listing(where, settings, {name.upper(): name for name in names})


def _repository(session: Session, slug: Slug, rule: str) -> Listing | None:
    return _listing(session, f"/repos/{seg(slug.owner)}/{seg(slug.name)}/actions/secrets",
                    f"the repository secrets of {slug}", f"repository secret of {slug}",
                    "Settings → Secrets and variables → Actions → Repository secrets", rule)


def _organisation(session: Session, slug: Slug, rule: str) -> Listing | None:
    return _listing(
        session, f"/repos/{seg(slug.owner)}/{seg(slug.name)}/actions/organization-secrets",
        f"the organisation secrets shared with {slug}",
        f"organisation secret of {slug.owner} shared with {slug}",
        f"the organisation's Settings → Secrets and variables → Actions (check that no other "
        f"repository of {slug.owner} still uses it)", rule)


def _environment(session: Session, slug: Slug, name: str, rule: str) -> Listing | None:
    return _listing(
        session, f"/repos/{seg(slug.owner)}/{seg(slug.name)}/environments/{seg(name)}/secrets",
        f"the secrets of environment `{name}`", f"environment `{name}` secret",
        f"Settings → Environments → {name} → Environment "
                                        "secrets", rule)


def _referenced(session: Session) -> set[str]:
    """Every secret name a workflow or local action of the repository mentions."""
    names: set[str] = set()
    for source in session.ctx.repo.sources.values():
        names.update(n.upper() for n in secret_refs("\n".join(source.lines)))
    return names


def _uploads(session: Session) -> list[PublishStep]:
    return [s for pj in session.github_publish_jobs() for s in pj.steps
            if s.index in ("pypi", "testpypi")]


def leftover_secret(session: Session) -> Iterator[Problem]:
    uploads = _uploads(session)
    if not uploads or not all(s.trusted_publishing for s in uploads):
        return  # a token upload still uses its secret (leftover-token speaks of it)
    if _needs_token(session, LEFTOVER):
        return
    scanned = session.scanned(LEFTOVER)
    if scanned is None:
        return
    slug, repo = scanned
    listings = [_repository(session, slug, LEFTOVER), _organisation(session, slug, LEFTOVER)]
    environments = session.environments(slug, repo.private, LEFTOVER) or {}
    for env in list(environments.values())[:_MAX_ENVIRONMENTS]:
        listings.append(_environment(session, slug, str(env.get("name", "")), LEFTOVER))
    in_use = _referenced(session)
    anchor = uploads[0].anchor
    indexes = {s.index for s in uploads}
    revoke = " and ".join(
        f"https://{'test.' if index == 'testpypi' else ''}pypi.org/manage/account/token/"
        for index in sorted(indexes, key=lambda i: i != "pypi"))
    for listing in listings:
        if listing is None:
            continue
        for upper, name in sorted(listing.names.items()):
            if not looks_like_pypi_token(name) or upper in in_use:
                continue
            yield Problem(anchor, (
                f"secret `{name}` ({listing.where}) is named like a PyPI token, and every "
                "upload of this repository uses trusted publishing, so no workflow needs it; "
                "while it exists, any workflow change can read it and upload with it. (1) "
                f"revoke the token on PyPI ({revoke}); (2) delete the secret in "
                f"{listing.settings}"))


def _references(credential: Credential) -> list[str]:
    return [n for n in secret_refs(credential.value) if n.upper() != "GITHUB_TOKEN"]


def missing_secret(session: Session) -> Iterator[Problem]:
    wanted: list[tuple[PublishJob, PublishStep, Credential, list[str]]] = []
    for pj in session.github_publish_jobs():
        if pj.workflow.is_reusable:
            continue  # a called workflow gets its secrets from the caller
        for step in pj.steps:
            for credential in step.secrets:
                names = _references(credential)
                if names:  # `secrets.A || secrets.B`: missing only when none exists
                    wanted.append((pj, step, credential, names))
    if not wanted or _needs_token(session, MISSING):
        return
    scanned = session.scanned(MISSING)
    if scanned is None:
        return
    slug, repo = scanned
    repository = _repository(session, slug, MISSING)
    organisation = _organisation(session, slug, MISSING)
    if repository is None or organisation is None:
        return
    for pj, step, credential, names in wanted:
        env = pj.job.environment
        if env is not None and env.is_expression:
            continue  # which environment's secrets apply is decided at run time
        visible = set(repository.names) | set(organisation.names)
        places = []
        if env is not None and env.name:
            environments = session.environments(slug, repo.private, MISSING)
            if environments is None:
                continue
            if env.name.lower() in environments:
                listing = _environment(session, slug, env.name, MISSING)
                if listing is None:
                    continue
                visible |= set(listing.names)
            places.append(f"environment `{env.name}`")
        if any(name.upper() in visible for name in names):
            continue
        places += [f"the repository {slug}", "the organisation secrets shared with it"]
        effect = (f"`{credential.name}` is empty and the action silently uses trusted "
                  "publishing instead" if step.method == "gh-action-pypi-publish" else
                  f"`{credential.name}` is empty and the upload fails (403 from PyPI)")
        shown = " or ".join(f"`secrets.{name}`" for name in names)
        yield Problem(credential.anchor, (
            f"{shown} does not exist where job `{pj.job.job_id}` can see it (not in "
            f"{', '.join(places[:-1])} or {places[-1]}): GitHub substitutes an empty string, "
            f"so {effect}. Remove `{credential.name}` and register this job as a trusted "
            "publisher on PyPI (`pubaudit publishers` prints the values); only where "
            f"trusted publishing is not possible, create the secret `{names[0]}` instead"))


def stored_secrets(session: Session, names: list[str], environments: list[str]
                   ) -> dict[str, tuple[str, ...]] | None:
    """``history --online``: where each of ``names`` is stored today (repository,
    organisation, each of ``environments``), by the name as given; ``None`` when the
    repository's own list could not be read (then "not stored" cannot be said)."""
    rule = "history"
    if not names or _needs_token(session, rule):
        return None
    slug = session.slug(rule)
    if slug is None:
        return None
    repository = _repository(session, slug, rule)
    if repository is None:
        return None
    listings = [repository, *(found for found in (
        _organisation(session, slug, rule),
        *(_environment(session, slug, name, rule) for name in environments))
        if found is not None)]
    return {name: tuple(listing.where for listing in listings if name.upper() in listing.names)
            for name in names}
