"""``pages.serving``: the dashboard's connections are sent without Nagle's delay.

The listening socket here is made by Streamlit's own ``_bind_socket`` (the one
``streamlit run`` uses), so the test follows the server's real code path: if
Streamlit or asyncio change how sockets are made, the accepted connection's
``TCP_NODELAY`` flag is what is checked, not how it got there."""

from __future__ import annotations

import asyncio
import asyncio.base_events
import concurrent.futures
import socket

import pytest
from streamlit.testing.v1 import AppTest
from streamlit.web.server.starlette.starlette_server import _bind_socket

from equity import config
from pages import serving


def _accepted_nodelay() -> int:
    """TCP_NODELAY of a connection accepted by asyncio on a socket bound the way Streamlit binds it."""

    async def accept_one() -> int:
        listener = _bind_socket("127.0.0.1", 0, 8)
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def on_connect(reader, writer):
            accepted.set_result(writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    # A thread of its own: the browser tests' Playwright keeps an event loop running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as worker:
        return worker.submit(asyncio.run, accept_one()).result(timeout=30)


@pytest.fixture
def asyncio_as_shipped(monkeypatch):
    """asyncio's own ``_set_nodelay`` for the test, whatever an earlier test (or app run) did."""
    monkeypatch.setattr(asyncio.base_events, "_set_nodelay", serving._ORIGINAL)


def test_connections_accepted_after_the_fix_send_without_delay(asyncio_as_shipped):
    assert serving.send_without_delay() is True
    assert _accepted_nodelay() != 0


def test_the_fix_is_idempotent(asyncio_as_shipped):
    serving.send_without_delay()
    serving.send_without_delay()
    assert asyncio.base_events._set_nodelay is serving._set_nodelay
    assert _accepted_nodelay() != 0


def test_the_fix_leaves_other_sockets_alone(asyncio_as_shipped):
    serving.send_without_delay()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        asyncio.base_events._set_nodelay(udp)  # a datagram socket has no Nagle: must not raise
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as local:
        asyncio.base_events._set_nodelay(local)


def test_the_app_applies_the_fix_on_its_first_run(asyncio_as_shipped):
    assert asyncio.base_events._set_nodelay is serving._ORIGINAL
    AppTest.from_file(str(config.REPO_ROOT / "app.py"), default_timeout=120).run()
    assert asyncio.base_events._set_nodelay is serving._set_nodelay


def test_a_page_settles_the_heap_once_after_its_first_run():
    import gc
    import uuid

    page = f"test-page-{uuid.uuid4()}"
    kept = object.__new__(type("Kept", (), {}))  # a container made before the first run ends
    assert gc.is_tracked(kept)
    assert serving.settle_after_first_run(page) is True
    frozen = gc.get_freeze_count()
    assert frozen > 0 and not any(o is kept for o in gc.get_objects()), "frozen objects are out of the collector's walk"
    assert serving.settle_after_first_run(page) is False, "only the first run of a page freezes"
    assert gc.get_freeze_count() == frozen


def test_the_app_settles_the_heap_after_a_page_runs():
    AppTest.from_file(str(config.REPO_ROOT / "app.py"), default_timeout=120).run()
    assert "" in serving._SETTLED, "the default page (url path '') settled after its run"
