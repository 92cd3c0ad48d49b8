"""Shared fixtures: the real snapshot, a per-session cache, and edited snapshot copies."""

from __future__ import annotations

import json
import os
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import map_first
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


@pytest.fixture
def offered_downloads(monkeypatch) -> dict[str, dict]:
    """Every table the pages opened in this test offer for download, by the buttons' key: the table
    (made now, even when the page passes a function), its declared columns and its file name."""
    from dashboard import common

    offered = {}
    draw = common.download_extract

    def spy(table, columns, file_stem, key, *args, **kwargs):
        offered[key] = {"table": (table() if callable(table) else table).copy(), "columns": list(columns),
                        "file_stem": file_stem}
        return draw(table, columns, file_stem, key, *args, **kwargs)

    monkeypatch.setattr(common, "download_extract", spy)
    return offered


#: The pages that draw their map first and the rest once the browser reports the map drawn
#: (dashboard/map_first.py); tests/test_map_first.py checks that this lists every one.
MAP_FIRST_PAGES = ("map", "ward", "libraries")


def app_test(timeout: float = 180, map_drawn: bool = True) -> AppTest:
    """app.py in AppTest. ``map_drawn``: as if the browser had reported each page's map drawn (AppTest runs
    no JavaScript), so that every page draws all of itself in one run."""
    at = AppTest.from_file(str(config.REPO_ROOT / "app.py"), default_timeout=timeout)
    if map_drawn:
        for page in MAP_FIRST_PAGES:
            at.session_state[map_first.drawn_flag(page)] = True
    return at


def open_app_page(page: str, timeout: float = 180, map_drawn: bool = True, **params) -> AppTest:
    """Run app.py with ``params`` in the URL, switch to ``page`` and check it raised nothing (``map_drawn``:
    see ``app_test``)."""
    at = app_test(timeout, map_drawn)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _drawn_kind(properties: dict) -> str:
    if properties.get("dot"):
        return "dot"
    if properties.get("marker"):
        return "ring"
    return "outline" if properties.get("line") else "area"


def drawn_features(chart, kind: str = "area", layer_id: str = "areas") -> list[dict]:
    """The features of one kind that a deck chart (an AppTest element) draws in its layer ``layer_id``.
    dashboard/map_view.py draws everything of a map in the areas' one layer, told apart by properties:
    ``"area"`` (the areas themselves), ``"ring"`` (the unreliable-estimate rings, ``marker``),
    ``"outline"`` (``outline_features``, ``line``) and ``"dot"`` (``dot_features``, e.g. the library
    branches, each a disc over its rim)."""
    layer = next(layer for layer in json.loads(chart.proto.json)["layers"] if layer["id"] == layer_id)
    return [feature for feature in layer["data"]["features"] if _drawn_kind(feature["properties"]) == kind]


def html_tables(at: AppTest) -> list[pd.DataFrame]:
    """The tables a page drew with ``dashboard.tables`` (st.html), read back from their ``data-column``,
    ``data-kind`` and ``data-value`` attributes: one frame each, numbers as numbers, empty cells missing."""
    class Reader(HTMLParser):
        def __init__(self):
            super().__init__()
            self.columns, self.kinds, self.rows = [], [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if "data-column" in attrs:
                self.columns.append(attrs["data-column"])
                self.kinds.append(attrs["data-kind"])
            elif "data-value" in attrs:
                if tag == "th":
                    self.rows.append([])
                self.rows[-1].append(attrs["data-value"])

    frames = []
    for element in at.get("html"):
        reader = Reader()
        reader.feed(element.proto.body)
        if reader.columns:
            frame = pd.DataFrame(reader.rows, columns=reader.columns).replace("", None)
            for column, kind in zip(reader.columns, reader.kinds):
                if kind == "yes/no":
                    frame[column] = frame[column] == "True"
                elif kind != "text":
                    frame[column] = pd.to_numeric(frame[column])
            frames.append(frame)
    return frames
