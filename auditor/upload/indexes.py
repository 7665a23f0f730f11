"""Package-index URLs: which index a URL names, and whether it is an upload endpoint."""

from __future__ import annotations

from urllib.parse import urlsplit

from auditor.output.records import record

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"
TESTPYPI_UPLOAD = "https://test.pypi.org/legacy/"

# Names twine, poetry, pdm, hatch and maturin accept for the two public indexes.
_NAMED = {
    "pypi": "pypi", "main": "pypi",
    "testpypi": "testpypi", "test-pypi": "testpypi", "test_pypi": "testpypi", "test": "testpypi",
}


def index_of_name(name: str) -> str | None:
    """The index a repository *name* (``-r testpypi``) denotes, if it is a well-known one."""
    return _NAMED.get(name.strip().lower())


def _host(url: str) -> str:
    """The lower-cased host of a URL, or "" when it has none or cannot be parsed."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:  # an unclosed "[" of an IPv6 host, a bad port...
        return ""


def index_of_url(url: str) -> str:
    """``pypi``, ``testpypi``, ``other`` or ``unknown`` (a computed host) for an upload URL."""
    value = url.strip()
    if value.startswith("$"):
        return "unknown"
    scheme, sep, rest = value.partition("://")
    authority = rest.split("/", 1)[0] if sep else ""
    if "${{" in scheme or "$" in authority or "{{" in authority:
        return "unknown"  # the host itself is computed
    # a literal host decides the index even when the path is computed (`…/${{ env.REPO }}/`)
    host = _host(f"{scheme}://{authority}/" if sep else value)
    if host in ("upload.pypi.org", "pypi.org", "www.pypi.org", "pypi.python.org"):
        return "pypi"
    if host in ("test.pypi.org", "upload.test.pypi.org"):
        return "testpypi"
    if not host:
        return "unknown"
    return "other"


@record
class UrlProblem:
    """Why an upload URL is not an upload endpoint, and the URL meant."""

    message: str
    severity: str | None = None  # None: the rule's default


_DNS_NAME_MAX = 253  # the longest name DNS resolves


def _near_pypi_host(host: str) -> bool:
    """A typo of a PyPI host (similarity 0.8 or more). ``real_quick_ratio`` is an upper bound
    from the lengths alone, so a long host is rejected in constant time instead of the
    quadratic full comparison (a 100 KB host took over a minute). A host longer than DNS
    allows (253 characters) is no typo of anything and is not compared at all."""
    if len(host) > _DNS_NAME_MAX:
        return False
    for known in ("upload.pypi.org", "test.pypi.org", "pypi.org"):
        from difflib import SequenceMatcher  # only for a host that is not PyPI's

        matcher = SequenceMatcher(None, host, known)
        if matcher.real_quick_ratio() >= 0.8 and matcher.ratio() >= 0.8:
            return True
    return False


def upload_url_problem(url: str) -> UrlProblem | None:
    """Why ``url`` is not a working upload endpoint for PyPI/TestPyPI (or is plain HTTP)."""
    value = url.strip()
    if "${{" in value:
        return None
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").lower()
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host: not an upload endpoint
        return UrlProblem(f"`{value}` is not a valid URL")
    path = parts.path or "/"
    if parts.scheme == "http":
        return UrlProblem(
            f"`{value}` uses plain HTTP: the upload credential and the files travel unencrypted; "
            "use https", "high")
    index = index_of_url(value)
    if index == "other":
        if ("pypi" in host and host.endswith(".org")) or _near_pypi_host(host):
            return UrlProblem(f"`{value}` is not a PyPI host (typo?); PyPI uploads go to "
                              f"{PYPI_UPLOAD} and TestPyPI uploads to {TESTPYPI_UPLOAD}")
        return None
    expected = PYPI_UPLOAD if index == "pypi" else TESTPYPI_UPLOAD
    if host == "upload.test.pypi.org":
        return UrlProblem(f"`{value}`: the host upload.test.pypi.org does not exist; the "
                          f"TestPyPI upload endpoint is {TESTPYPI_UPLOAD}")
    if "/simple" in path:
        return UrlProblem(f"`{value}` is the download (simple) index, not the upload endpoint; "
                          f"use {expected}")
    if index == "pypi" and host != "upload.pypi.org":
        return UrlProblem(f"`{value}` is not the PyPI upload endpoint; use {PYPI_UPLOAD}")
    if not path.rstrip("/").endswith("/legacy"):
        return UrlProblem(f"`{value}` is not the upload endpoint (missing `/legacy/`); "
                          f"use {expected}")
    return None
