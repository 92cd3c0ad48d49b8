"""Server plumbing: send every page message without waiting on Nagle's algorithm.

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
old behaviour; every later one is fixed. No Streamlit import: this is asyncio.
"""

from __future__ import annotations

import asyncio.base_events
import socket

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
