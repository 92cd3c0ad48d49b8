"""Extracts read back the way a user would open them: pandas for CSV, geopandas for GeoJSON.

Most tests run on a cache with two ACS periods: the real 2017–2021 snapshot
plus the synthetic 2019–2023 stand-in replayed from tests/fixtures/census_api
(three of its tracts carry Census annotation codes, so some figures are
missing with a note).
"""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from equity import cache, census_api, config, exports, geography, metrics, queries
from dashboard import common

from .conftest import SNAPSHOT

REPLAY = config.REPO_ROOT / "tests" / "fixtures" / "census_api"
COUNT_COLUMNS = ["Households (estimate)", "Households MOE (90%)", "Universe: households (estimate)",
                 "Universe MOE (90%)"]
NUMBER_COLUMNS = COUNT_COLUMNS + ["Households CV (%)", "Share of households", "Share MOE (90%)", "Share CV (%)"]
READ_AS_TEXT = {"Census tract GEOID": str}


@pytest.fixture(scope="module")
def two_periods_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("two-periods")
    table = census_api.fetch_acs_tracts(2023, session=census_api.ReplaySession(REPLAY))
    cache.write_parquet_atomic(table, cache.api_year_path(root, 2023))
    cache.build(SNAPSHOT, root)
    return root


@pytest.fixture(scope="module")
def two_periods(two_periods_root):
    data = cache.load(SNAPSHOT, two_periods_root)
    assert data.years == [2021, 2023]
    return data


def read_csv(payload: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(payload), encoding="utf-8-sig", dtype=READ_AS_TEXT)


def expected_headers(geography_name: str) -> list[str]:
    return [column.label for column in exports.extract_columns(geography_name)]


def assert_share_times_universe_is_count(table: pd.DataFrame) -> None:
    has_share = table["Share of households"].notna()
    rows = table[has_share]
    assert len(rows) > 0
    product = rows["Share of households"] * rows["Universe: households (estimate)"]
    # share written to 4 decimals, counts to whole households
    tolerance = 0.00005 * rows["Universe: households (estimate)"] + 1.0
    assert ((product - rows["Households (estimate)"]).abs() <= tolerance).all()


CHOICES = [
    ("city", None, None),
    ("community_area", [2021], ["unconnected"]),
    ("community_area", [2021, 2023], ["unconnected", "no_computer", "households"]),
    ("ward", [2023], None),
    ("ward", [2021, 2023], ["high_speed_broadband"]),
    ("tract", [2021], ["unconnected", "households"]),
    ("tract", [2021, 2023], None),
]


@pytest.mark.parametrize("geography_name, years, metric_keys", CHOICES)
def test_csv_reads_back_with_one_row_per_area_measure_and_period(two_periods, geography_name, years, metric_keys):
    payload = queries.export_bytes(two_periods, geography_name, years, metric_keys, "csv")
    assert payload.startswith(b"\xef\xbb\xbf")
    table = read_csv(payload)

    assert list(table.columns) == expected_headers(geography_name)
    chosen_years = years or [two_periods.latest_year]
    chosen_metrics = metric_keys or list(metrics.METRICS)
    source = two_periods.metrics[(two_periods.metrics["geography"] == geography_name)
                                 & two_periods.metrics["year"].isin(chosen_years)
                                 & two_periods.metrics["metric"].isin(chosen_metrics)]
    areas = source["area_id"].nunique()
    assert len(table) == areas * len(chosen_metrics) * len(chosen_years)
    assert set(table["ACS period"]) == {metrics.period_label(y) for y in chosen_years}
    assert set(table["Measure"]) == {metrics.METRICS[k].label for k in chosen_metrics}
    for column in NUMBER_COLUMNS:
        assert pd.api.types.is_numeric_dtype(table[column]), column
    assert_share_times_universe_is_count(table)

    # every figure is the cache's figure, rounded as documented
    id_label, id_column = {"city": ("Area", "area_name"), "community_area": ("Community area number", "area_id"),
                           "ward": ("Ward", "area_id"), "tract": ("Census tract GEOID", "area_id")}[geography_name]
    labels = {m.label: k for k, m in metrics.METRICS.items()}
    keyed = table.assign(_id=table[id_label].astype(str), _metric=table["Measure"].map(labels),
                         _year=table["ACS period"].str[5:9].astype(int))
    merged = keyed.merge(source.assign(_id=source[id_column].astype(str)),
                         left_on=["_id", "_metric", "_year"], right_on=["_id", "metric", "year"], validate="1:1")
    assert len(merged) == len(table)
    np.testing.assert_allclose(merged["Households (estimate)"], merged["count"].round(0), equal_nan=True)
    np.testing.assert_allclose(merged["Share MOE (90%)"], merged["share_moe"].round(4), equal_nan=True)
    assert (merged["Households reliability"] == merged["count_reliability"]).all()


