"""SHA-256 for fingerprints, without loading OpenSSL at start-up.

``hashlib`` loads CPython's OpenSSL bindings on import: ~4.5 ms of every one-file scan, more
than the fingerprints of a whole repository cost to compute. CPython also builds in its own
SHA-256 (``_sha2`` from 3.12, ``_sha256`` before), which loads in ~0.4 ms and gives the same
digests, so fingerprints and baselines do not change; ``hashlib`` remains the fallback for
an interpreter without them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

sha256: Callable[[bytes], Any]
try:
    from _sha2 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
except ImportError:
    try:
        from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:  # pragma: no cover - an interpreter without the built-in modules
        from hashlib import sha256  # type: ignore[assignment,no-redef,unused-ignore]


def sha256_hex(data: bytes) -> str:
    """The hexadecimal SHA-256 digest of ``data``."""
    return str(sha256(data).hexdigest())
