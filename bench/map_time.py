"""Benchmark: time to map — from navigation to the map drawn — on every page with a map, against a bare map.

Starts the dashboard and two floors on loopback, all served the same way (``scripts/launch.py``): the
bare page (``bench/map_floor_page.py``: a Streamlit page holding only one pydeck polygon, drawn with the
dashboard's deck setup) and the same polygon inside the dashboard's frame at the Map page's address
(``bench/map_floor_app.py``: the page setup and sidebar navigation of ``app.py``). Then in headless Debian
chromium it opens, in a fresh browser context each time and in a shuffled order each round: both floors;
the Map page by community area, ward and tract; the ward brief (its ward map); the Libraries page (its
community-area map).

*Map drawn*: the deck.gl map shows its polygons (its canvas has a size and its pixels hold more than a
blank background: what a reader sees; ``KEEP_WEBGL_PIXELS`` makes them readable), timed from the start of
navigation (not from the page's ``load`` event, which
may come later or sooner). *Socket*: the browser opens the app's websocket (on any page but the home page, Streamlit's client first
asks ``/<page>/_stcore/health``, gets a 404 and retries at ``/`` after 100 ms: the frame floor shows that
delay). *Canvas*: the deck's canvas has a size (deck.gl has started; what earlier runs
of this benchmark called the map drawn). *Page finished*: Streamlit's script run is over as well and no page waits to
draw the rest after its map (``dashboard/map_first.py``): everything on the page is there. Each view is opened once per process first to warm the server's caches, then
``--repeat`` times. The table gives median seconds to the map drawn and its ratio to the floor's, the
same for the page finished, the map drawn against the frame floor (what the page's own content costs,
the frame apart), and the bytes the browser received before the map was drawn (HTTP responses, bodies
and headers, plus websocket frames). Measured from outside: nothing here imports the
tests or changes the pages (``dashboard.map_first`` gives only the class that marks a page still waiting). Goals (issue 17), map drawn against the bare page: <= 1.10x for community
areas and wards, <= 1.25x for tracts. No assertions.

Usage: python bench/map_time.py [--repeat 7] [--workers N] [--only WORDS ...]
(``--only tracts ward``: only the views whose name holds one of the words, beside both floors)
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import launch  # noqa: E402  (scripts/launch.py: how scripts/run-dashboard.sh serves the dashboard)
sys.path.insert(0, str(REPO))
from dashboard import map_first  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

#: Streamlit's run over, and no page waiting for its map to be drawn before the rest (dashboard/map_first.py).
FINISHED = """() => !!document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    && !document.querySelector('.st-key-MAP_FIRST_WAITING')""".replace("MAP_FIRST_WAITING", map_first.WAITING)
TIMEOUT_MS = 120_000
FLOOR = "bare page: one polygon"
FRAME = "the polygon in the frame"
#: The pages with a map, and each one's goal against the bare page.
VIEWS = {
    "map, community areas": ("/map?geography=community_area", 1.10),
    "map, wards": ("/map?geography=ward", 1.10),
    "map, tracts": ("/map?geography=tract", 1.25),
    "ward brief (ward 20)": ("/ward?ward=20", 1.10),
    "libraries": ("/libraries", 1.10),
}
#: Bench instrumentation, before any script of the page: WebGL canvases keep what they drew, so that the
#: check below can read the map's pixels (a WebGL canvas is otherwise blank once shown). The page's own
#: code is not touched.
KEEP_WEBGL_PIXELS = """(() => {
  const getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (type, attributes) {
    if (type === 'webgl2' || type === 'webgl') attributes = {...(attributes || {}), preserveDrawingBuffer: true};
    return getContext.call(this, type, attributes);
  };
})()"""
#: The map's canvas is in the page with a size (deck.gl has started; the measure of earlier runs).
CANVAS_READY = """() => [...document.querySelectorAll('[data-testid="stDeckGlJsonChart"] canvas')]
    .some(canvas => canvas.width > 0 && canvas.height > 0)"""
#: The map's polygons are on screen: a deck canvas with a size whose pixels (read at 64 x 64) hold more than
#: a blank background. A canvas with a size is not enough: deck.gl sizes it, then loads its WebGL code and
#: lays out the polygons (over a second for the 795 tracts) before it first paints.
PAINTED = """() => {
  const canvas = [...document.querySelectorAll('[data-testid="stDeckGlJsonChart"] canvas')]
    .find(c => c.width > 0 && c.height > 0);
  if (!canvas) return false;
  const probe = document.createElement('canvas');
  probe.width = probe.height = 64;
  const context = probe.getContext('2d', {willReadFrequently: true});
  context.drawImage(canvas, 0, 0, 64, 64);
  const pixels = context.getImageData(0, 0, 64, 64).data;
  const colours = new Set();
  for (let i = 0; i < pixels.length; i += 4) {
    colours.add(`${pixels[i]},${pixels[i + 1]},${pixels[i + 2]},${pixels[i + 3]}`);
    if (colours.size > 2) return true;
  }
  return false;
}"""


def start_server(script: str = "app.py", workers: int = 1) -> tuple[subprocess.Popen, str]:
    """``script`` served as ``scripts/run-dashboard.sh`` serves the dashboard, on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    return launch.start_in_background(workers, port, script, options), f"http://127.0.0.1:{port}"


