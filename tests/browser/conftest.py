"""Real-browser fixtures: a Streamlit server on loopback and Playwright driving Debian's chromium.

``streamlit_server`` serves the dashboard once per session on a free port, the
way ``scripts/run-dashboard.sh`` does (``scripts/serve.py``: Streamlit processes
behind a sticky-session proxy; its cache is the test session's). ``page`` is a fresh Playwright page;
``open_page(page, path)`` loads a URL and waits until the script has finished.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from equity import config

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


#: Processes behind the proxy in the browser tests: two, so that sticky sessions are exercised.
SERVED_WORKERS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(env_extra: dict | None = None, script: str = "app.py",
                 workers: int = 1) -> tuple[subprocess.Popen, str]:
    """Start the dashboard (or another Streamlit script) on a free loopback port; return process and base URL.

    ``workers`` > 1 serves it as ``scripts/run-dashboard.sh`` does: ``scripts/serve.py``
    with that many Streamlit processes behind its sticky-session proxy."""
    port = _free_port()
    env = {**os.environ, **(env_extra or {})}
    options = ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    if workers > 1:
        command = [sys.executable, "scripts/serve.py", "--workers", str(workers), "--port", str(port),
                   "--address", "127.0.0.1", "--script", script, *options]
    else:
        command = [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
                   "--server.port", str(port), "--server.address", "127.0.0.1", *options]
    process = subprocess.Popen(command, cwd=config.REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited: {process.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                if reply.status == 200:
                    return process, url
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("streamlit did not answer its health check within 120 s")


def http_get(url: str, cookie: str | None = None) -> tuple[int, dict, bytes]:
    """Status, headers and body of a GET (an error status is returned, not raised), sending ``cookie``."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def streamlit_server(data):
    """Base URL of the dashboard served as ``scripts/run-dashboard.sh`` serves it: two Streamlit
    processes behind ``scripts/serve.py``'s proxy (the session cache is built first by ``data``)."""
    process, url = start_server(workers=SERVED_WORKERS)
    yield url
    stop_server(process)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Debian's chromium is not installed at {CHROMIUM}; scripts/run-tests.sh installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def wait_until_idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit's script run has finished (the app marks its root element)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout)


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_until_idle(page)
