"""``scripts/serve.py``: several Streamlit processes behind a sticky-session proxy.

The routing rules are tested on their own (pure functions); the proxy, its
processes and what happens when one of them dies are tested against the real
program on loopback (``tests/browser`` loads every page through it too)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from equity import config

sys.path.insert(0, str(config.REPO_ROOT / "scripts"))
import serve  # noqa: E402

from tests.browser.conftest import http_get, start_server, stop_server  # noqa: E402


def _pool(*sessions: int, up: tuple[bool, ...] | None = None) -> serve.Pool:
    workers = [serve.Worker(index, 9000 + index, sessions=count) for index, count in enumerate(sessions)]
    for worker, state in zip(workers, up or (True,) * len(workers)):
        worker.up = state
    return serve.Pool(workers)


def test_a_reader_with_a_cookie_stays_with_their_process():
    pool = _pool(5, 0)
    worker, new = pool.choose("0")
    assert (worker.index, new) == (0, False)  # not moved to the less busy one


@pytest.mark.parametrize("cookie", [None, "", "7", "-1", "1x", "one"])
def test_a_reader_without_a_valid_cookie_goes_to_the_least_busy_process(cookie):
    pool = _pool(3, 1, 2)
    worker, new = pool.choose(cookie)
    assert (worker.index, new) == (1, True)


def test_a_reader_whose_process_is_down_is_moved_and_told_so():
    pool = _pool(0, 4, up=(False, True))
    worker, new = pool.choose("0")
    assert (worker.index, new) == (1, True)


def test_ties_between_processes_are_taken_in_turn():
    pool = _pool(2, 2, 2)
    assert sorted(pool.least_busy().index for _ in range(3)) == [0, 1, 2]


def test_no_process_up_is_a_lookup_error_the_proxy_turns_into_a_503():
    with pytest.raises(LookupError, match="no dashboard process"):
        _pool(0, 0, up=(False, False)).least_busy()


@pytest.mark.parametrize(("header", "value"), [
    ("equity_worker=1", "1"),
    ("_streamlit_xsrf=2|ab|cd|1; equity_worker=0; theme=dark", "0"),
    ("theme=dark", None),
    (None, None),
    ('equity_worker="unterminated', None),
])
def test_cookie_value_reads_the_proxys_cookie_among_others(header, value):
    assert serve.cookie_value(header) == value


def test_the_cookie_set_names_the_process_for_this_site_only():
    cookie = serve.worker_cookie(serve.Worker(3, 9003))
    assert serve.cookie_value(cookie.split(";")[0]) == "3"
    assert "Path=/" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_connection_headers_are_not_forwarded_and_the_reader_is_named():
    headers = [(b"Host", b"dash.example"), (b"Connection", b"keep-alive"), (b"Upgrade", b"websocket"),
               (b"Transfer-Encoding", b"chunked"), (b"Cookie", b"equity_worker=1")]
    kept = serve.forwarded_headers(headers, "203.0.113.9", "https")
    names = [name.lower() for name, _ in kept]
    assert "connection" not in names and "upgrade" not in names and "transfer-encoding" not in names
    assert ("Host", "dash.example") in kept and ("Cookie", "equity_worker=1") in kept
    assert ("x-forwarded-for", "203.0.113.9") in kept and ("x-forwarded-proto", "https") in kept


def test_the_path_and_query_are_passed_on_exactly_as_sent():
    scope = {"path": "/media/a/b.csv", "raw_path": b"/media/a%2Fb.csv", "query_string": b"areas=8%2C32&x=%3Cs%3E"}
    assert serve.target(scope) == "/media/a%2Fb.csv?areas=8%2C32&x=%3Cs%3E"
    assert serve.target({"path": "/", "raw_path": None, "query_string": b""}) == "/"


def test_same_origin_websockets_are_shown_to_the_process_as_its_own_origin():
    worker = serve.Worker(0, 9000)
    assert serve.backend_origin("http://dash.example:8501", "dash.example:8501", worker) == "http://127.0.0.1:9000"
    assert serve.backend_origin("https://evil.example", "dash.example:8501", worker) == "https://evil.example"
    assert serve.backend_origin(None, "dash.example:8501", worker) is None


def test_a_process_that_keeps_failing_is_restarted_ever_more_slowly():
    now = 1000.0
    assert serve.restart_delay([now - 500], now) == 0  # its first failure in a minute: at once
    delays = [serve.restart_delay([now - s for s in range(count)], now) for count in range(2, 9)]
    assert delays == sorted(delays) and delays[0] > 0 and delays[-1] == 60


@pytest.mark.parametrize(("argv", "env", "message"), [
    (["--workers", "0"], {}, "--workers (or EQUITY_WORKERS) must be 1..32, not 0"),
    ([], {"EQUITY_WORKERS": "many"}, "invalid int value: 'many'"),
])
def test_a_bad_number_of_processes_is_named(argv, env, message):
    done = subprocess.run([sys.executable, "scripts/serve.py", *argv], cwd=config.REPO_ROOT, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})
    assert done.returncode == 2 and message in done.stderr


def _children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


@pytest.fixture
def served(data):
    """The dashboard served by scripts/serve.py with two processes: (proxy process, base URL)."""
    process, url = start_server(workers=2)
    yield process, url
    stop_server(process)


def test_new_browsers_are_spread_over_the_processes_and_kept_there(served):
    _, url = served
    status, headers, body = http_get(url + "/")
    assert status == 200 and b"<html" in body.lower()
    first = serve.cookie_value(headers["set-cookie"].split(";")[0])
    status, headers, _ = http_get(url + "/", cookie=f"equity_worker={first}")
    assert status == 200 and "set-cookie" not in _lower(headers)
    # no sessions open: ties are taken in turn, so the next new browser goes to the other process
    _, headers, _ = http_get(url + "/")
    assert serve.cookie_value(headers["set-cookie"].split(";")[0]) == str(1 - int(first))


def test_a_process_that_dies_is_replaced_and_its_readers_are_moved(served):
    proxy, url = served
    workers = _children(proxy.pid)
    assert len(workers) == 2
    victim = workers[0]
    subprocess.run(["kill", "-9", str(victim)], check=True)
    _wait(lambda: _state(victim) in {"Z", "X"}, 10, "the killed process dead")
    # its readers are served by the other process at once and told so (a new cookie); the others stay
    replies = [http_get(url + "/", cookie=f"equity_worker={index}") for index in (0, 1)]
    assert [status for status, _, _ in replies] == [200, 200], [body[:200] for _, _, body in replies]
    moved = [index for index, (_, headers, _) in enumerate(replies) if "set-cookie" in _lower(headers)]
    assert len(moved) == 1
    assert serve.cookie_value(_lower(replies[moved[0]][1])["set-cookie"].split(";")[0]) == str(1 - moved[0])
    # and the process is started again; its readers go back to it
    _wait(lambda: len(_children(proxy.pid)) == 2 and victim not in _children(proxy.pid), 90,
          "the dead process replaced")
    _wait(lambda: "set-cookie" not in _lower(http_get(url + "/", cookie=f"equity_worker={moved[0]}")[1]), 90,
          "its readers served by the new process")
    assert proxy.poll() is None  # the proxy kept serving throughout


def _lower(headers: dict) -> dict:
    return {name.lower(): value for name, value in headers.items()}


def test_stopping_the_proxy_stops_its_processes_even_when_killed(data):
    for how in (signal.SIGTERM, signal.SIGKILL):
        proxy, _ = start_server(workers=2)
        workers = _children(proxy.pid)
        assert len(workers) == 2
        proxy.send_signal(how)
        proxy.wait(timeout=30)
        _wait(lambda: not any(Path(f"/proc/{pid}").exists() and _state(pid) != "Z" for pid in workers), 30,
              f"the Streamlit processes gone after {how.name}")


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return "X"


def test_a_public_port_in_use_is_named():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([sys.executable, "scripts/serve.py", "--workers", "2", "--address", "127.0.0.1",
                               "--port", str(port)], cwd=config.REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr


def test_an_oversized_upload_is_refused_with_its_limit_named(served):
    _, url = served
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(f"PUT /_stcore/upload_file/session/file HTTP/1.1\r\nHost: {host}:{port}\r\n"
                           f"Content-Length: {serve.MAX_BODY_BYTES + 1}\r\n\r\n".encode() + b"x" * 1024)
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.partition(b"\r\n\r\n")[2]) < _length(reply):
            received = connection.recv(65536)
            if not received:
                break
            reply += received
        reply = reply.decode("latin-1")
    assert reply.startswith("HTTP/1.1 413")
    assert f"larger than the dashboard accepts ({serve.MAX_BODY_BYTES // 2 ** 20} MB)" in reply
    assert http_get(url + "/_stcore/health")[0] == 200  # and it keeps serving


def _length(reply: bytes) -> int:
    """Content-Length of a raw HTTP reply's head (0 if it has none)."""
    for line in reply.partition(b"\r\n\r\n")[0].split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0
