"""Serve the dashboard from several Streamlit processes behind one sticky-session proxy.

Why: Streamlit runs every reader's page in one Python process, and Python runs
one thread at a time (the GIL). When two readers' pages run at once, each
takes about as long as both together: ``bench/load_sessions.py`` measured the
95th-percentile page at 2.1–2.7 times one reader's time with 20 readers on one
process, and a burst of 20 at 10–35 times. Several processes use several
processor cores, and each process's readers overlap less.

How: ``--workers`` copies of ``streamlit run app.py`` listen on loopback
ports; this program listens on the public port and passes every request and
websocket through to one of them. A reader must stay with one process: that
process holds their session, the files they upload and the files they
download. So the first reply to a new browser sets a cookie naming its
process (``equity_worker``), and every later request from that browser goes
there: "session affinity", which Streamlit's deployment docs name as the
requirement for running more than one replica behind a load balancer. A new
reader goes to the process with the fewest open sessions (least connections;
ties go round-robin). A websocket without the cookie (a client that keeps no
cookies) is placed the same way for its lifetime.

If a process exits, its readers are moved to another one (their page
reconnects; the query in its link keeps what they had chosen) and the process
is started again. All processes share one cookie secret, so a reader moved to
another process can still upload.

Usage: ``python scripts/serve.py [--workers N] [--port 8501] [--address ADDR] [streamlit options]``.
``--workers 1`` runs Streamlit itself on the public port, with no proxy.
Options this program does not know (``--theme.base dark``) go to every
Streamlit process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
import websockets  # noqa: E402
from starlette.background import BackgroundTask  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import PlainTextResponse, StreamingResponse  # noqa: E402
from starlette.websockets import WebSocket, WebSocketDisconnect  # noqa: E402

from pages import serving  # noqa: E402  (no Streamlit import)

WORKER_COOKIE = "equity_worker"
#: Headers that describe one connection, not the message (RFC 9110 §7.6.1): never forwarded.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                        "trailer", "transfer-encoding", "upgrade", "proxy-connection"})
#: Streamlit's defaults (``server.maxMessageSize``, ``server.websocketPingInterval``).
MAX_MESSAGE_BYTES = 200 * 1024 * 1024
#: Largest request body passed on (Streamlit's default ``server.maxUploadSize``; the dashboard's own is 5 MB).
MAX_BODY_BYTES = 200 * 1024 * 1024
PING_INTERVAL_S = 30
#: Idle connections to a process are dropped after this, before uvicorn's own 5-s keep-alive timeout
#: closes them: reusing one the process is closing at that instant fails the request (a 502).
KEEPALIVE_S = 2.0
START_TIMEOUT_S = 180


@dataclass
class Worker:
    """One Streamlit process on a loopback port."""

    index: int
    port: int
    process: subprocess.Popen | None = None
    up: bool = False
    sessions: int = 0  #: open websockets (readers' sessions) through the proxy
    starts: list[float] = field(default_factory=list)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Pool:
    """Which process serves which reader: pure bookkeeping, no I/O (tested on its own)."""

    def __init__(self, workers: list[Worker]):
        self.workers = workers
        self._turn = itertools.count()

    def from_cookie(self, value: str | None) -> Worker | None:
        """The process a reader's cookie names, if it is a process of this pool and up."""
        if value is None or not value.isdigit():
            return None
        index = int(value)
        if index < len(self.workers) and self.workers[index].up:
            return self.workers[index]
        return None

    def least_busy(self) -> Worker:
        """The up process with the fewest open sessions; ties in turn. Raises LookupError if none is up."""
        up = [w for w in self.workers if w.up]
        if not up:
            raise LookupError("no dashboard process is running")
        fewest = min(w.sessions for w in up)
        tied = [w for w in up if w.sessions == fewest]
        return tied[next(self._turn) % len(tied)]

    def choose(self, cookie_value: str | None) -> tuple[Worker, bool]:
        """The reader's process and whether it is a new assignment (the cookie must then be set)."""
        named = self.from_cookie(cookie_value)
        if named is not None:
            return named, False
        return self.least_busy(), True


def cookie_value(header: str | None) -> str | None:
    """The ``equity_worker`` value in a Cookie header, or None (a malformed header counts as none)."""
    if not header:
        return None
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(WORKER_COOKIE)
    return morsel.value if morsel is not None else None


def worker_cookie(worker: Worker) -> str:
    """Set-Cookie value that keeps a browser with ``worker`` (for its browser session only)."""
    return f"{WORKER_COOKIE}={worker.index}; Path=/; HttpOnly; SameSite=Lax"


