"""Server plumbing: send page messages without Nagle's delay, and keep garbage collection short.

Streamlit's server (1.67, Starlette/uvicorn) binds its listening socket with
``socket.socket(family)``, whose ``proto`` is 0. asyncio disables Nagle's
algorithm (``TCP_NODELAY``) only on connections whose ``proto`` is
``IPPROTO_TCP`` (``asyncio.base_events._set_nodelay``), so every reader's
websocket keeps Nagle on. Any page message longer than one TCP segment then
holds back its last piece until the reader's computer acknowledges the
first: Linux delays that acknowledgement by up to 40 ms, Windows by up to
200 ms. This is the classic Nagle/delayed-ACK stall (RFC 896, RFC 1122
§4.2.3.2; Stuart Cheshire, "TCP Performance problems caused by interaction
between Nagle's Algorithm and Delayed ACK").

Measured with ``bench/load_sessions.py`` on loopback: a 10-ms page whose reply
was on the wire at +9 ms reached the reader at +50 ms, its last 2 KiB
arriving 43 ms after the first 120 KiB.

:func:`send_without_delay` makes asyncio set ``TCP_NODELAY`` on every TCP
connection it accepts from then on, whatever the socket's ``proto``. The app
calls it on its first run, so the connection that started that run keeps the
old behaviour; every later one is fixed.

:func:`settle_after_first_run` shortens Python's full garbage collections.
Every reader's page runs in this one process, and a full collection stops
them all while it walks every container object alive: after the first page
runs, about 240,000 of them, nearly all modules, functions and the shared
build, none of which will ever be garbage. Measured on the running server
(``gc.callbacks``), such a pause took 150–280 ms. After the first complete run
of a page (when that page's modules and shared tables have loaded), the
function collects once and moves everything then alive into the collector's
permanent generation (``gc.freeze``, Python docs, "gc — Garbage Collector
interface"), so later collections walk only what readers' sessions create:
30–100 ms, measured the same way.

No Streamlit import: this is asyncio and gc.
"""

from __future__ import annotations

import asyncio.base_events
import gc
import socket
import threading

_ORIGINAL = getattr(asyncio.base_events, "_set_nodelay", None)


def _set_nodelay(sock: socket.socket) -> None:
    """asyncio's ``_set_nodelay`` without its ``proto == IPPROTO_TCP`` condition."""
    if sock.family in {socket.AF_INET, socket.AF_INET6} and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def send_without_delay() -> bool:
    """Turn Nagle's algorithm off on every TCP connection asyncio accepts from now on.

    Idempotent. Returns False (and changes nothing) if this Python's asyncio
    has no ``_set_nodelay`` to extend, so a future asyncio cannot be broken by it."""
    if _ORIGINAL is None:
        return False
    asyncio.base_events._set_nodelay = _set_nodelay
    return True


_SETTLED: set[str] = set()
_SETTLED_LOCK = threading.Lock()


def settle_after_first_run(page: str) -> bool:
    """After ``page``'s first complete run in this process: collect, then freeze what is alive.

    Returns True when it froze. At most once per page, so at most once per page
    are the sessions alive at that moment frozen with the rest; should one of
    them later become cyclic garbage, that garbage is kept (a bounded amount,
    a few sessions at start-up)."""
    with _SETTLED_LOCK:
        if page in _SETTLED:
            return False
        _SETTLED.add(page)
    gc.collect()
    gc.freeze()
    return True
