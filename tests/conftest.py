"""Shared fixtures: the real snapshot, a per-session cache, and edited snapshot copies."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from equity import cache, config

SNAPSHOT = config.snapshot_dir()


@pytest.fixture(scope="session", autouse=True)
def session_cache(tmp_path_factory) -> Path:
    """Every test uses a cache of its own session, never the developer's ``.cache``."""
    root = tmp_path_factory.mktemp("equity-cache")
    os.environ["EQUITY_CACHE"] = str(root)
    return root


@pytest.fixture(scope="session")
def data(session_cache):
    """The dashboard data built from the real snapshot."""
    if not (SNAPSHOT / "acs").is_dir():
        pytest.fail(f"the raw snapshot is not at {SNAPSHOT}; set EQUITY_SNAPSHOT")
    return cache.load(SNAPSHOT, session_cache)


@pytest.fixture
def snapshot_copy(tmp_path):
    """A snapshot folder of symlinks to the real files; ``replace(rel, bytes)`` edits one file."""
    root = tmp_path / "snapshot"
    for path in SNAPSHOT.rglob("*"):
        if path.is_file():
            target = root / path.relative_to(SNAPSHOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)

    class Copy:
        path = root

        def replace(self, relative: str, content: bytes | None) -> Path:
            target = root / relative
            target.unlink()
            if content is not None:
                target.write_bytes(content)
            return target

        def read(self, relative: str) -> bytes:
            return (SNAPSHOT / relative).read_bytes()

    return Copy()


def open_app_page(page: str, timeout: float = 180, **params) -> AppTest:
    """Run app.py with ``params`` in the URL, switch to ``page`` and check it raised nothing."""
    at = AppTest.from_file(str(config.REPO_ROOT / "app.py"), default_timeout=timeout)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at
