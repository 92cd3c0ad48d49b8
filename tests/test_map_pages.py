"""The map and ward pages in Streamlit's AppTest: switching views, URL state, bad links, area detail."""

import json

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import drawn_features, html_tables, open_app_page

from equity import compare, maps, metrics

TIMEOUT = 120


def open_page(page: str, **params) -> AppTest:
    return open_app_page(page, timeout=TIMEOUT, **params)


def rows_of(data, geography, metric="unconnected"):
    table = data.metrics
    return table[(table["geography"] == geography) & (table["metric"] == metric) & (table["year"] == data.latest_year)]


def frame_with(at: AppTest, column: str):
    """The first dataframe, or HTML table (dashboard.tables), on the page that has ``column``."""
    for frame in [element.value for element in at.dataframe] + html_tables(at):
        if column in frame.columns:
            return frame
    raise AssertionError(f"no table with a {column!r} column; tables: {[list(f.value.columns) for f in at.dataframe]}")


def table_with(at: AppTest, column: str):
    """The first st.table, or HTML table (dashboard.tables), on the page that has ``column``."""
    for table in [element.value for element in at.table] + html_tables(at):
        if column in table.columns:
            return table
    raise AssertionError(f"no table with a {column!r} column")


# ---- map page -------------------------------------------------------------------------------------------

def test_map_opens_on_community_area_shares_with_a_row_per_area_in_the_table(data):
    at = open_page("pages/map.py")
    assert at.radio(key="map-geography").value == "community_area"
    assert at.radio(key="map-mode").value == "share"
    table = frame_with(at, "area_name")
    assert len(table) == len(rows_of(data, "community_area"))
    assert at.query_params["geography"] == "community_area" and at.query_params["metric"] == "unconnected"


def test_switching_to_wards_redraws_the_table_and_updates_the_url(data):
    at = open_page("pages/map.py")
    at.radio(key="map-geography").set_value("ward").run()
    assert len(frame_with(at, "area_name")) == len(rows_of(data, "ward"))
    assert at.query_params["geography"] == "ward"
    assert any("by ward" in s.value for s in at.subheader)


def test_switching_measure_and_mode_shows_counts_of_that_measure(data):
    at = open_page("pages/map.py")
    at.selectbox(key="map-metric").set_value("no_computer").run()
    at.radio(key="map-mode").set_value("count").run()
    assert at.query_params["metric"] == "no_computer" and at.query_params["mode"] == "count"
    heading = next(s.value for s in at.subheader if "by community area" in s.value)
    assert heading.startswith(metrics.METRICS["no_computer"].label) and "(number of households)" in heading
    table = frame_with(at, "count_reliability")
    expected = rows_of(data, "community_area", "no_computer").set_index("area_id")["count_reliability"]
    assert sorted(table["count_reliability"]) == sorted(expected)


def test_table_is_sorted_from_most_to_least_need(data):
    at = open_page("pages/map.py", metric="high_speed_broadband")
    shares = frame_with(at, "share")["share"].dropna().tolist()
    assert shares == sorted(shares)  # higher is better: lowest share (most need) first
    at.selectbox(key="map-metric").set_value("unconnected").run()
    shares = frame_with(at, "share")["share"].dropna().tolist()
    assert shares == sorted(shares, reverse=True)


def test_households_have_no_share_so_the_map_shows_the_number_with_a_note():
    at = open_page("pages/map.py", metric="households", mode="share")
    assert any("not a share" in info.value for info in at.info)
    assert at.query_params["mode"] == "count"


@pytest.mark.parametrize("name, value, widget, fallback", [
    ("geography", "moon", "map-geography", "community_area"),
    ("metric", "<script>alert(1)</script>", "map-metric", "unconnected"),
    ("mode", "percent", "map-mode", "share"),
    ("year", "1999", "map-year", None),
    ("classes", "jenks", "map-classes", "quantiles"),
])
def test_bad_url_value_shows_a_notice_naming_it_and_falls_back(data, name, value, widget, fallback):
    at = open_page("pages/map.py", **{name: value})
    notices = [w.value for w in at.warning]
    assert any(f"`{name}`" in n for n in notices), notices
    expected = fallback if fallback is not None else str(data.latest_year)
    shown = at.radio(key=widget) if widget in ("map-geography", "map-mode", "map-classes") else at.selectbox(key=widget)
    assert str(shown.value) == expected
    assert at.query_params[name] == expected


