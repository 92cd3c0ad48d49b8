"""Bounded local load test: N concurrent browser sessions against a dashboard on loopback.

Starts its own Streamlit server on 127.0.0.1 (never any other address), then:
1. one session alone opens each page (the floor, measured in this run);
2. N sessions (default 20) open the same page at once, in one headless
   Debian chromium with a browser context each.
Reports errors, p50/p95 page-ready time as a ratio to the single session, and
the server's resident memory per extra session. Goal (issue 7): 0 errors,
p95 <= 2x. Every loop is bounded in count and time; the script stops itself.

Usage: python bench/load_sessions.py [--sessions 20] [--pages overview,map]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server  # noqa: E402

READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'
PAGE_PATHS = {"overview": "/", "map": "/map", "explorer": "/explorer", "ward": "/ward",
              "progress": "/progress", "downloads": "/downloads", "libraries": "/libraries"}
TIMEOUT_MS = 120_000


def rss_mib(pid: int) -> float:
    """Resident memory of a process (Linux /proc), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def open_once(browser, url: str) -> float:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = await context.new_page()
        started = time.perf_counter()
        await page.goto(url, timeout=TIMEOUT_MS)
        await page.wait_for_selector(READY, timeout=TIMEOUT_MS)
        await page.wait_for_timeout(200)
        await page.wait_for_selector(READY, timeout=TIMEOUT_MS)
        exceptions = await page.locator('[data-testid="stException"]').count()
        if exceptions:
            raise RuntimeError("the page showed a Python exception")
        return time.perf_counter() - started - 0.2
    finally:
        await context.close()


async def run(sessions: int, pages: list[str]) -> None:
    from playwright.async_api import async_playwright

    process, base = start_server()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            await open_once(browser, base)  # warm the server's caches once
            print(f"{'page':<12}{'single s':>10}{'p50 s':>8}{'p95 s':>8}{'p50 ratio':>11}{'p95 ratio':>11}"
                  f"{'errors':>8}{'MiB/session':>13}")
            for name in pages:
                url = base + PAGE_PATHS[name]
                single = statistics.median([await open_once(browser, url) for _ in range(3)])
                before = rss_mib(process.pid)
                results = await asyncio.gather(*(open_once(browser, url) for _ in range(sessions)),
                                               return_exceptions=True)
                after = rss_mib(process.pid)
                times = sorted(r for r in results if isinstance(r, float))
                errors = [r for r in results if not isinstance(r, float)]
                p50 = statistics.median(times) if times else float("nan")
                p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))] if times else float("nan")
                print(f"{name:<12}{single:>10.2f}{p50:>8.2f}{p95:>8.2f}{p50 / single:>11.2f}{p95 / single:>11.2f}"
                      f"{len(errors):>8}{(after - before) / sessions:>13.1f}")
                for error in errors[:3]:
                    print(f"  error: {type(error).__name__}: {str(error)[:160]}")
            await browser.close()
        print(f"server RSS at end: {rss_mib(process.pid):.0f} MiB; {sessions} concurrent sessions per page")
    finally:
        stop_server(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--pages", default="overview,map")
    args = parser.parse_args()
    pages = [p for p in args.pages.split(",") if p]
    unknown = [p for p in pages if p not in PAGE_PATHS]
    if unknown:
        raise SystemExit(f"unknown page(s) {', '.join(unknown)}; choose from {', '.join(PAGE_PATHS)}")
    asyncio.run(run(min(args.sessions, 50), pages))


if __name__ == "__main__":
    main()