def start_floor(workers: int, script: str = "bench/map_floor_page.py") -> tuple[subprocess.Popen, str]:
    """A floor app on a free loopback port, served the same way as the dashboard."""
    return start_server(script=script, workers=workers)


def open_once(browser, url: str) -> tuple[float, float, float, float, int]:
    """Seconds to the app's websocket opened, to the map's canvas ready, to the map drawn and to the page
    finished, and bytes received before the map was drawn."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(KEEP_WEBGL_PIXELS)
    received = [0]
    responses = []
    socket_opened = []

    def watch(socket):
        socket_opened.append(time.perf_counter())
        socket.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    try:
        page = context.new_page()
        page.on("websocket", watch)
        page.on("requestfinished", lambda request: responses.append(request))
        started = time.perf_counter()
        page.goto(url, timeout=TIMEOUT_MS, wait_until="commit")
        page.wait_for_function(CANVAS_READY, timeout=TIMEOUT_MS, polling="raf")
        ready = time.perf_counter() - started
        page.wait_for_function(PAINTED, timeout=TIMEOUT_MS, polling="raf")
        drawn = time.perf_counter() - started
        before_map = list(responses)
        frames_before_map = received[0]
        page.wait_for_function(FINISHED, timeout=TIMEOUT_MS, polling="raf")
        finished = time.perf_counter() - started
        if page.locator('[data-testid="stException"]').count():
            raise RuntimeError(f"{url} showed a Python exception")
        http_bytes = 0
        for request in before_map:
            sizes = request.sizes()
            http_bytes += sizes["responseBodySize"] + sizes["responseHeadersSize"]
        return socket_opened[0] - started, ready, drawn, max(drawn, finished), http_bytes + frames_before_map
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workers", type=int, default=launch.default_workers(), choices=range(1, 33),
                        metavar="1..32", help="Streamlit processes behind HAProxy, for the dashboard "
                        "and the floor alike (default: its default, as scripts/run-dashboard.sh serves it; "
                        "1 = plain Streamlit servers, no proxy)")
    parser.add_argument("--only", nargs="+", metavar="WORD", help="only the views whose name holds one of these")
    args = parser.parse_args()
    views = {name: view for name, view in VIEWS.items() if not args.only or any(w in name for w in args.only)}
    from playwright.sync_api import sync_playwright

    app, base = start_server(workers=args.workers)
    floor, floor_url = start_floor(args.workers)
    frame, frame_url = start_floor(args.workers, "bench/map_floor_app.py")
    print(f"served by {args.workers} Streamlit process(es) each" + (" behind HAProxy" if args.workers > 1 else ""))
    urls = {FLOOR: f"{floor_url}/", FRAME: f"{frame_url}/map",
            **{name: base + path for name, (path, _) in views.items()}}
    opened: dict[str, list[float]] = {name: [] for name in urls}
    ready: dict[str, list[float]] = {name: [] for name in urls}
    drawn: dict[str, list[float]] = {name: [] for name in urls}
    finished: dict[str, list[float]] = {name: [] for name in urls}
    received: dict[str, list[int]] = {name: [] for name in urls}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            # A fresh context is a new reader, and HAProxy spreads new readers over the processes: opening
            # each view once per process warms it in every process (the first session loads the data).
            for url in urls.values():
                for _ in range(args.workers):
                    open_once(browser, url)
            order = list(urls.items())
            shuffle = random.Random(4)
            for _ in range(args.repeat):
                shuffle.shuffle(order)  # no view always runs first or right after another
                for name, url in order:
                    seconds_opened, seconds_ready, seconds_drawn, seconds_finished, size = open_once(browser, url)
                    opened[name].append(seconds_opened)
                    ready[name].append(seconds_ready)
                    drawn[name].append(seconds_drawn)
                    finished[name].append(seconds_finished)
                    received[name].append(size)
            browser.close()
    finally:
        launch.stop(app)
        launch.stop(floor)
        launch.stop(frame)
    floor_ready = statistics.median(ready[FLOOR])
    floor_drawn = statistics.median(drawn[FLOOR])
    floor_finished = statistics.median(finished[FLOOR])
    frame_drawn = statistics.median(drawn[FRAME])
    print(f"Time to map, headless chromium, median of {args.repeat} (fresh context each); ratios against the "
          "bare page, and the map drawn against the polygon in the frame")
    print(f"{'view':<26}{'socket s':>9}{'canvas s':>9}{'ratio':>7}{'map drawn s':>12}{'ratio':>7}{'goal':>6}{'finished s':>11}"
          f"{'ratio':>7}{'vs frame':>9}{'bytes before map':>18}")
    for name in urls:
        goal = f"{VIEWS[name][1]:.2f}" if name in VIEWS else ""
        median_drawn, median_finished = statistics.median(drawn[name]), statistics.median(finished[name])
        median_ready = statistics.median(ready[name])
        print(f"{name:<26}{statistics.median(opened[name]):>9.2f}{median_ready:>9.2f}{median_ready / floor_ready:>7.2f}{median_drawn:>12.2f}{median_drawn / floor_drawn:>7.2f}{goal:>6}"
              f"{median_finished:>11.2f}{median_finished / floor_finished:>7.2f}{median_drawn / frame_drawn:>9.2f}"
              f"{statistics.median(received[name]) / 1024:>14,.0f} KiB")


if __name__ == "__main__":
    main()
