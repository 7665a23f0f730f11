"""How many calls ``--online`` makes, and what it adds to start-up: ``python
benchmarks/online_calls.py``.

Nothing leaves this machine: a loopback server stands in for GitHub, github.com and PyPI,
answering every endpoint pubaudit asks with the documented shape of a well-protected
repository (so every rule runs to its end) and counting the requests. Each repository is
scanned three times: without a token, with a token and a cold cache, and again with the warm
cache. Start-up: the median wall time of ``scan`` on the demo without and with ``--online``
(the demo with a git remote), and the cumulative import time of httpx.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COUNTS: Counter[str] = Counter()

TRUSTED = """name: Release
on:
  push:
    tags: ["v*"]
permissions:
  contents: read
jobs:
  publish:
    runs-on: ubuntu-latest
    environment: pypi
    permissions:
      id-token: write
    steps:
      - uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1
        with:
          name: dist
          path: dist/
      - uses: pypa/gh-action-pypi-publish@dc37677b2e1c63e2034f94d8a5b11f265b73ba33 # v1.14.2
"""


def _answer(path: str) -> tuple[int, object]:
    bare = path.split("?")[0]
    if m := re.fullmatch(r"/repos/([^/]+)/([^/]+)", bare):
        return 200, {"full_name": f"{m[1]}/{m[2]}", "private": False, "default_branch": "main"}
    if bare.endswith("/environments"):
        return 200, {"total_count": 1, "environments": [{
            "name": "pypi", "can_admins_bypass": False, "protection_rules": [
                {"type": "required_reviewers", "prevent_self_review": True, "reviewers": []}],
            "deployment_branch_policy": {"protected_branches": False,
                                         "custom_branch_policies": True}}]}
    if bare.endswith("/deployment-branch-policies"):
        return 200, {"total_count": 1, "branch_policies": [{"name": "v*", "type": "tag"}]}
    if bare.endswith("/secrets"):
        return 200, {"total_count": 0, "secrets": []}
    if m := re.search(r"/git/commits/([0-9a-f]{40})$", bare):
        return 200, {"sha": m[1]}
    if "/git/ref/tags/" in bare:
        return 200, {"object": {"type": "commit",
                                "sha": "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c"}}
    if bare.startswith("/simple/"):
        return 200, {"meta": {"api-version": "1.4"}, "name": "demo-package", "files": [
            {"filename": "demo_package-0.1.0.tar.gz", "upload-time": "2025-06-01T10:00:00Z",
             "yanked": False, "provenance": "x"}]}
    if bare.startswith("/integrity/"):
        return 200, {"version": 1, "attestation_bundles": [{"publisher": {
            "kind": "GitHub", "repository": "acme/demo", "workflow": "release.yml",
            "environment": "pypi"}}]}
    return 404, {"message": "Not Found"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        bare = self.path.split("?")[0]
        kind = re.sub(r"[0-9a-f]{40}", "{sha}", bare)
        kind = re.sub(r"^/repos/[^/]+/[^/]+", "/repos/{o}/{r}", kind)
        COUNTS[kind] += 1
        status, data = _answer(self.path)
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", f'"{hash(body) & 0xffffff:x}"')
        self.send_header("Cache-Control", "private, max-age=60")
        self.end_headers()
        self.wfile.write(body)


def _repository(base: Path, name: str, workflow: str | None) -> Path:
    root = base / name
    shutil.copytree(ROOT / "fixtures" / "demo", root)
    if workflow is not None:
        (root / ".github" / "workflows" / "release.yml").write_text(workflow)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text('[remote "origin"]\n\turl = https://github.com/acme/demo.git\n')
    return root


def _scan(root: Path, env: dict[str, str], online: bool = True) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "auditor", "scan", str(root), "-q",
                    *(["--online"] if online else [])], env=env, capture_output=True,
                   check=False)
    return time.perf_counter() - started


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_TOKEN")}
        env |= {"GITHUB_API_URL": url, "GITHUB_SERVER_URL": url, "PUBAUDIT_PYPI_URL": url,
                "PUBAUDIT_TESTPYPI_URL": url, "NO_PROXY": "127.0.0.1"}
        for name, workflow in (("demo", None), ("trusted", TRUSTED)):
            root = _repository(base, name, workflow)
            for label, extra in (("no token", {}), ("token, cold cache", {"GH_TOKEN": "t"}),
                                 ("token, warm cache", {"GH_TOKEN": "t"})):
                COUNTS.clear()
                _scan(root, env | extra | {"PUBAUDIT_CACHE_DIR": str(base / f"cache-{name}")})
                print(f"{name:8} {label:18} {sum(COUNTS.values()):3} calls  "
                      + ", ".join(f"{k} {n}" for k, n in sorted(COUNTS.items())))
        demo = _repository(base, "startup", None)
        offline = [_scan(demo, env, online=False) for _ in range(7)]
        online = [_scan(demo, env | {"PUBAUDIT_CACHE_DIR": str(base / "c")}) for _ in range(7)]
        print(f"start-up (median of 7): scan {statistics.median(offline) * 1000:.0f} ms, "
              f"scan --online {statistics.median(online) * 1000:.0f} ms (warm cache)")
        imports = subprocess.run([sys.executable, "-X", "importtime", "-c", "import httpx"],
                                 capture_output=True, text=True).stderr.splitlines()
        httpx_line = next(line for line in reversed(imports) if line.rstrip().endswith("httpx"))
        print(f"import httpx: {int(httpx_line.split('|')[1]) / 1000:.0f} ms cumulative")
    server.shutdown()


if __name__ == "__main__":
    main()
