"""The Downloads page in a real browser: click a button, open the file that arrives."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from equity import metrics

from .conftest import http_get, launch, open_page

pytestmark = pytest.mark.browser


def download(page, label: str) -> Path:
    with page.expect_download() as arrived:
        page.get_by_test_id("stDownloadButton").filter(has_text=label).get_by_role("button").click()
    return Path(arrived.value.path())


def test_downloaded_ward_csv_holds_the_dashboard_figures(page, streamlit_server, data):
    open_page(page, streamlit_server)
    open_page(page, f"{streamlit_server}/downloads?geo=ward&metrics=unconnected,households")
    assert "100 rows: 50 wards × 2 measures × 1 ACS period" in page.get_by_test_id("stMain").inner_text()

    raw = download(page, "Table (CSV)").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(pd.io.common.BytesIO(raw), encoding="utf-8-sig")
    expected = data.metrics[(data.metrics["geography"] == "ward") & (data.metrics["year"] == data.latest_year)
                            & data.metrics["metric"].isin(["unconnected", "households"])]
    assert len(table) == len(expected) == 100
    unconnected = table[table["Measure"] == metrics.METRICS["unconnected"].label].set_index("Ward")
    truth = expected[expected["metric"] == "unconnected"]
    truth = truth.set_index(truth["area_id"].astype(int).rename("Ward"))
    pd.testing.assert_series_equal(unconnected["Households (estimate)"].sort_index(),
                                   truth["count"].round(0).astype(int).sort_index(), check_names=False)
    pd.testing.assert_series_equal(unconnected["Share MOE (90%)"].sort_index(),
                                   truth["share_moe"].round(4).sort_index(), check_names=False)


def test_downloaded_map_layer_and_dictionary_match_the_preview(page, streamlit_server, data):
    open_page(page, streamlit_server)
    open_page(page, f"{streamlit_server}/downloads?geo=community_area&metrics=no_computer")

    layer = json.loads(download(page, "Map layer (GeoJSON)").read_text(encoding="utf-8"))
    assert len(layer["features"]) == 77
    rogers_park = next(f for f in layer["features"] if f["properties"]["Community area number"] == 1)
    truth = data.metrics[(data.metrics["geography"] == "community_area") & (data.metrics["area_id"] == "1")
                         & (data.metrics["metric"] == "no_computer") & (data.metrics["year"] == data.latest_year)]
    assert rogers_park["properties"]["Households (estimate)"] == round(truth["count"].iloc[0])
    assert rogers_park["geometry"]["type"] in {"Polygon", "MultiPolygon"}

    dictionary = pd.read_csv(download(page, "Data dictionary (CSV)"), encoding="utf-8-sig")
    assert set(rogers_park["properties"]) <= set(dictionary["Column or measure"])
    assert metrics.METRICS["no_computer"].label in set(dictionary["Column or measure"])

    note = download(page, "Provenance note (TXT)").read_text(encoding="utf-8")
    assert "every community area" in note and data.manifest["built_at"] in note


def test_a_download_comes_from_the_readers_own_process(page, streamlit_server):
    """Served behind HAProxy (two processes), a file made for a reader exists only in their
    process: HAProxy's cookie must bring the browser's download request back there."""
    open_page(page, f"{streamlit_server}/downloads?geo=ward&metrics=unconnected")
    own = next(c["value"] for c in page.context.cookies() if c["name"] == launch.COOKIE)
    with page.expect_download() as arrived:
        page.get_by_test_id("stDownloadButton").filter(has_text="Data dictionary (CSV)").get_by_role("button").click()
    received = Path(arrived.value.path()).read_bytes()
    assert "Column or measure" in received.decode("utf-8-sig")

    def fetch(worker: str) -> tuple[int, bytes]:
        status, _, body = http_get(arrived.value.url, cookie=f"{launch.COOKIE}={worker}")
        return status, body

    assert fetch(own) == (200, received)
    assert fetch(str(1 - int(own)))[0] == 404  # the other process never made this file