def test_ids_read_back_as_numbers_and_tract_geoids_as_eleven_digits(data):
    wards = read_csv(queries.export_bytes(data, "ward", None, ["unconnected"]))
    assert pd.api.types.is_integer_dtype(wards["Ward"]) and list(wards["Ward"]) == sorted(wards["Ward"])
    areas = read_csv(queries.export_bytes(data, "community_area", None, ["unconnected"]))
    assert pd.api.types.is_integer_dtype(areas["Community area number"])
    tracts = read_csv(queries.export_bytes(data, "tract", None, ["unconnected"]))
    assert tracts["Census tract GEOID"].str.fullmatch(r"\d{11}").all()
    first = tracts.iloc[0]
    assert first["Census tract"].endswith(str(int(first["Census tract GEOID"][5:9])))


def test_missing_tract_values_leave_blank_figures_with_a_note(data):
    tracts = data.tract_estimates()
    crosswalk = data.crosswalks[(data.crosswalks["geography"] == "ward") & (data.crosswalks["vintage"] == 2020)]
    tract = crosswalk.loc[crosswalk["target"] == "7", "tract"].iloc[0]
    tracts.loc[(tracts["tract"] == tract) & (tracts["variable"] == "B28002_013"), "estimate"] = np.nan
    rows = metrics.compute_metrics(geography.apportion(tracts, crosswalk)).assign(area_name="")
    table = read_csv(exports.to_csv_bytes(exports.extract(rows, "ward")))
    blank = table["Households (estimate)"].isna()
    affected = {k for k, m in metrics.METRICS.items() if "B28002_013" in m.variables}
    wards_with_tract = set(crosswalk.loc[crosswalk["tract"] == tract, "target"].astype(int))
    expected = table["Ward"].isin(wards_with_tract) & table["Measure"].isin(
        {metrics.METRICS[k].label for k in affected})
    assert blank.any() and (blank == expected).all()
    assert table.loc[blank, "Note"].str.contains("not available: 1 tract").all()
    assert table.loc[~blank, "Note"].isna().all()


def test_a_custom_area_of_every_community_area_equals_the_city(two_periods):
    every = [str(n) for n in range(1, 78)]
    custom = read_csv(queries.export_bytes(two_periods, "community_area", [2021, 2023], None, combine=every))
    city = read_csv(queries.export_bytes(two_periods, "city", [2021, 2023], None))
    assert list(custom.columns) == expected_headers(exports.CUSTOM)
    assert len(custom) == len(city) == len(metrics.METRICS) * 2
    assert custom["Made of"].iloc[0].startswith("Community areas 1, 2, 3")
    pd.testing.assert_frame_equal(custom.drop(columns=["Area", "Made of"]), city.drop(columns=["Area"]))


