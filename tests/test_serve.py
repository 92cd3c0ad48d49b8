"""Serving: ``scripts/launch.py`` (what ``scripts/run-dashboard.sh`` runs) and the HAProxy template.

Tested against the real stack on loopback, on free ports: supervisord keeping
two Streamlit processes, HAProxy in front of them. The browser tests load
every page through the same stack (``tests/browser/conftest.py``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from equity import config
from tests.browser.conftest import http_get, launch, start_server, stop_server, wait_for

# Starts HAProxy, supervisord and Streamlit processes: out of the quick lane (pytest.ini).
pytestmark = pytest.mark.slow

HAPROXY = launch.shutil.which("haproxy")


def _launch(*argv: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "scripts/launch.py", *argv], cwd=config.REPO_ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


def _processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains ``text`` (a unique port, say)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, cookie: str | None = None) -> tuple[int, dict, bytes]:
    """``http_get`` with the reply's header names in lower case (HAProxy sends them so)."""
    status, headers, body = http_get(url, cookie=cookie)
    return status, {name.lower(): value for name, value in headers.items()}, body


def _port(url: str) -> int:
    return int(url.rpartition(":")[2])


@pytest.fixture
def served(data):
    """The dashboard served with two Streamlit processes: (supervisord process, base URL, its runtime folder)."""
    process, url = start_server(workers=2)
    runtime = launch.runtime_dir(_port(url))
    yield process, url, runtime
    stop_server(process)


# --- the configuration -------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["one machine", "containers"])
def test_the_rendered_haproxy_configuration_is_accepted_by_haproxy(tmp_path, where):
    assert HAPROXY, "haproxy is not installed: scripts/run-tests.sh installs Debian's haproxy"
    target = tmp_path / "haproxy.cfg"
    if where == "one machine":
        target.write_text(launch.render_haproxy("127.0.0.1:8501", launch.local_servers([9001, 9002]),
                                                stats_socket=tmp_path / "haproxy.sock"))
    else:
        assert _launch("--render-haproxy", str(target), "--server-template", "dashboard:8501:4").returncode == 0
    checked = subprocess.run([HAPROXY, "-c", "-f", str(target)], capture_output=True, text=True,
                             env={**os.environ, "EQUITY_COOKIE_KEY": "test"})
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_upload_limit_follows_the_apps_own_setting(tmp_path):
    settings = tmp_path / "config.toml"
    settings.write_text("[server]\nmaxUploadSize = 7\n")
    assert launch.upload_limit_mb(settings) == 7
    settings.write_text("[theme]\nbase = 'dark'\n")
    assert launch.upload_limit_mb(settings) == 200  # Streamlit's own default


# --- options that cannot work: one line, nothing left running ------------------------------------------

@pytest.mark.parametrize(("argv", "env", "message"), [
    (["--workers", "0"], {}, "--workers (or EQUITY_WORKERS) must be 1..32, not 0"),
    (["--workers", "33"], {}, "--workers (or EQUITY_WORKERS) must be 1..32, not 33"),
    ([], {"EQUITY_WORKERS": "many"}, "invalid int value: 'many'"),
    (["--workers", "two"], {}, "invalid int value: 'two'"),
])
def test_a_bad_number_of_processes_is_named_in_one_line(argv, env, message):
    port = str(_free_port())
    done = _launch(*argv, "--port", port, env=env)
    assert done.returncode == 2 and message in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(message)
    assert _processes_mentioning(f"--server.port {port}") == []


