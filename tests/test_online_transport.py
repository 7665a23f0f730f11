"""``--online`` transport against real loopback servers: every fault becomes a notice, the
retries are bounded, the cache revalidates, and the token goes nowhere but GitHub."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest

from auditor.engine.notices import Notice
from auditor.online.cache import Cache, token_identity
from auditor.online.settings import Settings, Timeouts, from_environment
from auditor.online.transport import Answer, Counters, Progress, Transport
from tests.online_server import serve

GH = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


def transport(url: str, cache: Cache | None = None, sleeps: list[float] | None = None,
              **settings: object) -> Transport:
    values: dict[str, object] = {"timeouts": Timeouts(connect=0.5, read=1.0),
                                 "backoff_cap": 2.0}
    values.update(settings)
    waits = sleeps if sleeps is not None else []
    return Transport(url, Settings(**values), headers=GH,  # type: ignore[arg-type]
                     cache=cache, progress=Progress(False), counters=Counters(),
                     sleep=waits.append)


def test_200_json_and_the_documented_headers() -> None:
    with serve([{"path": "/repos/o/r", "json": {"full_name": "o/r"}}]) as server:
        answer = transport(server.url).get("/repos/o/r", accept=GH["Accept"])
    assert isinstance(answer, Answer) and answer.data == {"full_name": "o/r"}
    sent = server.requests[0].headers
    assert sent["x-github-api-version"] == "2022-11-28"
    assert sent["accept"] == "application/vnd.github+json"
    assert sent["user-agent"].startswith("pubaudit/")


def test_read_timeout_is_a_notice() -> None:
    with serve([{"path": "/slow", "json": {}, "delay": 1.5}]) as server:
        started = time.monotonic()
        answer = transport(server.url, timeouts=Timeouts(connect=1.0, read=0.3)).get("/slow")
    assert isinstance(answer, Notice) and "timed out" in answer.message
    assert answer.endpoint == f"GET {server.url}/slow" and answer.status is None
    assert time.monotonic() - started < 1.4
    assert len(server.requests) == 1, "a read timeout is not retried"


def test_connect_timeout_is_retried_then_a_notice() -> None:
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)  # never accepted: once the backlog is full, connecting hangs
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    sleeps: list[float] = []
    try:
        answer = transport(f"http://127.0.0.1:{port}", sleeps=sleeps,
                           timeouts=Timeouts(connect=0.3, read=1.0)).get("/x")
    finally:
        for sock in (*fillers, listener):
            sock.close()
    assert isinstance(answer, Notice) and answer.status is None
    assert "timed out connecting (after 0.3 s, 3 tries)" in answer.message
    assert sleeps == [0.5, 1.0]


def test_connection_refused_is_retried_then_a_notice() -> None:
    with serve([]) as server:
        url = server.url
    sleeps: list[float] = []
    answer = transport(url, sleeps=sleeps).get("/x")
    assert isinstance(answer, Notice) and "no answer" in answer.message
    assert sleeps == [0.5, 1.0]  # two more tries, with backoff


def test_500_then_200_is_retried() -> None:
    sleeps: list[float] = []
    with serve([{"path": "/x", "status": 500, "json": {}, "times": 1},
                {"path": "/x", "json": {"ok": True}}]) as server:
        answer = transport(server.url, sleeps=sleeps).get("/x")
    assert isinstance(answer, Answer) and answer.data == {"ok": True}
    assert len(server.requests) == 2 and sleeps == [0.5]


def test_503_every_time_gives_up_after_the_retries() -> None:
    with serve([{"path": "/x", "status": 503, "json": {}}]) as server:
        answer = transport(server.url).get("/x")
    assert isinstance(answer, Notice) and answer.status == 503
    assert "3 times" in answer.message and len(server.requests) == 3


def test_429_with_retry_after_waits_that_long() -> None:
    sleeps: list[float] = []
    with serve([{"path": "/x", "status": 429, "headers": {"Retry-After": "1"}, "json": {},
                 "times": 1}, {"path": "/x", "json": [1]}]) as server:
        answer = transport(server.url, sleeps=sleeps).get("/x")
    assert isinstance(answer, Answer) and answer.data == [1] and sleeps == [1.0]


def test_retry_after_beyond_the_cap_is_a_notice_without_waiting() -> None:
    sleeps: list[float] = []
    with serve([{"path": "/x", "status": 429, "headers": {"Retry-After": "3600"},
                 "json": {}}]) as server:
        answer = transport(server.url, sleeps=sleeps).get("/x")
    assert isinstance(answer, Notice) and "rate limited" in answer.message
    assert sleeps == [] and len(server.requests) == 1


def test_primary_rate_limit_stops_every_later_call() -> None:
    reset = str(int(time.time()) + 1800)
    with serve([{"path": "/x", "status": 403, "json": {"message": "API rate limit exceeded"},
                 "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}}
                ]) as server:
        client = transport(server.url)
        first = client.get("/x")
        second = client.get("/y")
    assert isinstance(first, Notice) and "rate limit" in first.message and first.status == 403
    assert isinstance(second, Notice) and "rate limit" in second.message
    assert server.paths() == ["/x"]


def test_403_with_accepted_permissions_is_an_answer_not_retried() -> None:
    with serve([{"path": "/s", "status": 403,
                 "json": {"message": "Resource not accessible by integration"},
                 "headers": {"X-Accepted-GitHub-Permissions": "secrets=read"}}]) as server:
        answer = transport(server.url).get("/s")
    assert isinstance(answer, Answer) and answer.status == 403
    assert answer.headers["x-accepted-github-permissions"] == "secrets=read"
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_other_4xx_are_never_retried(status: int) -> None:
    with serve([{"path": "/x", "status": status, "json": {}}]) as server:
        answer = transport(server.url).get("/x")
    assert isinstance(answer, Answer) and answer.status == status
    assert len(server.requests) == 1


@pytest.mark.parametrize("body", ['{"environments": [', "<html>oops</html>", "\x00\x01"])
def test_garbage_or_truncated_json_is_a_notice(body: str) -> None:
    with serve([{"path": "/x", "body": body}]) as server:
        answer = transport(server.url).get("/x")
    assert isinstance(answer, Notice) and "not valid JSON" in answer.message


def test_redirect_to_another_host_is_not_followed() -> None:
    with serve([{"path": "/elsewhere", "json": {"leak": True}}]) as other, \
            serve([{"path": "/x", "status": 302,
                    "headers": {"Location": "http://localhost:1/elsewhere"}}]) as server:
        answer = transport(server.url).get("/x")
    assert isinstance(answer, Notice) and "another host" in answer.message
    assert other.requests == []


def test_redirect_on_the_same_host_is_followed() -> None:
    with serve([{"path": "/simple/Foo_Bar/", "status": 301,
                 "headers": {"Location": "/simple/foo-bar/"}},
                {"path": "/simple/foo-bar/", "json": {"files": []}}]) as server:
        answer = transport(server.url).get("/simple/Foo_Bar/")
    assert isinstance(answer, Answer) and answer.data == {"files": []}


def test_huge_body_is_capped() -> None:
    with serve([{"path": "/big", "size": 10 * 1024 * 1024}]) as server:
        answer = transport(server.url).get("/big")  # the default cap, 8 MB
    assert isinstance(answer, Notice) and "larger than 8388608 bytes" in answer.message


def test_huge_body_without_content_length_is_capped() -> None:
    with serve([{"path": "/big", "size": 3 * 1024 * 1024, "omit_length": True}]) as server:
        answer = transport(server.url, max_body=1024 * 1024).get("/big")
    assert isinstance(answer, Notice) and "larger than" in answer.message


def test_link_pagination_follows_next() -> None:
    with serve([
        {"path": "/repos/o/r/environments?per_page=100",
         "json": {"total_count": 3, "environments": [{"name": "a"}, {"name": "b"}]},
         "headers": {"Link": '<{url}/repos/o/r/environments?per_page=100&page=2>; '
                             'rel="next", <{url}/repos/o/r/environments?per_page=100&page=2>;'
                             ' rel="last"'}},
        {"path": "/repos/o/r/environments?per_page=100&page=2",
         "json": {"total_count": 3, "environments": [{"name": "c"}]}},
    ]) as server:
        items = transport(server.url).get_pages("/repos/o/r/environments?per_page=100",
                                                "environments")
    assert items == [{"name": "a"}, {"name": "b"}, {"name": "c"}]


def test_pagination_link_to_another_host_is_refused() -> None:
    with serve([{"path": "/l", "json": [1], "headers": {
            "Link": '<http://localhost:1/l?page=2>; rel="next"'}}]) as server:
        found = transport(server.url).get_pages("/l", None)
    assert isinstance(found, Notice) and "another host" in found.message


def test_etag_revalidation_uses_the_cache(tmp_path: Path) -> None:
    cache = Cache(tmp_path, token_identity("t1"))
    exchange = {"path": "/x", "json": {"v": 1},
                "headers": {"ETag": '"abc"', "Cache-Control": "private, max-age=0"}}
    with serve([exchange]) as server:
        first = transport(server.url, cache).get("/x")
        client = transport(server.url, cache)
        second = client.get("/x")
    assert isinstance(first, Answer) and isinstance(second, Answer)
    assert second.data == {"v": 1} and second.from_cache
    assert server.requests[1].headers["if-none-match"] == '"abc"'
    assert client.counters.revalidated == 1


def test_fresh_entry_makes_no_call_and_another_token_does_not_share_it(
        tmp_path: Path) -> None:
    exchange = {"path": "/x", "json": {"v": 1}, "headers": {"Cache-Control": "max-age=60"}}
    with serve([exchange]) as server:
        transport(server.url, Cache(tmp_path, token_identity("t1"))).get("/x")
        again = transport(server.url, Cache(tmp_path, token_identity("t1"))).get("/x")
        other = transport(server.url, Cache(tmp_path, token_identity("t2"))).get("/x")
    assert isinstance(again, Answer) and again.from_cache
    assert isinstance(other, Answer) and not other.from_cache
    assert len(server.requests) == 2
    for path in tmp_path.iterdir():
        assert "t1" not in path.read_text() and "t2" not in path.read_text()


def test_store_false_writes_nothing(tmp_path: Path) -> None:
    with serve([{"path": "/secrets", "json": {"secrets": []},
                 "headers": {"ETag": '"e"'}}]) as server:
        transport(server.url, Cache(tmp_path, "anonymous")).get("/secrets", store=False)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cache_file_is_ignored(tmp_path: Path) -> None:
    cache = Cache(tmp_path, "anonymous")
    with serve([{"path": "/x", "json": {"v": 2}, "headers": {"ETag": '"e"'}}]) as server:
        transport(server.url, cache).get("/x")
        for path in tmp_path.iterdir():
            path.write_text('{"url": "' + server.url + '/x", "body": "%%%"')
        answer = transport(server.url, cache).get("/x")
    assert isinstance(answer, Answer) and answer.data == {"v": 2} and not answer.from_cache


def test_expired_entry_is_not_revalidated(tmp_path: Path) -> None:
    cache = Cache(tmp_path, "anonymous")
    with serve([{"path": "/x", "json": {"v": 3}, "headers": {"ETag": '"e"'}}]) as server:
        transport(server.url, cache).get("/x")
        (entry,) = tmp_path.iterdir()
        entry.write_text(entry.read_text().replace('"stored_at": ', '"stored_at": 1'))
        transport(server.url, cache).get("/x")
    assert "if-none-match" not in server.requests[1].headers


def test_token_comes_from_gh_token_first_and_is_not_in_repr() -> None:
    settings = from_environment({"GH_TOKEN": "ghp_first", "GITHUB_TOKEN": "ghp_second"})
    assert settings.token == "ghp_first" and settings.token_source == "GH_TOKEN"
    assert "ghp_first" not in repr(settings)
    assert from_environment({"GITHUB_TOKEN": " t "}).token == "t"
    assert from_environment({}).token is None


def test_rate_limit_reset_within_the_cap_is_waited_for() -> None:
    sleeps: list[float] = []
    reset = str(int(time.time()) + 1)
    with serve([{"path": "/x", "status": 429, "json": {}, "times": 1,
                 "headers": {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}},
                {"path": "/x", "json": {"ok": 1}}]) as server:
        answer = transport(server.url, sleeps=sleeps).get("/x")
    assert isinstance(answer, Answer) and answer.data == {"ok": 1}
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 2.0


def test_secondary_limit_403_with_retry_after_is_retried() -> None:
    sleeps: list[float] = []
    with serve([{"path": "/x", "status": 403, "headers": {"Retry-After": "1"},
                 "json": {"message": "You have exceeded a secondary rate limit"},
                 "times": 1}, {"path": "/x", "json": []}]) as server:
        answer = transport(server.url, sleeps=sleeps).get("/x")
    assert isinstance(answer, Answer) and answer.status == 200 and sleeps == [1.0]



def test_503_with_a_long_retry_after_is_not_waited_for() -> None:
    sleeps: list[float] = []
    with serve([{"path": "/x", "status": 503, "headers": {"Retry-After": "600"},
                 "body": "maintenance"}]) as server:
        answer = transport(server.url, sleeps=sleeps).get("/x")
    assert isinstance(answer, Notice) and "asked to wait 600 s" in answer.message
    assert sleeps == [] and len(server.requests) == 1


def test_a_url_httpx_cannot_send_is_a_notice() -> None:
    answer = transport("http://127.0.0.1:1").get("/repos/a b/\x00")
    assert isinstance(answer, Notice) and "could not be made: InvalidURL" in answer.message