def test_a_custom_area_counts_a_tract_shared_by_two_chosen_wards_once(data):
    wards = data.crosswalks[(data.crosswalks["geography"] == "ward") & (data.crosswalks["vintage"] == 2020)]
    split = wards.groupby("tract").filter(lambda g: len(g) == 2 and g["weight"].sum() > 0.999)
    tract, pair = split["tract"].iloc[0], sorted(split.groupby("tract")["target"].apply(list).iloc[0])
    combined = queries.build_extract(data, "ward", None, ["households"], combine=pair).iloc[0]
    separate = queries.build_extract(data, "ward", None, ["households"]).set_index("Ward").loc[[int(a) for a in pair]]
    assert combined["Households (estimate)"] == pytest.approx(separate["Households (estimate)"].sum(), abs=1)
    # the shared tract is one survey estimate: its MOE adds linearly inside the combination, so the
    # combined MOE is larger than treating the two wards as independent
    independent = np.sqrt((separate["Households MOE (90%)"].astype(float) ** 2).sum())
    assert combined["Households MOE (90%)"] > independent
    assert combined["Made of"] == f"Wards {', '.join(pair)}", tract


@pytest.mark.parametrize("geography_name, metric_keys, years", [
    ("community_area", ["unconnected"], [2021]),
    ("ward", ["unconnected", "households"], [2021, 2023]),
    ("tract", ["no_computer"], [2023]),
])
def test_geojson_has_the_csv_columns_and_one_feature_per_row(two_periods, geography_name, metric_keys, years):
    csv_table = read_csv(queries.export_bytes(two_periods, geography_name, years, metric_keys, "csv"))
    payload = queries.export_bytes(two_periods, geography_name, years, metric_keys, "geojson")
    layer = gpd.read_file(io.BytesIO(payload))
    assert layer.crs.to_epsg() == 4326
    assert list(layer.columns) == list(csv_table.columns) + ["geometry"]
    assert len(layer) == len(csv_table)
    assert layer.geometry.is_valid.all() and not layer.geometry.is_empty.any()
    for column in NUMBER_COLUMNS:
        assert pd.api.types.is_numeric_dtype(layer[column]), column
    assert_share_times_universe_is_count(layer)
    shapes = two_periods.boundaries(geography_name)
    id_label = next(c.label for c in geography.ID_COLUMNS[geography_name] if c.key == "area_id")
    assert set(layer[id_label].astype(str)) == set(shapes["area_id"]) & set(csv_table[id_label].astype(str))


def test_geojson_is_refused_for_the_city_and_custom_areas(data):
    with pytest.raises(ValueError, match="GeoJSON is available for community areas"):
        queries.export_bytes(data, "city", None, None, "geojson")
    with pytest.raises(ValueError, match="GeoJSON is available for community areas"):
        queries.export_bytes(data, "ward", None, None, "geojson", combine=["1", "2"])


@pytest.mark.parametrize("geography_name, metric_keys, combine", [
    ("city", None, None), ("ward", ["unconnected", "cellular_only"], None), ("tract", ["households"], None),
    ("community_area", ["no_computer"], ["8", "32"]),
])
def test_data_dictionary_covers_every_column_and_measure(data, geography_name, metric_keys, combine):
    table = queries.build_extract(data, geography_name, None, metric_keys, combine)
    columns = exports.extract_columns(exports.CUSTOM if combine else geography_name)
    dictionary = read_csv(exports.to_csv_bytes(exports.data_dictionary(table, columns)))
    described = dictionary.set_index("Column or measure")
    for column in table.columns:
        assert isinstance(described.loc[column, "Meaning"], str) and described.loc[column, "Meaning"], column
    for key in metric_keys or metrics.METRICS:
        metric = metrics.METRICS[key]
        row = described.loc[metric.label]
        assert all(v in row["Census variables"] for v in metric.numerator)
        assert all(v in row["Formula"] for v in metric.variables)
    assert len(dictionary) == len(table.columns) + table["Measure"].nunique()


