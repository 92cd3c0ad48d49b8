"""Bounded local load test: 20 concurrent websocket sessions against the dashboard on loopback.

Serves the dashboard on 127.0.0.1 (never any other address) the way
``scripts/run-dashboard.sh`` does: ``scripts/launch.py``, one Streamlit process
per core under supervisord behind HAProxy (``--workers 1``: one plain Streamlit
server, no proxy). It talks to it the way the browser does: a websocket to ``/_stcore/stream``
carrying Streamlit's own protobuf messages (``BackMsg`` asking for a page run,
``ForwardMsg`` replies). A page is *ready* when the server sends
``script_finished`` for that run. This measures the server alone: 20 real
browsers on this machine would spend the same CPU on drawing that the server
needs, and the figure would mostly time the browsers (the previous version of
this script did exactly that).

What it runs, all in one client process against one server, every loop bounded:

1. **Single session (the floor).** One session opens each page ``--repeats``
   times, pausing ``--pause`` seconds between pages as a reader would; the
   median per page is that page's single-session time.
2. **Readers (the goal's scenario).** ``--sessions`` sessions are opened at once
   and held open. Each one opens ``--loads`` pages drawn from ``LINKS``
   (the pages and shared links people arrive with) in its own seeded random
   order, pausing a random ``--think`` interval between pages like a reader.
   A page of the navigation opens in the reader's session; a shared link
   (one with a query) opens in a new session, as a new tab does. Every
   page-ready time is divided by its page's floor; the p50 and p95 of
   those ratios are reported (goal, issue 7: p95 <= 2x, 0 errors).
3. **Burst (the worst case).** All sessions ask for the same page in the same
   instant, once per page. Each Streamlit process runs scripts one Python
   thread at a time, so a burst of N costs about N runs spread over the
   processes; this is reported so nobody mistakes the readers' figure for a
   burst figure.

An *error* is any of: a failed connection, a timeout, a run that did not
finish successfully, a Python exception element, an ``st.error`` box, or the
server showing another page than the one asked for.

Server memory (the proxy and all its Streamlit processes together): resident
set size with only the anchor session open, then, for
each of ``--rounds`` rounds of readers, with all sessions open after their
pages (the rise over the idle server divided by the sessions is the memory per
session) and after they close, which shows whether memory levels off.

One *anchor* session stays open for the whole run: Streamlit drops its
compiled-script cache whenever no session is connected, which a public
dashboard with any readers never sees; without the anchor the floor would pay
for recompiling every page and the ratios would flatter the server.

Usage: python bench/load_sessions.py [--sessions 20] [--loads 10] [--think 2 8] [--repeats 7] [--pause 1] [--workers N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import websockets  # noqa: E402  (installed with streamlit's server)
from streamlit.proto.Alert_pb2 import Alert  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402


sys.path.insert(0, str(REPO / "scripts"))
import launch  # noqa: E402  (scripts/launch.py)

#: Links readers arrive with: each page as the navigation opens it, plus shared links.
LINKS = {
    "overview": ("", ""),
    "map": ("map", ""),
    "map, tracts": ("map", "geography=tract"),
    "explorer": ("explorer", ""),
    "ward": ("ward", "ward=20"),
    "progress": ("progress", ""),
    "downloads": ("downloads", ""),
    "libraries": ("libraries", ""),
    "methodology": ("methodology", ""),
}
TIMEOUT_S = 120.0


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), MiB: the proxy and its
    HAProxy and Streamlit processes under supervisord when the dashboard is served by scripts/launch.py."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        for line in Path(f"/proc/{current}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) / 1024
        for task in Path(f"/proc/{current}/task").iterdir():
            pending += [int(child) for child in (task / "children").read_text().split()]
    return total


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


class Session:
    """One reader's websocket session, speaking Streamlit's protobuf protocol."""

    def __init__(self, base: str, cookie: str | None = None):
        self.base = base
        self.cookie = cookie
        self.socket = None
        self.page_hashes: dict[str, str] = {}

    async def connect(self) -> None:
        # max_queue=None: read every message as it arrives, as a browser does (the library's default
        # stops reading a connection after 16 unread messages, which a browser never does).
        self.socket = await websockets.connect(
            self.base.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"],
            origin=self.base, max_size=None, max_queue=None, open_timeout=TIMEOUT_S,
            additional_headers={"Cookie": self.cookie} if self.cookie else None)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()

    async def open(self, link: str) -> float:
        """Ask for one page run (as the browser does on navigation); seconds until it finished."""
        path, query = LINKS[link]
        request = BackMsg()
        request.rerun_script.query_string = query
        request.rerun_script.page_name = path
        request.rerun_script.page_script_hash = self.page_hashes.get(path, "")
        request.rerun_script.context_info.url = f"{self.base}/{path}" + (f"?{query}" if query else "")
        started = time.perf_counter()
        await self.socket.send(request.SerializeToString())
        return await asyncio.wait_for(self._until_finished(link, path), TIMEOUT_S) - started

    async def _until_finished(self, link: str, path: str) -> float:
        shown_hash, problems = None, []
        while True:
            reply = ForwardMsg()
            reply.ParseFromString(await self.socket.recv())
            kind = reply.WhichOneof("type")
            if kind == "navigation":
                self.page_hashes.update({page.url_pathname: page.page_script_hash
                                         for page in reply.navigation.app_pages})
                shown_hash = reply.navigation.page_script_hash
            elif kind == "page_not_found":
                problems.append("page not found")
            elif kind == "delta" and reply.delta.WhichOneof("type") == "new_element":
                element = reply.delta.new_element
                if element.WhichOneof("type") == "exception":
                    problems.append(f"Python exception: {element.exception.message[:120]}")
                elif element.WhichOneof("type") == "alert" and element.alert.format == Alert.ERROR:
                    problems.append(f"error box: {element.alert.body[:120]}")
            elif kind == "script_finished":
                finished_at = time.perf_counter()
                status = reply.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # the page asked for a rerun (st.rerun); the browser waits for that one too
                if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                    problems.append(f"run ended with {ForwardMsg.ScriptFinishedStatus.Name(status)}")
                if shown_hash != self.page_hashes.get(path):
                    problems.append("the server showed another page")
                if problems:
                    raise RuntimeError(f"{link}: " + "; ".join(problems))
                return finished_at


async def visit(session: Session, link: str) -> tuple[Session, float]:
    """Open ``link`` as a reader would: a page of the navigation in the same session, a
    shared link (one with a query) in a new tab, i.e. a new session; its time includes connecting."""
    if not LINKS[link][1]:
        return session, await session.open(link)
    started = time.perf_counter()
    arrived = Session(session.base)
    await arrived.connect()
    try:
        await arrived.open(link)
    except BaseException:
        await arrived.close()
        raise
    await session.close()
    return arrived, time.perf_counter() - started


async def single_session_floor(base: str, repeats: int, pause: float, workers: int = 1) -> dict[str, float]:
    """Median time of each link for one reader alone, pausing ``pause`` seconds between pages.

    First every page is opened once in each of the ``workers`` Streamlit processes
    (each session carrying the proxy's cookie for one of them), as the first
    readers after a start would: a page's first run in a process loads its
    shared tables, and that belongs to neither the floor nor the readers' figure.

    The pause matters: the server finishes some work after a run has reported
    (about 30 ms here), so back-to-back runs would time that too and make a
    slower, flattering floor."""
    warming = [Session(base, cookie=f"{launch.COOKIE}={index}") for index in range(workers)]
    try:
        for session in warming:
            await session.connect()
        for link in LINKS:
            await asyncio.gather(*(session.open(link) for session in warming))
    finally:
        for session in warming:
            await session.close()
    session = Session(base)
    await session.connect()
    try:
        floor = {}
        for link in LINKS:
            times = []
            for _ in range(repeats):
                await asyncio.sleep(pause)
                session, seconds = await visit(session, link)
                times.append(seconds)
            floor[link] = statistics.median(times)
        return floor
    finally:
        await session.close()


async def reader(base: str, seed: int, loads: int, think: tuple[float, float], results: list,
                 errors: list) -> Session | None:
    """One reader: connect, then ``loads`` pages with think time between them; the session stays open."""
    chooser = random.Random(seed)
    session = Session(base)
    try:
        await session.connect()
    except Exception as exc:  # noqa: BLE001 - every failure is a reported error
        errors.append(f"connect: {exc!r}")
        return None
    await asyncio.sleep(chooser.uniform(0, think[1]))  # readers do not arrive in lockstep
    for _ in range(loads):
        link = chooser.choice(list(LINKS))
        try:
            session, seconds = await visit(session, link)
            results.append((link, seconds))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{link}: {exc!r}"[:240])
            break
        await asyncio.sleep(chooser.uniform(*think))
    return session


async def burst(base: str, sessions: list[Session], link: str) -> tuple[list[float], list[str]]:
    outcomes = await asyncio.gather(*(s.open(link) for s in sessions), return_exceptions=True)
    return ([o for o in outcomes if isinstance(o, float)],
            [f"{link}: {o!r}"[:240] for o in outcomes if not isinstance(o, float)])


def ratio_line(name: str, floor: float, times: list[float], errors: int) -> str:
    if not times:
        return f"{name:<16}{floor:>9.3f}{'-':>9}{'-':>9}{'-':>8}{'-':>8}{len(times):>6}{errors:>7}"
    p50, p95 = statistics.median(times), percentile(times, 0.95)
    return (f"{name:<16}{floor:>9.3f}{p50:>9.3f}{p95:>9.3f}{p50 / floor:>8.2f}{p95 / floor:>8.2f}"
            f"{len(times):>6}{errors:>7}")


HEADER = f"{'page':<16}{'single s':>9}{'p50 s':>9}{'p95 s':>9}{'p50 x':>8}{'p95 x':>8}{'runs':>6}{'errors':>7}"


async def readers_round(base: str, args, number: int) -> tuple[list, list, list[Session], float]:
    """One round of ``args.sessions`` readers; returns their timings, errors, open sessions, seconds."""
    results, errors = [], []
    started = time.perf_counter()
    sessions = await asyncio.gather(*(reader(base, args.seed + 1000 * number + i, args.loads, tuple(args.think),
                                             results, errors) for i in range(args.sessions)))
    return results, errors, [s for s in sessions if s is not None], time.perf_counter() - started


def report_readers(floor: dict[str, float], results: list, errors: list, elapsed: float) -> None:
    print(HEADER)
    for link in LINKS:
        times = [t for name, t in results if name == link]
        print(ratio_line(link, floor[link], times, sum(e.startswith(link + ":") for e in errors)))
    ratios = [t / floor[name] for name, t in results]
    if ratios:
        print(f"all pages: {len(results)} loads in {elapsed:.1f} s ({len(results) / elapsed:.1f} per s); "
              f"ratio to single session p50 {statistics.median(ratios):.2f}x, "
              f"p95 {percentile(ratios, 0.95):.2f}x; errors {len(errors)}")


async def run(args) -> int:
    port = launch.free_loopback_ports(1)[0]
    process = launch.start_in_background(args.workers, port, streamlit_args=["--server.fileWatcherType", "none"])
    base = f"http://127.0.0.1:{port}"
    print(f"dashboard served by {'HAProxy with ' if args.workers > 1 else ''}{args.workers} "
          f"Streamlit process{'es' if args.workers > 1 else ''} on {base}")
    anchor = Session(base)
    problems = []
    try:
        await anchor.connect()
        floor = await single_session_floor(base, args.repeats, args.pause, args.workers)
        idle_mib = rss_mib(process.pid)
        print(f"server memory with one idle session: {idle_mib:.0f} MiB")
        for number in range(1, args.rounds + 1):
            print(f"\n== Readers, round {number} of {args.rounds}: {args.sessions} concurrent sessions, "
                  f"{args.loads} page loads each, think {args.think[0]:g}-{args.think[1]:g} s ==")
            results, errors, sessions, elapsed = await readers_round(base, args, number)
            loaded_mib = rss_mib(process.pid)
            report_readers(floor, results, errors, elapsed)
            problems += errors
            if number == args.rounds:
                print(f"\n== Burst: all {len(sessions)} sessions ask for the same page at once ==")
                print(HEADER)
                for link in LINKS:
                    times, failed = await burst(base, sessions, link)
                    problems += failed
                    print(ratio_line(link, floor[link], times, len(failed)))
            for session in sessions:
                await session.close()
            await asyncio.sleep(2)
            print(f"server memory: {loaded_mib:.0f} MiB with {len(sessions)} readers open "
                  f"({(loaded_mib - idle_mib) / max(1, len(sessions)):.2f} MiB per session above the idle "
                  f"server), {rss_mib(process.pid):.0f} MiB after they closed")
        for problem in problems[:10]:
            print("error:", problem)
        return 1 if problems else 0
    finally:
        await anchor.close()
        launch.stop(process)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, choices=range(1, 201), metavar="1..200")
    parser.add_argument("--loads", type=int, default=10, choices=range(1, 31), metavar="1..30",
                        help="page loads per reader")
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"),
                        help="seconds a reader spends on a page before the next")
    parser.add_argument("--repeats", type=int, default=7, choices=range(1, 21), metavar="1..20",
                        help="single-session runs per page (median)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds the single reader waits between pages")
    parser.add_argument("--rounds", type=int, default=2, choices=range(1, 11), metavar="1..10",
                        help="rounds of readers (memory after each shows whether it levels off)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=launch.default_workers(), choices=range(1, 33),
                        metavar="1..32", help="Streamlit processes, as scripts/launch.py (the README's way to "
                        "run the dashboard) starts them; default: its default, one per core (at most 4); "
                        "1 = one plain Streamlit server, no proxy")
    args = parser.parse_args()
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
