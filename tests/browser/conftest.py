"""Real-browser fixtures: a Streamlit server on loopback and Playwright driving Debian's chromium.

``streamlit_server`` serves the dashboard once per session on a free port, the
way ``scripts/run-dashboard.sh`` does (``scripts/launch.py``: Streamlit processes under supervisord
behind HAProxy; its cache is the test session's). ``page`` is a fresh Playwright page;
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

sys.path.insert(0, str(config.REPO_ROOT / "scripts"))
import launch  # noqa: E402  (scripts/launch.py: how run-dashboard.sh serves the dashboard)

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

    Served as ``scripts/run-dashboard.sh`` does (``scripts/launch.py``; ``workers`` > 1: that many
    Streamlit processes under supervisord behind HAProxy), once every process answers."""
    port = _free_port()
    options = ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    process = launch.start_in_background(workers, port, script, options, env={**os.environ, **(env_extra or {})})
    return process, f"http://127.0.0.1:{port}"


def wait_for(condition, timeout: float, what: str, poll: float = 0.2):
    """The first true value of ``condition()``, checked every ``poll`` s; AssertionError naming ``what`` after
    ``timeout`` s. For conditions outside a browser (a process started, a port open)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"not within {timeout:.0f} s: {what}")


def http_get(url: str, cookie: str | None = None) -> tuple[int, dict, bytes]:
    """Status, headers and body of a GET (an error status is returned, not raised), sending ``cookie``."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def stop_server(process: subprocess.Popen) -> None:
    launch.stop(process)


@pytest.fixture(scope="session")
def streamlit_server(data):
    """Base URL of the dashboard served as ``scripts/run-dashboard.sh`` serves it: two Streamlit
    processes under supervisord behind HAProxy (the session cache is built first by ``data``)."""
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