def test_dictionary_quotes_the_code_constants():
    from equity import estimates

    table = exports.extract(pd.DataFrame({
        "area_id": ["1"], "area_name": ["Rogers Park"], "year": [2021], "metric": ["unconnected"],
        **{c: [1.0] for c in ["count", "count_moe", "count_cv", "share", "share_moe", "share_cv", "universe",
                              "universe_moe"]},
        "count_reliability": ["reliable"], "share_reliability": ["reliable"], "note": [""]}), "community_area")
    text = exports.data_dictionary(table, exports.extract_columns("community_area")).to_csv()
    caution, unreliable = estimates.RELIABILITY_THRESHOLDS
    assert f"{estimates.Z_90}" in text and f"{caution:g}%" in text and f"{unreliable:g}%" in text


def test_provenance_names_periods_sources_checksums_and_the_choice(two_periods):
    choice = exports.describe_choice("ward", [2021, 2023], ["unconnected"], ["3", "4"])
    note = exports.provenance(two_periods.manifest, choice)
    assert "custom area combining wards 3, 4" in note
    for name, digest in two_periods.manifest["input_sha256"].items():
        assert f"{name}: {digest}" in note
    assert "2017–2021 ACS 5-year: Social Explorer" in note
    # the fixture's 2023 is a made-up stand-in and the note must say so (a live fetch names api.census.gov)
    assert "2019–2023 ACS 5-year: SYNTHETIC, NOT CENSUS DATA" in note
    assert two_periods.manifest["built_at"] in note and "hh_pct" in note
    assert str(two_periods.manifest["ward_crosswalk"]["tracts_household_weighted"]) in note


