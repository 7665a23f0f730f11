"""HTTP for ``--online``: the one module that imports httpx.

A :class:`Transport` talks to one origin (scheme, host, port) and never follows a redirect
or a pagination link off it, so a header set for that origin (the GitHub token) cannot reach
another host. Requests are serial. Each answer is an :class:`Answer` (any status the caller
must judge: 200, 404...) or a :class:`~auditor.engine.notices.Notice` when no usable answer
came: a timeout, a connection error, 5xx/408/429 after the retries, a rate limit, a redirect
to another host, a body over the size cap, or JSON that does not parse.

Retries: at most ``Settings.retries`` more tries on connection errors, 5xx, 408 and 429 —
never on other 4xx — waiting ``Retry-After`` or until ``x-ratelimit-reset`` when that is
within ``Settings.backoff_cap`` seconds, else an exponential backoff; a longer wait is not
taken: the call becomes a notice, and after a primary rate limit (``x-ratelimit-remaining:
0``) no further call goes to that origin in this run.
"""

from __future__ import annotations

import email.utils
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from auditor import __version__
from auditor.engine.notices import Notice
from auditor.online.cache import Cache, Entry, max_age
from auditor.online.settings import Settings
from auditor.output.records import record

USER_AGENT = f"pubaudit/{__version__} (+https://pubaudit.readthedocs.io/en/latest/online/)"
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_MAX_REDIRECTS = 3
_MAX_PAGES = 10


@record
class Answer:
    """An HTTP answer the caller judges: ``data`` is the parsed JSON of a 2xx (else None)."""

    status: int
    data: object
    headers: Mapping[str, str]
    endpoint: str  # "GET <url>", for notices
    from_cache: bool = False


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(),
            parts.port or {"http": 80, "https": 443}.get(parts.scheme))


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


def next_link(header: str | None) -> str | None:
    """The ``rel="next"`` URL of a ``Link`` header."""
    if not header:
        return None
    for part in header.split(","):
        url, _, params = part.partition(";")
        if any(p.strip().replace(" ", "") in ('rel="next"', "rel=next")
               for p in params.split(";")):
            return url.strip().strip("<>")
    return None


