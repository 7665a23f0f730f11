"""The GitHub REST client: environments, secrets' names, git objects, comparisons.

Its transport sends ``Accept: application/vnd.github+json``, ``X-GitHub-Api-Version:
2022-11-28`` and, when a token is set and the API URL is https (or loopback http), the
token — to the API origin only (``transport``). 401, 403 and 404 mean "could not see": a
notice naming the permission GitHub asks for (``X-Accepted-GitHub-Permissions``), never
"does not exist"; only a list that answered 200 can show that something is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from auditor.engine.notices import Notice
from auditor.online.transport import Answer, Transport
from auditor.output.records import record

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"


def seg(value: str) -> str:
    """A path segment, ``/`` included, percent-encoded (``release/pypi`` → ``release%2Fpypi``)."""
    return quote(value, safe="")


@record
class Repo:
    """What ``GET /repos/{owner}/{repo}`` says that the rules need."""

    full_name: str
    private: bool
    default_branch: str


def unseen(answer: Answer, what: str, rule: str | None, token: bool) -> Notice:
    """A notice for an answer that is not 200: what could not be read and what would help."""
    permission = answer.headers.get("x-accepted-github-permissions")
    if answer.status == 404:
        reason = ("GitHub answers 404 when it does not exist or the token cannot see it"
                  if token else "GitHub answers 404 when it does not exist or is private; "
                                "set GH_TOKEN")
    elif answer.status == 401:
        reason = "the token was refused (expired or revoked?)" if token else \
            "this needs authentication: set GH_TOKEN"
    elif answer.status == 403:
        reason = "the token lacks a permission" if token else "set GH_TOKEN"
    else:
        reason = f"GitHub answered {answer.status}"
    if permission:
        reason += f"; GitHub asks for {permission}"
    return Notice(f"could not read {what}: {reason}", answer.endpoint, answer.status, rule)


def _public(data: object) -> bool:
    """Whether a repository answer may be cached: not when the repository is private."""
    return isinstance(data, dict) and data.get("private") is False and \
        data.get("visibility", "public") == "public"


class GitHub:
    """GitHub REST over one :class:`Transport` (the API origin)."""

    def __init__(self, transport: Transport, has_token: bool) -> None:
        self.transport = transport
        self.has_token = has_token

    def _get(self, path: str, what: str, rule: str | None,
             store: bool | Callable[[object], bool] = True) -> Answer | Notice:
        answer = self.transport.get(path, accept=ACCEPT, store=store, rule=rule)
        if isinstance(answer, Notice) or answer.status == 200:
            return answer
        return unseen(answer, what, rule, self.has_token)

    def _list(self, path: str, key: str | None, what: str, rule: str | None,
              store: bool = True) -> list[dict[str, object]] | Notice:
        sep = "&" if "?" in path else "?"
        found = self.transport.get_pages(f"{path}{sep}per_page=100", key, accept=ACCEPT,
                                         store=store, rule=rule)
        if isinstance(found, Notice):
            return found
        if isinstance(found, Answer):
            return unseen(found, what, rule, self.has_token)
        return [item for item in found if isinstance(item, dict)]

    def repository(self, owner: str, name: str, rule: str | None = None) -> Repo | Notice:
        answer = self._get(f"/repos/{seg(owner)}/{seg(name)}", f"repository {owner}/{name}",
                           rule, store=_public)
        if isinstance(answer, Notice):
            return answer
        data = answer.data
        if not isinstance(data, dict):
            return Notice("the answer does not have the documented shape", answer.endpoint,
                          200, rule)
        return Repo(str(data.get("full_name") or f"{owner}/{name}"),
                    data.get("private") is True or data.get("visibility") == "private",
                    str(data.get("default_branch") or "main"))

    def environments(self, owner: str, name: str, store: bool, rule: str | None
                     ) -> list[dict[str, object]] | Notice:
        return self._list(f"/repos/{seg(owner)}/{seg(name)}/environments", "environments",
                          f"the environments of {owner}/{name}", rule, store)

    def branch_policies(self, owner: str, name: str, environment: str, store: bool,
                        rule: str | None) -> list[dict[str, object]] | Notice:
        return self._list(
            f"/repos/{seg(owner)}/{seg(name)}/environments/{seg(environment)}"
            "/deployment-branch-policies", "branch_policies",
            f"the deployment branch and tag policies of environment {environment}", rule,
            store)

    def secret_names(self, path: str, what: str, rule: str | None) -> list[str] | Notice:
        """Names of the secrets a listing shows (never stored on disk)."""
        found = self._list(path, "secrets", what, rule, store=False)
        if isinstance(found, Notice):
            return found
        return [str(item["name"]) for item in found if isinstance(item.get("name"), str)]

    def _object(self, path: str, what: str, rule: str | None
                ) -> dict[str, object] | Notice | None:
        """A JSON object at ``path``: None on 404, a notice naming ``what`` otherwise."""
        answer = self.transport.get(path, accept=ACCEPT, rule=rule)
        if isinstance(answer, Notice):
            return answer
        if answer.status == 404:
            return None
        if answer.status != 200 or not isinstance(answer.data, dict):
            return unseen(answer, what, rule, self.has_token)
        return answer.data

    def git_object(self, owner: str, name: str, kind: str, sha: str, rule: str | None
                   ) -> dict[str, object] | Notice | None:
        """``git/commits/{sha}`` or ``git/tags/{sha}``: the object, None on 404."""
        return self._object(f"/repos/{seg(owner)}/{seg(name)}/git/{kind}/{sha}",
                            f"{owner}/{name} {kind[:-1]} {sha[:12]}", rule)

    def tag_ref(self, owner: str, name: str, tag: str, rule: str | None
                ) -> dict[str, object] | Notice | None:
        """``git/ref/tags/{tag}`` (an exact match, unlike ``matching-refs``): None on 404."""
        return self._object(
            f"/repos/{seg(owner)}/{seg(name)}/git/ref/tags/{quote(tag, safe='/')}",
            f"tag {tag} of {owner}/{name}", rule)

    def compare(self, owner: str, name: str, base: str, head: str, rule: str | None
                ) -> str | Notice | None:
        """``status`` of ``compare/{base}...{head}`` (behind/identical: ``base`` contains
        ``head``); None on 404."""
        answer = self.transport.get(
            f"/repos/{seg(owner)}/{seg(name)}/compare/{quote(base, safe='/')}...{head}"
            "?per_page=1", accept=ACCEPT, rule=rule)
        if isinstance(answer, Notice):
            return answer
        if answer.status == 404:
            return None
        if answer.status != 200 or not isinstance(answer.data, dict):
            return unseen(answer, f"a comparison in {owner}/{name}", rule, self.has_token)
        return str(answer.data.get("status", ""))