@pytest.mark.parametrize("kwargs, message", [
    ({"geography_name": "county"}, "unknown geography 'county'"),
    ({"geography_name": "ward", "years": [2015]}, "ACS year 2015 is not loaded"),
    ({"geography_name": "ward", "metric_keys": ["wifi"]}, "unknown metric"),
    ({"geography_name": "ward", "combine": ["7", "99"]}, "unknown ward id.* 99"),
    ({"geography_name": "ward", "combine": [" ", ""]}, "choose at least one area"),
    ({"geography_name": "city", "combine": ["chicago"]}, "not 'city'"),
])
def test_a_bad_choice_is_refused_with_a_message_naming_it(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        queries.build_extract(data, **kwargs)


# ---- formula injection --------------------------------------------------------------------

HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def hostile_rows() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame({
        "area_id": [str(i + 1) for i in range(n)], "area_name": HOSTILE, "year": 2021, "metric": "unconnected",
        "count": [-2.0, 5.0, -0.4, 1e6, 0.0, -1234.0], "count_moe": 3.0, "count_cv": [-1.5, 2, 3, 4, 5, 6],
        "count_reliability": "=1+1", "share": [-0.25, 0.1, 0.2, 0.3, 0.4, 0.5], "share_moe": 0.01,
        "share_cv": 1.0, "share_reliability": "@x", "universe": 100.0, "universe_moe": 10.0,
        "note": ["-note", "", "", "", "", "+note"]})


def test_hostile_text_is_neutralised_and_numbers_including_negatives_stay_numbers():
    table = exports.extract(hostile_rows(), "community_area")
    payload = exports.to_csv_bytes(table)
    back = read_csv(payload)
    assert list(back["Community area"]) == [f"'{name}" for name in HOSTILE]
    assert (back["Households reliability"] == "'=1+1").all() and (back["Share reliability"] == "'@x").all()
    assert back["Note"].iloc[0] == "'-note" and back["Note"].iloc[-1] == "'+note"
    for column in NUMBER_COLUMNS:
        assert pd.api.types.is_numeric_dtype(back[column]), column
    assert list(back["Households (estimate)"]) == [-2, 5, 0, 1_000_000, 0, -1234]
    assert back["Share of households"].iloc[0] == -0.25 and back["Households CV (%)"].iloc[0] == -1.5
    # no text cell in the raw file starts with a formula character
    lines = payload.decode("utf-8-sig").split("\r\n")
    text_cells = [cell for line in csv_cells(lines[1:]) for cell in line if cell and not is_number(cell)]
    assert text_cells and not [c for c in text_cells if c.startswith(exports.FORMULA_PREFIXES)]


def csv_cells(lines):
    import csv

    return csv.reader(io.StringIO("\r\n".join(lines), newline=""))


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("dtype", [object, "string", "str", "category"])
def test_neutralise_formulas_handles_every_text_dtype(dtype):
    frame = pd.DataFrame({"name": pd.Series(HOSTILE + ["safe"], dtype=dtype),
                          "value": [-1.0, -2, 3, 4, 5, 6, -7]})
    out = exports.neutralise_formulas(frame)
    assert [str(v) for v in out["name"]] == [f"'{n}" for n in HOSTILE] + ["safe"]
    assert out["value"].dtype == np.float64 and out["value"].iloc[0] == -1.0


def test_geojson_neutralises_hostile_names_too(data):
    table = exports.extract(hostile_rows(), "community_area")
    layer = json.loads(exports.to_geojson(table, data.boundaries("community_area"), "community_area"))
    names = [f["properties"]["Community area"] for f in layer["features"]]
    assert names == [f"'{n}" for n in HOSTILE]
    assert layer["features"][0]["properties"]["Households (estimate)"] == -2


# ---- one code path: the command line writes what the app offers ---------------------------

@pytest.mark.parametrize("geography_name, years, metric_keys, combine", [
    ("ward", [2021, 2023], ["unconnected", "households"], None),
    ("community_area", [2023], list(metrics.METRICS), ["1", "2", "77"]),
    ("tract", [2021], ["no_computer"], None),
])
def test_cli_export_writes_the_same_bytes_as_the_app(two_periods, two_periods_root, tmp_path, geography_name,
                                                     years, metric_keys, combine):
    table = queries.build_extract(two_periods, geography_name, years, metric_keys, combine)
    app_csv = exports.to_csv_bytes(table)
    columns = exports.extract_columns(exports.CUSTOM if combine else geography_name)
    app_dictionary = exports.to_csv_bytes(exports.data_dictionary(table, columns))
    command = shlex.split(exports.command_line(geography_name, years, metric_keys, combine))
    assert command[:3] == ["python", "-m", "equity"]
    out, dictionary = tmp_path / "out.csv", tmp_path / "dictionary.csv"
    done = subprocess.run([sys.executable, "-m", "equity", "--cache", str(two_periods_root), *command[3:],
                           "-o", str(out), "--dictionary", str(dictionary)],
                          capture_output=True, cwd=config.REPO_ROOT, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes() == app_csv
    assert dictionary.read_bytes() == app_dictionary
    if combine is None and geography_name != "city":
        geo_out = tmp_path / "out.geojson"
        subprocess.run([sys.executable, "-m", "equity", "--cache", str(two_periods_root), *command[3:],
                        "--format", "geojson", "-o", str(geo_out)], check=True, capture_output=True,
                       cwd=config.REPO_ROOT, timeout=300)
        app_geojson = exports.to_geojson(table, two_periods.boundaries(geography_name), geography_name)
        assert geo_out.read_bytes() == app_geojson.encode("utf-8")


def test_cli_bad_area_id_exits_with_one_line(two_periods_root):
    done = subprocess.run([sys.executable, "-m", "equity", "--cache", str(two_periods_root), "export",
                           "--geography", "ward", "--combine", "3,999"], capture_output=True, text=True,
                          cwd=config.REPO_ROOT, timeout=300)
    assert done.returncode == 2
    assert "unknown ward id(s) 999" in done.stderr and "Traceback" not in done.stderr


# ---- the Downloads page ---------------------------------------------------------------------

@pytest.fixture
def downloads_page(two_periods_root, monkeypatch):
    """The Downloads page on the two-period cache (the shared data cache is cleared before and after)."""
    monkeypatch.setenv("EQUITY_CACHE", str(two_periods_root))
    common.dashboard_data.clear()
    yield lambda **params: _run_page(params)
    common.dashboard_data.clear()


def _run_page(params: dict) -> AppTest:
    at = AppTest.from_file(str(config.REPO_ROOT / "pages" / "downloads.py"), default_timeout=120)
    for name, value in params.items():
        at.query_params[name] = value
    return at.run()


def download_labels(at: AppTest) -> list[str]:
    return [button.proto.label for button in at.get("download_button")]


def preview(at: AppTest) -> pd.DataFrame:
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.dataframe) == 1
    return at.dataframe[0].value


def test_downloads_page_preview_follows_the_choices(downloads_page, two_periods):
    at = downloads_page()
    areas = two_periods.metrics.groupby("geography")["area_id"].nunique()
    table = preview(at)
    assert len(table) == areas["community_area"] * len(metrics.METRICS)
    assert set(table["ACS period"]) == {metrics.period_label(two_periods.latest_year)}
    assert "Map layer (GeoJSON)" in download_labels(at)

    at.radio(key="downloads-geo").set_value("ward").run()
    assert list(preview(at).columns)[0] == "Ward" and len(preview(at)) == areas["ward"] * len(metrics.METRICS)

    at.multiselect(key="downloads-metrics").set_value(["unconnected", "households"]).run()
    at.multiselect(key="downloads-years").set_value(["2021", "2023"]).run()
    table = preview(at)
    assert len(table) == areas["ward"] * 2 * 2
    expected = queries.build_extract(two_periods, "ward", [2021, 2023], ["unconnected", "households"])
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected)
    assert at.query_params["geo"] == "ward" and at.query_params["years"] == "2021,2023"
    assert "--geography ward --year 2021 --year 2023 --metric unconnected --metric households" in at.code[0].value

    at.multiselect(key="downloads-metrics").set_value([]).run()
    assert not at.dataframe and "Choose at least one measure" in at.info[0].value