def test_every_unreliable_area_gets_a_ring_on_the_map_and_a_count_in_the_legend(data):
    at = open_page("pages/map.py", geography="tract", mode="count")
    ringed = {f["properties"]["id"] for f in drawn_features(at.get("deck_gl_json_chart")[0], "ring")}
    rows = rows_of(data, "tract").set_index("area_id")
    expected = set(rows.index[(rows["count_reliability"] == "unreliable") & maps.has_estimate(rows, "count")])
    assert ringed == expected and expected
    legend = next(h.proto.body for h in at.get("html") if "equity-legend" in h.proto.body)
    assert f"({len(expected)} of {len(rows)})" in legend
    at.toggle(key="map-libraries").set_value(True).run()
    assert {f["properties"]["id"] for f in drawn_features(at.get("deck_gl_json_chart")[0], "ring")} == expected, \
        "the rings stay when the library branches are laid over the map"


def test_view_from_the_url_is_restored():
    at = open_page("pages/map.py", geography="tract", metric="cellular_only", mode="count", classes="natural_breaks")
    assert at.radio(key="map-geography").value == "tract"
    assert at.selectbox(key="map-metric").value == "cellular_only"
    assert at.radio(key="map-mode").value == "count"
    assert at.radio(key="map-classes").value == "natural_breaks"
    assert not at.warning


def test_area_in_the_url_opens_its_detail_with_every_measure_compared_with_the_city(data):
    ward = "20"
    at = open_page("pages/map.py", geography="ward", area=ward)
    assert at.selectbox(key="map-area-ward").value == ward
    assert [f["properties"]["id"] for f in drawn_features(at.get("deck_gl_json_chart")[0], "outline")] == [ward]
    figures = table_with(at, "Share compared with the city")
    assert len(figures) == len(metrics.METRICS)
    area = data.metrics[(data.metrics["geography"] == "ward") & (data.metrics["area_id"] == ward)
                        & (data.metrics["year"] == data.latest_year)].set_index("metric")
    city = data.metrics[(data.metrics["geography"] == "city") & (data.metrics["year"] == data.latest_year)].set_index("metric")
    verdict = compare.compare_with_city(area["share"], area["share_moe"], city["share"].reindex(area.index),
                                        city["share_moe"].reindex(area.index))["comparison"]
    unconnected = figures.loc[metrics.METRICS["unconnected"].label, "Share compared with the city"]
    assert verdict["unconnected"].split()[0] in unconnected  # "higher" / "lower" / "not"
    tracts = frame_with(at, "Households in this area")
    expected = data.crosswalks[(data.crosswalks["geography"] == "ward") & (data.crosswalks["target"] == ward)
                               & (data.crosswalks["vintage"] == 2020)]
    assert sorted(tracts["GEOID"]) == sorted(expected["tract"])
    overlap = frame_with(at, "Share of the ward's households")
    assert len(overlap) == (data.ward_community_areas["ward"] == ward).sum()


def test_choosing_an_area_puts_it_in_the_url_and_switching_geography_clears_it():
    at = open_page("pages/map.py")
    at.selectbox(key="map-area-community_area").set_value("25").run()
    assert at.query_params["area"] == "25"
    assert table_with(at, "Share compared with the city") is not None
    at.radio(key="map-geography").set_value("tract").run()
    assert "area" not in at.query_params
    assert not at.warning


def test_tract_detail_names_the_community_area_and_ward_it_belongs_to(data):
    tract = rows_of(data, "tract").sort_values("count", ascending=False)["area_id"].iloc[0]
    at = open_page("pages/map.py", geography="tract", area=tract)
    parents = frame_with(at, "Share of the tract's households")
    assert set(parents["Geography"]) == {"Community area", "Ward"}


def test_unknown_area_in_the_url_shows_a_notice_and_no_detail():
    at = open_page("pages/map.py", geography="ward", area="99")
    assert any("`area`" in w.value for w in at.warning)
    assert at.selectbox(key="map-area-ward").value == ""


# ---- ward page ------------------------------------------------------------------------------------------