def test_a_public_port_in_use_is_named_and_nothing_is_started():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = _launch("--workers", "2", "--address", "127.0.0.1", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip() == (f"cannot listen on 127.0.0.1:{port}: Address already in use "
                                   "(is the dashboard already running? choose another port with --port)")
    assert not (launch.runtime_dir(port) / "supervisord.conf").exists()


def test_a_missing_haproxy_is_named_and_nothing_is_started():
    port = _free_port()
    done = _launch("--workers", "2", "--address", "127.0.0.1", "--port", str(port),
                   env={"EQUITY_HAPROXY": "/nonexistent/haproxy"})
    assert done.returncode == 1
    assert done.stderr.strip() == ("cannot serve 2 processes: HAProxy is not installed "
                                   "(apt-get install haproxy, or use --workers 1)")
    assert _processes_mentioning(str(port)) == []


# --- the running stack ---------------------------------------------------------------------------------

def test_new_browsers_are_spread_over_the_processes_and_kept_on_theirs(served):
    _, url, _ = served
    placed = {}
    for _ in range(6):
        status, headers, body = _get(url + "/")
        assert status == 200 and b"<html" in body.lower()
        cookie = headers["set-cookie"].split(";")[0]
        placed[cookie] = headers["x-equity-process"]
    assert sorted(placed) == ["equity_worker=0", "equity_worker=1"]
    for cookie, process in placed.items():
        for path in ("/", "/_stcore/health", "/_stcore/host-config", "/map?geography=ward"):
            status, headers, _ = _get(url + path, cookie=cookie)
            assert status == 200 and headers["x-equity-process"] == process
            assert "equity_worker" not in headers.get("set-cookie", "")  # not placed again


def test_every_process_gets_the_same_cookie_secret(served):
    _, _, runtime = served
    secrets_seen = set()
    for name, (_, pid) in launch.supervised(runtime).items():
        if name.startswith("streamlit-"):
            environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            secrets_seen |= {entry for entry in environment if entry.startswith(b"STREAMLIT_SERVER_COOKIE_SECRET=")}
    assert len(secrets_seen) == 1
    assert len(secrets_seen.pop().partition(b"=")[2]) == 64


def test_a_killed_process_loses_no_request_and_is_started_again(served):
    """SIGKILL one process 20 times (the two in turn): every request just after the kill, from its readers,
    the other process's readers and new browsers, is answered; supervisord starts a new process each time."""
    _, url, runtime = served
    failed = []
    for round_ in range(20):
        name = f"streamlit-{round_ % 2}"
        state, victim = launch.supervised(runtime)[name]
        assert state == "RUNNING"
        os.kill(victim, signal.SIGKILL)
        for cookie in ("equity_worker=0", "equity_worker=1", None):
            for path in ("/", "/_stcore/health", "/_stcore/host-config"):
                status, _, body = http_get(url + path, cookie=cookie)
                if status != 200:
                    failed.append((round_, cookie, path, status, body[:200]))
        wait_for(lambda: launch.supervised(runtime)[name] == ("RUNNING", _new_pid(runtime, name, victim))
                 and launch.haproxy_state(runtime).get(name) == "UP", 60, f"{name} started again and in rotation")
    assert failed == []


def _new_pid(runtime: Path, name: str, old: int) -> int | None:
    pid = launch.supervised(runtime)[name][1]
    return pid if pid not in {None, old} else -1


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_launcher_stops_every_process_it_started(data, how):
    process, url = start_server(workers=2)
    runtime = launch.runtime_dir(_port(url))
    started = [pid for _, pid in launch.supervised(runtime).values()]
    assert len(started) == 3 and all(started)  # HAProxy and two Streamlit processes
    process.send_signal(how)
    assert process.wait(timeout=30) == 0
    assert [pid for pid in started if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"] == []
    assert _processes_mentioning(str(runtime)) == []


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (FileNotFoundError, IndexError):
        return "X"


def test_a_link_over_64_kib_gets_a_414_that_says_why(served):
    _, url, _ = served
    status, _, body = http_get(f"{url}/ward?ward={'x' * 70_000}")
    assert status == 414 and b"longer than the dashboard accepts (64 KiB)" in body and b"Shorten it" in body
    status, _, _ = http_get(f"{url}/ward?ward={'x' * 60_000}")
    assert status == 200  # a long link under the limit reaches the app, which names what is wrong
    assert http_get(url + "/_stcore/health")[0] == 200


def test_an_upload_over_the_apps_limit_gets_a_413_that_says_why(served):
    _, url, _ = served
    limit = launch.upload_limit_mb() * 2 ** 20 + launch.UPLOAD_ENVELOPE_BYTES
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(f"PUT /_stcore/upload_file/session/file HTTP/1.1\r\nHost: {host}:{port}\r\n"
                           f"Content-Length: {limit + 1}\r\n\r\n".encode() + b"x" * 1024)
        reply = b""
        while b"larger than" not in reply:
            received = connection.recv(65536)
            if not received:
                break
            reply += received
    assert reply.startswith(b"HTTP/1.1 413")
    assert f"larger than the dashboard accepts ({launch.upload_limit_mb()} MB)".encode() in reply
    assert http_get(url + "/_stcore/health")[0] == 200


def test_streamlits_static_files_are_kept_by_haproxy_and_served_the_same(served):
    """The second reader of a script gets it from HAProxy's cache (deploy/haproxy.cfg.template), unchanged."""
    import re

    _, url, _ = served
    _, _, page = _get(url + "/")
    script = re.search(rb'src="\.?/?(static/js/[^"]+\.js)"', page).group(1).decode()
    status, first_headers, first = _get(f"{url}/{script}")
    assert status == 200 and first and "x-equity-cache" not in first_headers
    status, headers, again = _get(f"{url}/{script}")
    assert status == 200 and headers.get("x-equity-cache") == "hit" and again == first
    status, headers, _ = _get(url + "/_stcore/health")
    assert status == 200 and "x-equity-cache" not in headers  # only /static/ is kept
