"""Real-browser fixtures: a Streamlit server on loopback and Playwright driving Debian's chromium.

``streamlit_server`` serves the dashboard once per session on a free port, the
way ``scripts/run-dashboard.sh`` does (``scripts/launch.py``: Streamlit processes under supervisord
behind HAProxy; its cache is the test session's). ``page`` is a fresh Playwright page;
``open_page(page, url)`` loads a URL and waits until the script has finished; ``wait_until_idle`` is the one
way the browser tests wait (for conditions, never for a fixed time), and ``after_rerun`` wraps a click or a
widget change in it.
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
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from dashboard import map_first
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


@pytest.fixture(scope="module")
def server_with_2023(tmp_path_factory, data):
    """A server on a cache holding the snapshot's period and the synthetic 2019–2023 (one per test module):
    (base URL, the loaded data)."""
    from tests.test_progress_page import build_cache_with_2023

    root = tmp_path_factory.mktemp("browser-cache-2023")
    later = build_cache_with_2023(root)
    process, url = start_server(env_extra={"EQUITY_CACHE": str(root)})
    yield url, later
    stop_server(process)


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
    context.add_init_script(COUNT_SCRIPT_RUNS)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


#: Runs before any script of every page: counts the script runs the server reports over the app's WebSocket
#: (each run's ForwardMsg ``new_session`` and ``script_finished``, read from the messages' top-level protobuf
#: fields), so that a wait after a click or a widget change can tell that the rerun it caused has started and
#: finished. The app's own ``data-test-script-state`` cannot tell: a quick rerun's ``running`` and
#: ``notRunning`` reach React in one batch and the attribute never changes. The states it does show are kept
#: too, for the message of a failed wait.
COUNT_SCRIPT_RUNS = r"""(() => {
  window.__runsStarted = 0;
  window.__runsFinished = 0;
  window.__scriptStates = [];  // [ms since the page began, what happened]
  const note = what => window.__scriptStates.push([Math.round(performance.now()), what]);
  const NEW_SESSION = 4, SCRIPT_FINISHED = 6, FINISHED_EARLY_FOR_RERUN = 2;
  const topLevelFields = bytes => {  // [[field number, value of a varint field or null], ...]
    const found = [];
    let i = 0;
    const varint = () => {
      let value = 0, shift = 0, byte;
      do { byte = bytes[i++]; value += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80 && i < bytes.length);
      return value;
    };
    while (i < bytes.length) {
      const tag = varint(), wire = tag & 7;
      let value = null;
      if (wire === 0) value = varint();
      else if (wire === 2) { const length = varint(); i += length; }
      else if (wire === 1) i += 8;
      else if (wire === 5) i += 4;
      else break;
      found.push([Math.floor(tag / 8), value]);
    }
    return found;
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', event => {
        if (!(event.data instanceof ArrayBuffer)) return;
        for (const [field, value] of topLevelFields(new Uint8Array(event.data))) {
          if (field === NEW_SESSION) { window.__runsStarted++; note('run started'); }
          if (field === SCRIPT_FINISHED && value !== FINISHED_EARLY_FOR_RERUN) {
            window.__runsFinished++; note(`run finished (${value})`);
          }
        }
      });
    }
  };
  new MutationObserver(records => records.forEach(record => note(record.target.dataset.testScriptState)))
    .observe(document, {subtree: true, attributes: true, attributeFilter: ['data-test-script-state']});
})();"""

#: True when the app has finished: its script is not running, it is connected, no status widget
#: ("Running...") and no stale element of an earlier run is shown, no element waits for its code (a chart's,
#: a grid's: Streamlit loads it on first use and shows a skeleton meanwhile), more runs have finished than
#: ``since``, and
#: ``count`` elements match ``selector`` with charts, maps and data grids among them drawn, not only mounted
#: (``count`` -1: at least one matches, and every visible match is drawn). The answer must hold on ``frames``
#: animation frames running before the wait ends.
APP_FINISHED = """([selector, count, since, frames]) => {
  const drawn = element => {
    const host = element.closest('[data-testid="stVegaLiteChart"], [data-testid="stDeckGlJsonChart"], '
                                 + '[data-testid="stDataFrame"]');
    if (!host) return true;
    const sized = canvas => canvas.width > 0 && canvas.height > 0;
    switch (host.dataset.testid) {
      case 'stVegaLiteChart':
        return !!host.querySelector('svg .role-mark') || [...host.querySelectorAll('canvas')].some(sized);
      case 'stDeckGlJsonChart':
        return [...host.querySelectorAll('canvas')].some(sized);
      default:  // the grid's accessible table, with its rows counted, and its canvas
        return !!host.querySelector('[role="grid"][aria-rowcount]') && [...host.querySelectorAll('canvas')].some(sized);
    }
  };
  const app = document.querySelector('[data-testid="stApp"]');
  const finished = !!app && app.dataset.testScriptState === 'notRunning'
    && app.dataset.testConnectionState === 'CONNECTED'
    && (window.__runsFinished || 0) > since
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-stale="true"]')
    && !document.querySelector('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]')
    && !document.querySelector('.st-key-MAP_FIRST_WAITING')  // dashboard/map_first.py: the rest is yet to come
    && (!selector || (count < 0
        ? [...document.querySelectorAll(selector)].filter(e => e.checkVisibility()).every(drawn)
          && !!document.querySelector(selector)
        : [...document.querySelectorAll(selector)].filter(drawn).length >= count));
  window.__finishedFrames = finished ? (window.__finishedFrames || 0) + 1 : 0;
  return window.__finishedFrames >= frames;
}""".replace("MAP_FIRST_WAITING", map_first.WAITING)

#: What ``APP_FINISHED`` looks at, for the message of a wait that timed out.
APP_STATE = """(selector) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const found = selector ? [...document.querySelectorAll(selector)] : [];
  return {script: app && app.dataset.testScriptState, connection: app && app.dataset.testConnectionState,
          runsStarted: window.__runsStarted, runsFinished: window.__runsFinished, states: window.__scriptStates,
          now: Math.round(performance.now()), url: location.href, statusWidget: !!document.querySelector('[data-testid="stStatusWidget"]'),
          stale: document.querySelectorAll('[data-stale="true"]').length,
          skeletons: document.querySelectorAll('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]').length,
          waitingForMap: !!document.querySelector('.st-key-MAP_FIRST_WAITING'),
          matches: found.length, visibleMatches: found.filter(e => e.checkVisibility()).length,
          canvases: found.map(e => [...e.querySelectorAll('canvas')].map(c => `${c.width}x${c.height}`).join(' '))};
}""".replace("MAP_FIRST_WAITING", map_first.WAITING)

#: Animation frames the finished state must last (a rerun queued by the run just ended starts within them).
STEADY_FRAMES = 5

# Playwright's expect() waits 5 s by default; a busy machine needs the pages' own 60 s (see ``page``).
expect.set_options(timeout=60_000)


def script_runs(page) -> int:
    """How many script runs of the app have finished on this page so far (see ``COUNT_SCRIPT_RUNS``)."""
    return page.evaluate("() => window.__runsFinished || 0")


def wait_until_idle(page, selector: str | None = None, count: int | str = 1, *, since: int | None = None,
                    timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished, never for a fixed time: the conditions of ``APP_FINISHED``,
    held for ``STEADY_FRAMES`` animation frames.

    ``selector``/``count``: wait for at least ``count`` elements matching ``selector`` too; charts, maps
    and data grids count once drawn, and a deck.gl map once its canvas shows more than a blank colour.
    ``count="all"``: every visible match drawn (at least one match).
    ``since``: a ``script_runs(page)`` taken before a click or a widget change; the wait then lasts
    until a rerun has started after it and finished (see ``after_rerun``)."""
    wanted = -1 if count == "all" else count
    page.evaluate("() => { window.__finishedFrames = 0; }")
    try:
        page.wait_for_function(APP_FINISHED, arg=[selector, wanted, -1 if since is None else since, STEADY_FRAMES],
                               polling="raf", timeout=timeout)
    except PlaywrightTimeout:
        state = page.evaluate(APP_STATE, selector)
        raise AssertionError(f"Streamlit had not finished within {timeout / 1000:.0f} s (waiting for "
                             f"{count} of {selector!r}, a run finished after {since}): {state}") from None
    if selector:
        maps = page.locator(selector).locator('xpath=ancestor-or-self::*[@data-testid="stDeckGlJsonChart"]')
        shown = [maps.nth(index) for index in range(maps.count()) if maps.nth(index).is_visible()]
        for deck in shown if wanted < 0 else shown[:wanted]:
            _wait_until_drawn(page, deck, timeout)