def forwarded_headers(headers: list[tuple[bytes, bytes]], client_host: str | None,
                      scheme: str) -> list[tuple[str, str]]:
    """Request headers for the process: hop-by-hop ones dropped, X-Forwarded-* added (RFC 7239's de facto form)."""
    kept = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers
            if k.decode("latin-1").lower() not in HOP_BY_HOP]
    if client_host:
        kept.append(("x-forwarded-for", client_host))
    kept.append(("x-forwarded-proto", scheme))
    return kept


def target(scope: dict) -> str:
    """Path and query exactly as the reader sent them (undecoded), for the process."""
    raw = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    return (raw + (b"?" + query if query else b"")).decode("latin-1")


def backend_origin(origin: str | None, host: str | None, worker: Worker) -> str | None:
    """The Origin to show the process for a websocket.

    Streamlit accepts a websocket whose Origin names the host it was reached
    at (same origin). Reached through this proxy, a same-origin page's Origin
    names the public host, so it is rewritten to the process's own address;
    any other Origin is passed on unchanged and Streamlit judges it
    (``server.corsAllowedOrigins``)."""
    if origin is None:
        return None
    if host and origin.split("://", 1)[-1] == host:
        return worker.http
    return origin


class Proxy:
    """The ASGI application on the public port."""

    def __init__(self, pool: Pool):
        self.pool = pool
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(300.0, connect=5.0), follow_redirects=False,
                                        limits=httpx.Limits(max_connections=None, max_keepalive_connections=64,
                                                            keepalive_expiry=KEEPALIVE_S))

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            response = await self.http(Request(scope, receive))
            await response(scope, receive, send)
        elif scope["type"] == "websocket":
            await self.websocket(WebSocket(scope, receive, send))
        elif scope["type"] == "lifespan":
            await receive()  # lifespan.startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await self.client.aclose()
            await send({"type": "lifespan.shutdown.complete"})

    def _choose(self, cookie_header: str | None) -> tuple[Worker, bool]:
        return self.pool.choose(cookie_value(cookie_header))

    async def http(self, request: Request):
        """Pass one HTTP request to the reader's process and stream its reply back.

        If the process cannot be reached (it died; nothing was sent), the
        request goes to another process and the reader is moved there."""
        body = await _body_within_limit(request)
        if body is None:
            return PlainTextResponse(f"This upload is larger than the dashboard accepts "
                                     f"({MAX_BODY_BYTES // 2 ** 20} MB).", status_code=413)
        headers = forwarded_headers(request.scope["headers"], request.client.host if request.client else None,
                                    request.url.scheme)
        cookie = request.headers.get("cookie")
        for _ in range(len(self.pool.workers)):
            try:
                worker, new = self._choose(cookie)
            except LookupError as exc:
                return PlainTextResponse(f"The dashboard is starting or restarting ({exc}); try again in a minute.",
                                         status_code=503, headers={"Retry-After": "10"})
            try:
                outgoing = self.client.build_request(request.method, worker.http + target(request.scope),
                                                     content=body or None, headers=headers)
            except httpx.InvalidURL as exc:  # e.g. longer than httpx's 65,536 characters
                long = len(target(request.scope)) > 65_536
                return PlainTextResponse(f"This link cannot be opened: {exc}. Shorten it (fewer areas) and try again.",
                                         status_code=414 if long else 400)
            process = worker.process  # the one asked: the supervisor may replace it while we wait
            try:
                reply = await self.client.send(outgoing, stream=True)
                break
            except httpx.HTTPError as exc:
                gone = not worker.up or (process is not None and process.poll() is not None)
                if not (isinstance(exc, httpx.ConnectError) or gone):
                    return PlainTextResponse(f"The dashboard did not answer ({type(exc).__name__}); "
                                             "reload the page.", status_code=502)
                worker.up = False  # the supervisor restarts it; this request goes to another process
                cookie = None
        else:
            return PlainTextResponse("No dashboard process could be reached; try again in a minute.",
                                     status_code=503, headers={"Retry-After": "10"})
        kept = [(k, v) for k, v in reply.headers.multi_items() if k.lower() not in HOP_BY_HOP]
        if new:
            kept.append(("set-cookie", worker_cookie(worker)))
        response = StreamingResponse(reply.aiter_raw(), status_code=reply.status_code,
                                     background=BackgroundTask(reply.aclose))  # the connection goes back to the pool
        response.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in kept]
        return response

    async def websocket(self, client: WebSocket) -> None:
        """Join a reader's websocket to one on their process, message for message, until either closes.

        If the process cannot be reached, the reader is placed on another one (their page starts a new
        session there, as after any reconnection)."""
        scheme = "https" if client.scope.get("scheme") == "wss" else "http"
        headers = [(k, v) for k, v in forwarded_headers(client.scope["headers"], None, scheme)
                   if k.lower() not in {"host", "origin", "sec-websocket-key", "sec-websocket-version",
                                        "sec-websocket-protocol", "sec-websocket-extensions"}]
        cookie, upstream = client.headers.get("cookie"), None
        for _ in range(len(self.pool.workers)):
            try:
                worker, new = self._choose(cookie)
            except LookupError:
                break
            try:
                upstream = await websockets.connect(
                    f"ws://127.0.0.1:{worker.port}{target(client.scope)}", additional_headers=headers,
                    origin=backend_origin(client.headers.get("origin"), client.headers.get("host"), worker),
                    subprotocols=client.scope.get("subprotocols") or None, compression=None,
                    max_size=None, max_queue=None, ping_interval=None, open_timeout=10)
                break
            except OSError:
                worker.up = False  # the supervisor restarts it
                cookie = None
            except (websockets.exceptions.WebSocketException, asyncio.TimeoutError) as exc:
                status = getattr(getattr(exc, "response", None), "status_code", None)
                await client.close(code=1008 if status == 403 else 1011, reason="dashboard refused the connection")
                return
        if upstream is None:  # no process could be reached
            await client.close(code=1013, reason="dashboard restarting")  # 1013: try again later
            return
        worker.sessions += 1
        try:
            # A reader placed anew (no cookie, or their process was down) keeps this process from now on.
            await client.accept(subprotocol=upstream.subprotocol,
                                headers=[(b"set-cookie", worker_cookie(worker).encode())] if new else None)
            await _pump(client, upstream)
        finally:
            worker.sessions -= 1
            await upstream.close()