def test_downloads_page_combines_chosen_areas_from_the_link(downloads_page, two_periods):
    at = downloads_page(geo="custom", of="ward", areas="3,4", metrics="unconnected")
    table = preview(at)
    assert len(table) == 1 and table["Made of"].iloc[0] == "Wards 3, 4"
    expected = queries.build_extract(two_periods, "ward", None, ["unconnected"], combine=["3", "4"])
    pd.testing.assert_frame_equal(table.reset_index(drop=True), expected)
    assert download_labels(at) == ["Table (CSV)", "Data dictionary (CSV)", "Provenance note (TXT)"]


def test_downloads_page_bad_link_values_fall_back_with_a_notice(downloads_page):
    at = downloads_page(geo="county", metrics="unconnected,wifi", years="1999")
    warnings = " ".join(w.value for w in at.warning)
    assert "`geo`" in warnings and "`metrics`" in warnings and "`years`" in warnings
    table = preview(at)
    assert set(table["Measure"]) == {metrics.METRICS["unconnected"].label}
    assert "Community area" in table.columns


def test_downloads_page_asks_for_areas_before_combining(downloads_page):
    at = downloads_page(geo="custom")
    assert not at.exception and not at.dataframe
    assert "the areas to combine" in at.info[0].value


@pytest.mark.slow  # builds whole caches: out of the quick lane (pytest.ini)
def test_downloads_page_reloads_when_its_build_was_replaced_on_disk(tmp_path, monkeypatch):
    """Another process (`python -m equity fetch`) removes the build the server loaded; tract tables still load."""
    import shutil

    root = tmp_path / "cache"
    cache.build(SNAPSHOT, root)
    monkeypatch.setenv("EQUITY_CACHE", str(root))
    common.dashboard_data.clear()
    try:
        first = _run_page({"geo": "custom", "of": "ward", "areas": "1,2", "metrics": "households"})
        assert len(preview(first)) == 1
        shutil.rmtree(cache.current_build(root))
        again = _run_page({"geo": "custom", "of": "ward", "areas": "1,2,3", "metrics": "households"})
        assert not again.error and len(preview(again)) == 1
        assert again.dataframe[0].value["Made of"].iloc[0] == "Wards 1, 2, 3"
    finally:
        common.dashboard_data.clear()
