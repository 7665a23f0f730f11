"""The on-disk cache of ``--online`` answers: ETag revalidation with an expiry.

One JSON file per (URL, Accept, token identity), named by the SHA-256 of the three; the
token identity is itself a salted hash, so neither the token nor anything derived from it
that could be replayed is written. Callers never hand over answers that list secrets or
describe a private repository (``store=False``). A fresh entry (within its ``max-age``,
capped) is served without a call; an older one is revalidated with ``If-None-Match`` (a
GitHub 304 does not count against the rate limit); one past :data:`EXPIRY` is ignored.
Files are written atomically (a temporary file, then ``os.replace``); a file that does not
parse is ignored, as if absent.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from auditor.output.records import record

EXPIRY = 24 * 3600  # seconds: older entries are not even revalidated
MAX_FRESH = 3600  # a max-age longer than this is cut to it
_MAX_ENTRY = 16 * 1024 * 1024
_FORMAT = 1


def token_identity(token: str | None) -> str:
    """A short salted digest standing for the token in cache keys (``anonymous`` without
    one): two tokens never share entries, and the digest cannot be sent as a token."""
    if not token:
        return "anonymous"
    return hashlib.sha256(b"pubaudit-cache-identity\x00" + token.encode()).hexdigest()[:16]


@record
class Entry:
    """A stored 200 answer."""

    url: str
    body: bytes
    etag: str | None
    stored_at: float
    max_age: float
    link: str | None = None  # the Link header, for pagination from the cache

    def fresh(self, now: float) -> bool:
        return now - self.stored_at < min(self.max_age, MAX_FRESH)

    def expired(self, now: float) -> bool:
        return now - self.stored_at > EXPIRY or now < self.stored_at - 60


def max_age(cache_control: str | None) -> float:
    """``max-age`` of a Cache-Control header (0 with ``no-cache``/``no-store`` or none)."""
    if not cache_control:
        return 0.0
    value = 0.0
    for part in cache_control.lower().split(","):
        name, _, arg = part.strip().partition("=")
        if name in ("no-cache", "no-store"):
            return 0.0
        if name == "max-age":
            try:
                value = max(float(arg.strip('"')), 0.0)
            except ValueError:
                return 0.0
    return value


class Cache:
    """Entries under ``directory`` (created with mode 0700) for one token identity."""

    def __init__(self, directory: Path, identity: str) -> None:
        self.directory = directory
        self.identity = identity
        self.usable = True

    def _path(self, url: str, accept: str) -> Path:
        key = hashlib.sha256(f"{_FORMAT}\x00{url}\x00{accept}\x00{self.identity}".encode())
        return self.directory / f"{key.hexdigest()}.json"

    def lookup(self, url: str, accept: str, now: float | None = None) -> Entry | None:
        now = time.time() if now is None else now
        path = self._path(url, accept)
        try:
            with path.open("rb") as handle:
                raw = handle.read(_MAX_ENTRY + 1)
            if len(raw) > _MAX_ENTRY:
                return None
            data = json.loads(raw)
            entry = Entry(str(data["url"]), base64.b64decode(data["body"], validate=True),
                          data.get("etag"), float(data["stored_at"]), float(data["max_age"]),
                          data.get("link"))
        except (OSError, ValueError, KeyError, TypeError):  # absent or corrupt: no entry
            return None
        if entry.url != url or entry.expired(now):
            return None
        if entry.etag is not None and not isinstance(entry.etag, str):
            return None
        return entry

    def store(self, url: str, accept: str, entry: Entry) -> None:
        if not self.usable:
            return
        document = {"format": _FORMAT, "url": entry.url, "etag": entry.etag,
                    "stored_at": entry.stored_at, "max_age": entry.max_age,
                    "link": entry.link, "body": base64.b64encode(entry.body).decode()}
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=".tmp-",
                                             suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(document, handle)
                os.replace(temporary, self._path(url, accept))
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError:  # read-only home, full disk: run on without a cache
            self.usable = False