async def _body_within_limit(request: Request) -> bytes | None:
    """The request's body, or None if it is (or says it will be) over ``MAX_BODY_BYTES``: held in memory
    so that a request can be passed to another process if its own cannot be reached."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _exited(worker: Worker) -> bool:
    return worker.process is not None and worker.process.poll() is not None


async def _pump(client: WebSocket, upstream) -> None:
    async def to_process():
        while True:
            message = await client.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            await upstream.send(data if data is not None else message.get("text", ""))

    async def to_reader():
        async for data in upstream:
            if isinstance(data, bytes):
                await client.send_bytes(data)
            else:
                await client.send_text(data)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await client.close(code=upstream.close_code or 1000)

    tasks = [asyncio.ensure_future(to_process()), asyncio.ensure_future(to_reader())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError,
                                     websockets.exceptions.ConnectionClosed):
                await task


def free_port(taken: set[int]) -> int:
    """A loopback port free at this moment and not in ``taken`` (the public port, other processes')."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in taken:
            return port


def listening_socket(address: str, port: int) -> socket.socket:
    """The public socket, bound before any process starts: a port in use is reported at once, and no
    process can be handed the public port as its own."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def start_worker(worker: Worker, script: str, streamlit_args: list[str], secret: str, taken: set[int]) -> None:
    """Start (or restart) one Streamlit process on a loopback port free now and not in ``taken``."""
    worker.up = False
    worker.port = free_port(taken)
    worker.starts.append(time.monotonic())
    worker.process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(worker.port),
         "--logger.level", "warning",  # its start-up lines name a loopback port no reader can use
         *streamlit_args],
        cwd=REPO, env={**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": secret},
        stdout=subprocess.DEVNULL,  # likewise its "you can now view" lines
        preexec_fn=_die_with_parent if sys.platform == "linux" else None)


_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def _die_with_parent() -> None:
    """In the new process (Linux): be sent SIGTERM if this program dies, even by SIGKILL (prctl PDEATHSIG).

    Runs between fork and exec, so it only calls a C function looked up beforehand (no import, no lock)."""
    _PRCTL(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


async def wait_until_up(worker: Worker, client: httpx.AsyncClient, timeout: float = START_TIMEOUT_S) -> bool:
    """Poll the process's health check until it answers 200 (True) or it exits / time runs out (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.process is None or worker.process.poll() is not None:
            return False
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(worker.http + "/_stcore/health", timeout=2)).status_code == 200:
                worker.up = True
                return True
        await asyncio.sleep(0.3)
    return False


async def stop_process(worker: Worker, grace: float = 10) -> int | None:
    """Stop a process (SIGTERM, SIGKILL after ``grace`` seconds) and return its exit code, waiting
    without blocking the proxy: every other reader's traffic goes on meanwhile."""
    process = worker.process
    if process is None:
        return None
    if process.poll() is None:
        process.terminate()
    deadline = time.monotonic() + grace
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
        await asyncio.sleep(0.1)
    return process.returncode


def restart_delay(starts: list[float], now: float) -> float:
    """Seconds to wait before restarting a process: none at first, doubling (to 60 s) while it keeps failing
    within a minute of its last start, so a process that cannot start does not spin."""
    recent = [t for t in starts if now - t < 60]
    return 0.0 if len(recent) <= 1 else min(60.0, 2.0 ** (len(recent) - 1))


