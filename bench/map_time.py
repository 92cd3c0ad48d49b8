"""Benchmark: time from navigation to the map drawn, per geography, against one-polygon floors.

Starts the dashboard and a bench-only floor app (``bench/map_floor_page.py``) on loopback, then in
headless Debian chromium opens, in a fresh browser context each time and in a shuffled order each round:

- floor: the map page itself with its layer cut to ONE polygon (the goal's ratio: the polygons' cost);
- bare floor: a page with only a one-polygon deck, same pydeck setup (ratio: the whole page's cost);
- ``/map?geography=community_area`` / ``ward`` / ``tract`` (share of households without a subscription).

"Drawn" means the deck.gl canvas is in the page, the script has finished, and two animation frames
have passed. Each view is opened once first to warm the server's caches, then ``--repeat`` times;
the table gives the median seconds, the ratio to the floor and all websocket bytes the browser
received for the page (the layer's polygons and markers are most of them). Measured from outside:
nothing here imports the tests or changes the pages.
Goals (issue 4): <= 1.15x for community areas and wards, <= 1.5x for tracts. No assertions.

Both are served as ``scripts/run-dashboard.sh`` serves the dashboard (``scripts/launch.py``, one
Streamlit process per core behind HAProxy), so the floor pays the same hop as the map.

Usage: python bench/map_time.py [--repeat 7] [--workers N]
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

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]

CANVAS = '[data-testid="stDeckGlJsonChart"] canvas'
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
GEOGRAPHIES = ("community_area", "ward", "tract")
TIMEOUT_MS = 120_000


def start_server(script: str = "app.py", workers: int = 1) -> tuple[subprocess.Popen, str]:
    """``script`` served as ``scripts/run-dashboard.sh`` serves the dashboard, on a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = ["--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    return launch.start_in_background(workers, port, script, options), f"http://127.0.0.1:{port}"


def start_floor(workers: int) -> tuple[subprocess.Popen, str]:
    """The floor app on a free loopback port, served the same way as the dashboard."""
    return start_server(script="bench/map_floor_page.py", workers=workers)


def open_once(browser, url: str, has_map: bool = True) -> tuple[float, int]:
    """Seconds from navigation to the map drawn, and websocket bytes received, in a fresh context."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    received = [0]

    def watch(socket):
        socket.on("framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload)))

    try:
        page = context.new_page()
        page.on("websocket", watch)
        started = time.perf_counter()
        page.goto(url, timeout=TIMEOUT_MS)
        if has_map:
            page.wait_for_selector(CANVAS, state="attached", timeout=TIMEOUT_MS)
        page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
        page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
        elapsed = time.perf_counter() - started
        if page.locator('[data-testid="stException"]').count():
            raise RuntimeError(f"{url} showed a Python exception")
        return elapsed, received[0]
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--workers", type=int, default=launch.default_workers(), choices=range(1, 33),
                        metavar="1..32", help="Streamlit processes behind HAProxy, for the dashboard "
                        "and the floor alike (default: its default, as scripts/run-dashboard.sh serves it; "
                        "1 = plain Streamlit servers, no proxy)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    app, base = start_server(workers=args.workers)
    floor, floor_url = start_floor(args.workers)
    print(f"served by {args.workers} Streamlit process(es) each" + (" behind HAProxy" if args.workers > 1 else ""))
    urls = {"floor: map page, 1 polygon": f"{floor_url}/?geography=community_area",
            "bare floor: 1-polygon deck": f"{floor_url}/?bare=1",
            **{g: f"{base}/map?geography={g}" for g in GEOGRAPHIES}}
    times: dict[str, list[float]] = {name: [] for name in urls}
    socket_bytes: dict[str, list[int]] = {name: [] for name in urls}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            # A fresh context is a new reader, and the proxy takes its processes in turn: opening each view
            # once per process in a row warms it in every process.
            for url in [base, *urls.values()]:
                for _ in range(args.workers):
                    open_once(browser, url, has_map=url != base)  # first session: app.py loads the data
            order = list(urls.items())
            shuffle = random.Random(4)
            for _ in range(args.repeat):
                shuffle.shuffle(order)  # no view always runs first or right after another
                for name, url in order:
                    seconds, received = open_once(browser, url)
                    times[name].append(seconds)
                    socket_bytes[name].append(received)
            browser.close()
    finally:
        launch.stop(app)
        launch.stop(floor)
    floor_s = statistics.median(times["floor: map page, 1 polygon"])
    bare_s = statistics.median(times["bare floor: 1-polygon deck"])
    print(f"Map drawn after navigation, headless chromium, median of {args.repeat} (fresh context each)")
    print(f"{'view':<28}{'median s':>9}{'min s':>7}{'max s':>7}{'ratio':>7}{'goal':>6}{'vs bare':>9}"
          f"{'websocket':>11}")
    goals = {"community_area": 1.15, "ward": 1.15, "tract": 1.5}
    for name in urls:
        median = statistics.median(times[name])
        goal = f"{goals[name]:.2f}" if name in goals else ""
        print(f"{name:<28}{median:>9.2f}{min(times[name]):>7.2f}{max(times[name]):>7.2f}{median / floor_s:>7.2f}"
              f"{goal:>6}{median / bare_s:>9.2f}{statistics.median(socket_bytes[name]) / 1024:>7,.0f} KiB")


if __name__ == "__main__":
    main()