def test_ward_page_shows_the_ward_in_the_url_with_its_figures_and_rank(data):
    at = open_page("pages/ward.py", ward="20")
    assert at.title[0].value.startswith("Ward 20")
    row = rows_of(data, "ward").set_index("area_id").loc["20"]
    assert at.metric[0].value == f"{row['count']:,.0f} ± {row['count_moe']:,.0f}"
    wards = rows_of(data, "ward").set_index("area_id")
    ranks = compare.rank_ranges(wards["share"], wards["share_moe"]).loc["20"]
    sentence = next(m.value for m in at.markdown if "Rank among" in m.value)
    assert maps.describe_rank(ranks["rank"], ranks["rank_best"], ranks["rank_worst"], len(wards)) in sentence
    overlap = table_with(at, "Share of the ward's households")
    assert len(overlap) == (data.ward_community_areas["ward"] == "20").sum()
    figures = table_with(at, "Share compared with the city")
    assert len(figures) == len(metrics.METRICS)


def test_ward_page_with_a_bad_ward_falls_back_to_ward_1_with_a_notice():
    at = open_page("pages/ward.py", ward="51")
    assert any("`ward`" in w.value for w in at.warning)
    assert at.title[0].value.startswith("Ward 1:")
    assert at.query_params["ward"] == "1"


def test_picking_another_ward_updates_the_brief_and_the_url():
    at = open_page("pages/ward.py", ward="20")
    at.selectbox(key="ward-choice").set_value("3").run()
    assert at.title[0].value.startswith("Ward 3:")
    assert at.query_params["ward"] == "3"
    outlined = drawn_features(at.get("deck_gl_json_chart")[0], "outline", "ward-tracts")
    assert [f["properties"]["id"] for f in outlined] == ["3"], "the map is redrawn for the ward picked"


# ---- shared cached layers --------------------------------------------------------------------------------

def test_drawing_the_map_pages_leaves_the_shared_cached_layers_as_computed(data):
    """``map_view`` caches layers with ``st.cache_resource``: one object shared by every reader. A page that
    changed it (adding a property, dropping a feature) would change every later reader's map."""
    from dashboard import map_view

    build, year = data.folder.name, data.latest_year
    views = {("community_area", "share"): None, ("ward", "share"): None, ("tract", "share"): None,
             ("community_area", "count"): None}
    for geography_name, mode in views:
        shared = map_view.choropleth(build, geography_name, "unconnected", mode, year, "quantiles")
        views[(geography_name, mode)] = (shared, json.dumps(shared, sort_keys=True, default=str))
    geometries = map_view.geometries(build, "ward")
    geometries_before = json.dumps(geometries, sort_keys=True)

    open_page("pages/map.py")
    open_page("pages/map.py", geography="ward", area="20")
    open_page("pages/map.py", geography="tract")
    open_page("pages/ward.py", ward="20")
    open_page("pages/libraries.py")

    for (geography_name, mode), (shared, before) in views.items():
        again = map_view.choropleth(build, geography_name, "unconnected", mode, year, "quantiles")
        assert again is shared, "the pages should have drawn from the same cached object"
        assert json.dumps(again, sort_keys=True, default=str) == before, f"{geography_name} {mode} layer changed"
    assert json.dumps(map_view.geometries(build, "ward"), sort_keys=True) == geometries_before


def test_the_drawn_deck_follows_every_choice_of_the_reader(data):
    """Deck JSON is written once per distinct set of choices and shared: each choice must get its own."""
    at = open_page("pages/map.py", geography="ward", area="20")

    def drawn():
        chart = at.get("deck_gl_json_chart")[0]
        return ([f["properties"]["id"] for f in drawn_features(chart, "outline")],
                [f["properties"]["name"] for f in drawn_features(chart, "dot")])

    assert drawn()[0] == ["20"]
    at.selectbox(key="map-area-ward").set_value("3").run()
    assert drawn()[0] == ["3"]
    assert drawn()[1] == []
    at.toggle(key="map-libraries").set_value(True).run()
    # Each branch is a dot over its white rim, in the areas' layer.
    assert sorted(drawn()[1]) == sorted(2 * data.library_table("branches")["branch"].tolist()), "the branches are drawn"
    assert drawn()[0] == ["3"], "the picked area stays outlined under the branches"
    at.toggle(key="map-libraries").set_value(False).run()
    at.radio(key="map-geography").set_value("community_area").run()
    assert {f["properties"]["id"] for f in drawn_features(at.get("deck_gl_json_chart")[0])} == set(
        rows_of(data, "community_area")["area_id"])