async def start_until_up(pool: Pool, worker: Worker, script: str, streamlit_args: list[str], secret: str,
                         client: httpx.AsyncClient, public_port: int, attempts: int = 3) -> bool:
    """Start a process and wait for it; a process that exits at once (say, its port was taken in the
    instant between choosing and binding it) is tried again on another port."""
    for _ in range(attempts):
        taken = {public_port} | {w.port for w in pool.workers if w is not worker}
        start_worker(worker, script, streamlit_args, secret, taken)
        if await wait_until_up(worker, client):
            return True
        await stop_process(worker)
    return False


async def supervise(pool: Pool, script: str, streamlit_args: list[str], secret: str, public_port: int) -> None:
    """Restart any process that exits; its readers are placed elsewhere meanwhile."""
    async with httpx.AsyncClient() as client:
        while True:
            await asyncio.sleep(1)
            for worker in pool.workers:
                if worker.up and not _exited(worker):
                    continue
                if not _exited(worker) and await wait_until_up(worker, client, timeout=5):
                    continue  # it was only slow to answer
                worker.up = False  # before any await: no reader is sent to it from now on
                code = await stop_process(worker)
                print(f"dashboard process {worker.index} stopped (exit {code}); starting it again", file=sys.stderr)
                await asyncio.sleep(restart_delay(worker.starts, time.monotonic()))
                await start_until_up(pool, worker, script, streamlit_args, secret, client, public_port, attempts=1)


async def serve(workers: int, address: str, port: int, streamlit_args: list[str], script: str = "app.py") -> int:
    serving.send_without_delay()  # uvicorn's sockets have proto 0 too (see pages/serving.py)
    try:
        public = listening_socket(address, port)
    except OSError as exc:
        print(f"cannot listen on {address}:{port}: {exc.strerror} (is the dashboard already running? "
              "choose another port with --port)", file=sys.stderr)
        return 1
    secret = secrets.token_hex(32)
    pool = Pool([Worker(index, 0) for index in range(workers)])
    try:
        async with httpx.AsyncClient() as client:
            started = await asyncio.gather(*(start_until_up(pool, w, script, streamlit_args, secret, client, port)
                                             for w in pool.workers))
        if not all(started):
            failed = [w.index for w, ok in zip(pool.workers, started) if not ok]
            print(f"dashboard process(es) {failed} did not start: see the messages above", file=sys.stderr)
            return 1
        config = uvicorn.Config(Proxy(pool), ws_max_size=MAX_MESSAGE_BYTES, ws_per_message_deflate=False,
                                ws_ping_interval=PING_INTERVAL_S, access_log=False, log_level="warning",
                                lifespan="on", server_header=False, date_header=False)  # the process's own pass
        server = uvicorn.Server(config)
        # uvicorn shuts down on SIGTERM, then raises the signal again under the handler it found:
        # make that an exception, so the processes are stopped below rather than left running.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        shown = "localhost" if address in {"0.0.0.0", "::", ""} else address
        print(f"Chicago Digital Equity Dashboard: http://{shown}:{port} ({workers} processes)", flush=True)
        watcher = asyncio.ensure_future(supervise(pool, script, streamlit_args, secret, port))
        try:
            await server.serve(sockets=[public])
        finally:
            watcher.cancel()
        return 0
    finally:
        public.close()
        for worker in pool.workers:
            if worker.process is not None and worker.process.poll() is None:
                worker.process.terminate()
        for worker in pool.workers:
            if worker.process is not None:
                try:
                    worker.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.process.kill()


def _exit_on_signal(signum: int, frame) -> None:
    raise SystemExit(128 + signum)


def default_workers() -> int:
    """One process per processor core, at most 4 (each holds the build: about 350 MiB)."""
    return max(1, min(4, os.cpu_count() or 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.environ.get("EQUITY_WORKERS", str(default_workers())),
                        metavar="1..32",
                        help="Streamlit processes (default: one per core, at most 4; or EQUITY_WORKERS)")
    parser.add_argument("--port", type=int, default=8501)
    parser.add_argument("--address", default="0.0.0.0", help="address to listen on (default: all)")
    parser.add_argument("--script", default="app.py",
                        help="Streamlit script to serve, relative to the repository (default: the dashboard, "
                        "app.py; the benchmarks serve their floor pages the same way)")
    args, streamlit_args = parser.parse_known_args(argv)
    if not 1 <= args.workers <= 32:
        parser.error(f"--workers (or EQUITY_WORKERS) must be 1..32, not {args.workers}")
    if args.workers == 1:
        command = [sys.executable, "-m", "streamlit", "run", args.script, "--server.headless", "true",
                   "--server.port", str(args.port), "--server.address", args.address, *streamlit_args]
        os.chdir(REPO)
        os.execv(sys.executable, command)
    return asyncio.run(serve(args.workers, args.address, args.port, streamlit_args, args.script))


if __name__ == "__main__":
    sys.exit(main())