class Progress:
    """The progress line on stderr while calls run (only on a terminal, never with -q)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.calls = 0
        self._shown = False

    def step(self, url: str) -> None:
        self.calls += 1
        if not self.enabled:
            return
        parts = urlsplit(url)
        where = f"{parts.hostname}{parts.path}"
        sys.stderr.write(f"\r\x1b[Kpubaudit: online call {self.calls}: {where[:70]}")
        sys.stderr.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self._shown = False


@dataclass(slots=True)
class Counters:
    """Calls made, answered from the cache without a call, and revalidated with a 304."""

    requests: int = 0
    cache_hits: int = 0
    revalidated: int = 0
    by_origin: dict[str, int] = field(default_factory=dict)


class Transport:
    """Serial GETs to one origin, with retries, a size cap, the cache and notices."""

    def __init__(self, base_url: str, settings: Settings, *, headers: Mapping[str, str],
                 cache: Cache | None, progress: Progress, counters: Counters,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = _origin(self.base_url)
        self.settings = settings
        self.cache = cache
        self.progress = progress
        self.counters = counters
        self.sleep = sleep
        self.halted: str | None = None  # why no more calls go to this origin
        timeout = httpx.Timeout(settings.timeouts.read, connect=settings.timeouts.connect)
        self._client = httpx.Client(
            headers={"User-Agent": USER_AGENT, **headers}, timeout=timeout,
            follow_redirects=False, transport=httpx.HTTPTransport(retries=0))

    def close(self) -> None:
        self._client.close()

    def url(self, path: str) -> str:
        return path if "://" in path else self.base_url + path

    # ------------------------------------------------------------------ one answer

    def get(self, path: str, *, accept: str = "application/json",
            store: bool | Callable[[object], bool] = True, rule: str | None = None
            ) -> Answer | Notice:
        """GET ``path`` (below the base URL, or a full URL on the same origin). ``store``
        may be a predicate on the parsed answer (a private repository's is not stored)."""
        url = self.url(path)
        endpoint = f"GET {url}"
        if _origin(url) != self.origin:
            return Notice(f"not following a link to another host ({urlsplit(url).hostname})",
                          endpoint, None, rule)
        if self.halted is not None:
            return Notice(self.halted, endpoint, None, rule)
        entry = self.cache.lookup(url, accept) if self.cache is not None else None
        if entry is not None and entry.fresh(time.time()):
            self.counters.cache_hits += 1
            return self._from_entry(entry, endpoint, rule)
        tries = 0
        redirects = 0
        while True:
            headers = {"Accept": accept}
            if entry is not None and entry.etag:
                headers["If-None-Match"] = entry.etag
            self.progress.step(url)
            self.counters.requests += 1
            host = urlsplit(url).hostname or ""
            self.counters.by_origin[host] = self.counters.by_origin.get(host, 0) + 1
            try:
                status, response_headers, body = self._fetch(url, headers)
            except httpx.TimeoutException as exc:
                connecting = isinstance(exc, httpx.ConnectTimeout)
                if connecting and tries < self.settings.retries:
                    tries += 1
                    self.sleep(self._backoff(tries))
                    continue
                what, limit = (("connecting", self.settings.timeouts.connect) if connecting
                               else ("waiting for the answer", self.settings.timeouts.read))
                return Notice(f"timed out {what} (after {limit:g} s"
                              f"{f', {tries + 1} tries' if tries else ''})", endpoint, None,
                              rule)
            except _TooLarge:
                return Notice(f"the answer is larger than {self.settings.max_body} bytes; "
                              "not read", endpoint, None, rule)
            except httpx.TransportError as exc:
                if tries < self.settings.retries:
                    tries += 1
                    self.sleep(self._backoff(tries))
                    continue
                return Notice(f"no answer: {type(exc).__name__}"
                              f"{': ' + str(exc) if str(exc) else ''}", endpoint, None, rule)
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, UnicodeError) as exc:
                return Notice(f"the request could not be made: {type(exc).__name__}",
                              endpoint, None, rule)
            if status == 304 and entry is not None:
                self.counters.revalidated += 1
                refreshed = Entry(entry.url, entry.body, entry.etag, time.time(),
                                  max_age(response_headers.get("cache-control")), entry.link)
                if store is not False and self.cache is not None:  # it was stored before
                    self.cache.store(url, accept, refreshed)
                return self._from_entry(refreshed, endpoint, rule)
            if 300 <= status < 400 and "location" in response_headers:
                target = urljoin(url, response_headers["location"])
                if _origin(target) != self.origin:
                    return Notice(f"redirected to another host ({urlsplit(target).hostname});"
                                  " not followed", endpoint, status, rule)
                redirects += 1
                if redirects > _MAX_REDIRECTS:
                    return Notice("too many redirects", endpoint, status, rule)
                url, entry = target, None
                continue
            wait = self._limit_wait(status, response_headers, tries)
            if wait is not None:
                if wait > self.settings.backoff_cap or tries >= self.settings.retries:
                    return self._limited(status, response_headers, wait, endpoint, rule)
                tries += 1
                self.sleep(wait)
                continue
            if 200 <= status < 300:
                try:
                    data = json.loads(body) if body else None
                except (ValueError, RecursionError):
                    return Notice("the answer is not valid JSON (garbled or cut short)",
                                  endpoint, status, rule)
                keep = store(data) if callable(store) else store
                if keep and self.cache is not None and status == 200:
                    age = max_age(response_headers.get("cache-control"))
                    etag = response_headers.get("etag")
                    if etag or age:
                        self.cache.store(url, accept, Entry(url, body, etag, time.time(), age,
                                                            response_headers.get("link")))
                return Answer(status, data, response_headers, endpoint)
            return Answer(status, None, response_headers, endpoint)

    def _fetch(self, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self._client.stream("GET", url, headers=headers) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.settings.max_body:
                raise _TooLarge
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.settings.max_body:
                    raise _TooLarge
                chunks.append(chunk)
            return (response.status_code, {k.lower(): v for k, v in response.headers.items()},
                    b"".join(chunks))

    def _from_entry(self, entry: Entry, endpoint: str, rule: str | None) -> Answer | Notice:
        try:
            data = json.loads(entry.body) if entry.body else None
        except (ValueError, RecursionError):
            return Notice("the cached answer is not valid JSON", endpoint, None, rule)
        headers = {"link": entry.link} if entry.link else {}
        return Answer(200, data, headers, endpoint, from_cache=True)

    def _backoff(self, tries: int) -> float:
        return float(min(0.5 * 2 ** (tries - 1), self.settings.backoff_cap))

    def _limit_wait(self, status: int, headers: Mapping[str, str], tries: int) -> float | None:
        """Seconds to wait before trying again, or None when the answer is final."""
        now = time.time()
        exhausted = headers.get("x-ratelimit-remaining") == "0"
        if status == 403 and not exhausted and "retry-after" not in headers:
            return None  # a permission answer, not a limit
        if status not in _RETRY_STATUSES and status != 403:
            return None
        after = _retry_after(headers.get("retry-after"), now)
        if after is not None:
            return after
        if exhausted:
            try:
                return max(float(headers.get("x-ratelimit-reset", "")) - now, 0.0)
            except ValueError:
                return float("inf")
        if status == 403:
            return None
        if status == 429:
            return 60.0  # GitHub: without a hint, wait at least a minute
        return self._backoff(tries + 1)

    def _limited(self, status: int, headers: Mapping[str, str], wait: float, endpoint: str,
                 rule: str | None) -> Notice:
        if headers.get("x-ratelimit-remaining") == "0":
            reset = headers.get("x-ratelimit-reset", "")
            when = (time.strftime("%H:%M:%S UTC", time.gmtime(float(reset)))
                    if reset.isdigit() else "later")
            self.halted = (f"rate limit reached (x-ratelimit-remaining: 0); calls resume at "
                           f"{when}; set GH_TOKEN for a higher limit")
            return Notice(self.halted, endpoint, status, rule)
        if status in (429, 403):
            return Notice(f"rate limited: asked to wait {wait:.0f} s, more than the "
                          f"{self.settings.backoff_cap:g} s pubaudit waits; try again later",
                          endpoint, status, rule)
        if wait > self.settings.backoff_cap:
            return Notice(f"the server answered {status} {_reason(status)} and asked to wait "
                          f"{wait:.0f} s; try again later", endpoint, status, rule)
        return Notice(f"the server answered {status} {_reason(status)} "
                      f"{self.settings.retries + 1} times", endpoint, status, rule)

    # ------------------------------------------------------------------ pages

    def get_pages(self, path: str, key: str | None, *, accept: str = "application/json",
                  store: bool = True, rule: str | None = None) -> list[object] | Answer | Notice:
        """Every item of a paginated list (``key``: the list's key in the object, None for
        a bare array), following ``Link: rel="next"``. A non-200 page is returned as its
        :class:`Answer`; a page that is not the expected shape is a notice."""
        items: list[object] = []
        url: str | None = path
        pages = 0
        while url is not None:
            answer = self.get(url, accept=accept, store=store, rule=rule)
            if isinstance(answer, Notice) or answer.status != 200:
                return answer
            data = answer.data
            page = data.get(key) if key is not None and isinstance(data, dict) else data
            if not isinstance(page, list):
                return Notice("the answer does not have the documented shape"
                              f"{f' (no {key!r} list)' if key else ' (not a list)'}",
                              answer.endpoint, answer.status, rule)
            items += page
            pages += 1
            url = next_link(answer.headers.get("link"))
            if pages >= _MAX_PAGES and url is not None:
                return Notice(f"more than {_MAX_PAGES} pages; the rest was not read",
                              answer.endpoint, answer.status, rule)
        return items


class _TooLarge(Exception):
    pass


def _reason(status: int) -> str:
    try:
        return httpx.codes.get_reason_phrase(status)
    except ValueError:
        return ""