def test_the_area_table_can_be_sorted_by_name_and_the_link_keeps_that_order(data):
    at = open_page("pages/map.py", geography="ward")
    at.selectbox(key="map-table-order").set_value("name").run()
    names = frame_with(at, "area_name")["area_name"].tolist()
    assert names == sorted(names) and len(names) == len(rows_of(data, "ward"))
    assert at.query_params["order"] == "name"
    at.selectbox(key="map-table-order").set_value("shown").run()
    assert "order" not in at.query_params  # the default is not written into the link


def test_the_tract_table_stays_an_interactive_grid(data):
    at = open_page("pages/map.py", geography="tract")
    grids = [element.value for element in at.dataframe if "area_name" in element.value.columns]
    assert len(grids) == 1 and len(grids[0]) == len(rows_of(data, "tract"))
    assert not html_tables(at)


def test_the_map_tables_download_keeps_the_rows_order_and_figures_shown(offered_downloads, data):
    """The CSV under the map's table is that table: the same areas in the same order (here by share), its
    figures under the same headers, after the areas' ids, the period and the measure."""
    from equity import exports, geography

    at = open_page("pages/map.py", geography="community_area", order="share")
    extract, columns = offered_downloads["map-download"]["table"], offered_downloads["map-download"]["columns"]
    shown = next(frame for frame in html_tables(at) if "area_name" in frame.columns)
    assert extract["Community area"].tolist() == shown["area_name"].tolist()
    assert shown["share"].tolist() == sorted(shown["share"], reverse=True)
    figures = maps.table_columns("share")
    assert [column.label for column in columns] == list(extract.columns) == [
        column.label for column in geography.ID_COLUMNS["community_area"] + [metrics.PERIOD, metrics.MEASURE]
        + figures]
    assert list(shown.columns) == ["area_name"] + [column.key for column in figures]
    assert extract["Households (estimate)"].tolist() == shown["count"].round(0).astype(int).tolist()
    assert set(extract["Measure"]) == {metrics.METRICS["unconnected"].label}
    assert exports.data_dictionary(extract, columns)["Meaning"].str.strip().ne("").all()


def test_a_dot_is_a_short_round_ended_line_over_its_rim_that_stays_round_at_every_zoom(data):
    """Branches are drawn as dots in the area layer (map_view.dot_features): the disc over a rim 1 pixel
    wider all round, each carrying the tooltip's fields and no area id (a click on one picks no area)."""
    from dashboard import map_view
    rim, disc = map_view.dot_features([{"position": [-87.62, 41.88], "radius": 5, "properties": {"name": "A"}}],
                                      [217, 95, 2])
    assert (rim["properties"]["line_pixels"], disc["properties"]["line_pixels"]) == (12, 10)
    assert (rim["properties"]["line"], disc["properties"]["line"]) == (map_view.OUTLINE_COLOUR, [217, 95, 2])
    assert all(dot["properties"]["name"] == "A" and "id" not in dot["properties"] for dot in (rim, disc))
    assert rim["geometry"] == disc["geometry"]
    (start_longitude, latitude), (end_longitude, end_latitude) = disc["geometry"]["coordinates"]
    assert end_latitude == latitude and end_longitude - start_longitude == pytest.approx(map_view.DOT_LENGTH_DEGREES)
    layer = json.loads(map_view.deck([map_view.area_layer({"type": "FeatureCollection", "features": [rim, disc]})],
                                     {"longitude": -87.6, "latitude": 41.8, "zoom": 10}).to_json())
    assert layer["layers"][0]["lineCapRounded"] is True, "round ends are what close the line into a disc"
    assert layer["initialViewState"]["maxZoom"] == map_view.MAX_ZOOM
    # Long enough to survive deck.gl's 32-bit projection (radians of longitude) at every branch...
    for longitude in data.library_table("branches")["longitude"]:
        start = np.float32(np.radians(np.float32(longitude))) + np.float32(np.pi)
        end = np.float32(np.radians(np.float32(longitude + map_view.DOT_LENGTH_DEGREES))) + np.float32(np.pi)
        assert (end - start) / np.spacing(start) >= 2, longitude
    # ...and short enough to look round at the closest zoom a reader can reach.
    metres = map_view.DOT_LENGTH_DEGREES * maps.METRES_PER_DEGREE_LATITUDE * np.cos(np.radians(41.88))
    assert metres / maps.metres_per_pixel(map_view.MAX_ZOOM, 41.88) < 1.5