def _wait_until_drawn(page, deck, timeout: float) -> None:
    """Wait until a deck.gl map shows its layers: its WebGL canvas cannot be read back, so its pixels are
    taken from screenshots, one per animation frame, until they hold more than a blank background."""
    import io

    from PIL import Image

    deadline = time.monotonic() + timeout / 1000
    while True:
        shot = Image.open(io.BytesIO(deck.screenshot(animations="disabled"))).convert("RGB")
        if len(shot.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 2:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the map was not drawn within {timeout / 1000:.0f} s")
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => done()))")


@contextmanager
def after_rerun(page, selector: str | None = None, count: int | str = 1, timeout: float = 60_000):
    """``with after_rerun(page): <click or change a widget>`` returns once the rerun that the change causes
    has started and finished (and ``count`` of ``selector`` are drawn)."""
    before = script_runs(page)
    yield
    wait_until_idle(page, selector, count, since=before, timeout=timeout)


#: How long a page's first run may take: on a server just started, each Streamlit process loads the data in
#: its first run, which took over 60 s with the suite and two CPU burners on 2 busy cores.
FIRST_RUN_TIMEOUT = 180_000


def open_page(page, url: str, selector: str | None = None, count: int | str = 1,
              timeout: float = FIRST_RUN_TIMEOUT) -> None:
    """Load ``url`` and wait until its first run has finished (and ``count`` of ``selector`` are drawn)."""
    page.goto(url)
    wait_until_idle(page, selector, count, since=0, timeout=timeout)


@pytest.hookimpl(tryfirst=True)  # before pytest's own hook deselects by marker
def pytest_collection_modifyitems(config, items):
    """Every test under tests/browser carries the ``browser`` marker, so ``-m "not browser"`` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
