"""The ACP tables of a build from the real snapshot, and what the Programs page, the Ward brief, the
Progress page, the Downloads page and the command line show of them."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from equity import __main__ as cli
from equity import acp, cache, pipeline, zip_crosswalk
from equity import program_queries as programs

from .conftest import SNAPSHOT, open_app_page


def _acp(data, geography_name):
    table = data.acp()
    return table[table["geography"] == geography_name]


# ---- the build -------------------------------------------------------------------------------------

def test_the_build_reads_every_acp_release_and_the_zip_boundaries():
    inputs = {str(path) for path in pipeline.snapshot_inputs(SNAPSHOT)}
    releases = {f"{acp.ACP_DIR}/{path.name}" for path in acp.release_files(SNAPSHOT)}
    assert releases and releases <= inputs
    assert str(zip_crosswalk.ZIP_CODES_FILE) in inputs


def test_a_changed_acp_release_makes_a_new_fingerprint(snapshot_copy, tmp_path):
    before = cache.fingerprint(cache.input_checksums(snapshot_copy.path, tmp_path))
    name = acp.release_files(SNAPSHOT)[-1].relative_to(SNAPSHOT)
    snapshot_copy.replace(str(name), snapshot_copy.read(str(name)) + b"\n")
    assert cache.fingerprint(cache.input_checksums(snapshot_copy.path, tmp_path)) != before


def test_city_total_equals_the_sum_over_community_areas_and_over_wards_for_every_release(data):
    city = _acp(data, "city").set_index("release")
    assert len(city) == len(acp.release_files(SNAPSHOT))
    for geography_name in ("community_area", "ward"):
        summed = _acp(data, geography_name).groupby("release")[["enrolled_households", "eligible_households"]].sum()
        for column in summed:
            pd.testing.assert_series_equal(summed[column], city[column], rtol=1e-9, check_names=False)


def test_zips_straddling_the_city_line_are_not_counted_whole(data):
    xwalk = data.acp_zip_crosswalks()
    city = xwalk[xwalk["geography"] == "city"].set_index("zip")
    for straddling in ("60707", "60827"):
        assert city.at[straddling, "method"] == "households"
        assert 0 < city.at[straddling, "weight"] < 0.9
    releases = acp.read_releases(SNAPSHOT)
    last = releases[releases["release"] == releases["release"].max()].set_index("zip")
    whole = last.loc[city.index, "enrolled_households"].sum()
    carried = _acp(data, "city").sort_values("release").iloc[-1]["enrolled_households"]
    assert carried < whole  # the straddling ZIPs' suburban households are left out
    assert carried == pytest.approx((last.loc[city.index, "enrolled_households"] * city["weight"]).sum(), rel=1e-9)


def test_every_area_has_every_release_with_its_name(data):
    for geography_name, areas in (("community_area", 77), ("ward", 50)):
        rows = _acp(data, geography_name)
        assert rows["area_id"].nunique() == areas
        assert rows.groupby("area_id")["release"].nunique().eq(rows["release"].nunique()).all()
        assert rows["area_name"].notna().all() and (rows["area_name"] != rows["area_id"]).any()


def test_manifest_records_the_releases_and_the_source(data):
    facts = data.manifest["acp"]
    assert facts["releases"] == [str(r.date()) for r in programs.releases(data)]
    assert facts["zips_in_part"] > 0 and facts["zips_whole"] > 0
    assert "ILSR" in facts["source"] or "Local Self-Reliance" in facts["source"]


# ---- the queries ---------------------------------------------------------------------------------------

def test_beside_need_puts_the_acs_unconnected_households_beside_each_area(data):
    release = programs.last_release(data)
    rows = programs.beside_need(data, "ward", release)
    acs = data.metrics[(data.metrics["geography"] == "ward") & (data.metrics["metric"] == "unconnected")
                       & (data.metrics["year"] == data.latest_year)].set_index("area_id")
    assert rows["unconnected_households"].to_dict() == acs.loc[rows.index, "count"].to_dict()
    assert rows["unconnected_households_moe"].to_dict() == acs.loc[rows.index, "count_moe"].to_dict()
    assert (rows["uptake"] == rows["enrolled_households"] / rows["eligible_households"]).all()


def test_where_the_end_leaves_households_is_ranked_by_enrolled_households(data):
    ranked = programs.where_end_leaves(data, "community_area")
    assert ranked["enrolled_households"].is_monotonic_decreasing
    assert ranked["rank"].iloc[0] == 1 and len(ranked) == 77
    assert (ranked["release"] == programs.last_release(data)).all()


def test_ward_brief_ranks_the_ward_among_all_wards(data):
    ranked = programs.where_end_leaves(data, "ward")
    ward = ranked.index[0]
    brief = programs.ward_brief(data, ward)
    assert brief["rank"] == 1 and brief["wards"] == 50
    lowest = ranked["uptake"].idxmin()
    assert programs.ward_brief(data, lowest)["lowest_uptake_rank"] == 1


def test_extract_has_every_area_and_release_and_a_meaning_for_every_column(data):
    from equity import exports

    table = programs.extract(data, "ward")
    assert len(table) == 50 * len(programs.releases(data))
    dictionary = exports.data_dictionary(table, programs.extract_columns("ward"))
    assert (dictionary["Meaning"].str.strip() != "").all()
    assert "Local Self-Reliance" in programs.provenance(data, programs.describe_choice("ward"))


def test_cli_exports_the_acp_table_and_its_dictionary(data, session_cache, tmp_path, capsysbinary):
    dictionary = tmp_path / "dictionary.csv"
    status = cli.main(["--cache", str(session_cache), "export", "--geography", "ward", "--acp",
                       "--dictionary", str(dictionary)])
    assert status == 0
    table = pd.read_csv(io.BytesIO(capsysbinary.readouterr().out), encoding="utf-8-sig")
    expected = programs.extract(data, "ward")
    assert list(table.columns) == list(expected.columns) and len(table) == len(expected)
    assert "ACP uptake" in set(pd.read_csv(dictionary, encoding="utf-8-sig")["Column or measure"])


def test_cli_refuses_acp_for_tracts(data, session_cache, capsys):
    assert cli.main(["--cache", str(session_cache), "export", "--geography", "tract", "--acp"]) == 2
    assert "ACP" in capsys.readouterr().err


# ---- the pages -------------------------------------------------------------------------------------------

def test_programs_page_shows_the_city_figures_map_series_and_ranked_table(data):
    at = open_app_page("pages/programs.py", geo="ward", area="28")
    city = programs.city(data, programs.last_release(data))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Households enrolled in Chicago"] == f"{city['enrolled_households']:,.0f}"
    assert metrics["Uptake (enrolled ÷ eligible)"] == f"{city['uptake'] * 100:.1f}%"
    assert at.selectbox(key="acp-area-ward").value == "28"
    tables = [frame.value for frame in at.dataframe]
    ranked = next(table for table in tables if "Rank" in table.columns)
    assert ranked["Ward"].iloc[0] == int(programs.where_end_leaves(data, "ward").index[0])
    series = next(table for table in tables if "where" in table.columns)
    assert set(series["where"]) == {"City of Chicago", "Ward 28"}
    assert len(series) == 2 * len(programs.releases(data))


def test_programs_page_warns_about_a_bad_link_parameter(data):
    at = open_app_page("pages/programs.py", geo="tract", release="1999-01-01")
    notices = " ".join(w.value for w in at.warning)
    assert "`geo`" in notices and "`release`" in notices
    assert at.radio(key="acp-geography").value == "community_area"


def test_progress_page_shows_the_acp_series_and_keeps_illustrative_milestones_out_of_the_default_view(data):
    from equity import target_files, targets

    at = open_app_page("pages/progress.py")
    assert "Program series: ACP enrollment in Chicago" in [s.value for s in at.subheader]
    illustrative = targets.milestone_progress(target_files.load_milestones())["illustrative"]
    closed = [e for e in at.expander if e.label.startswith("Illustrative examples")]
    assert len(closed) == 1 and not closed[0].proto.expanded
    assert f"({int(illustrative.sum())})" in closed[0].label


def test_ward_brief_shows_the_wards_acp_households_beside_its_unconnected_households(data):
    ward = programs.where_end_leaves(data, "ward").index[0]
    at = open_app_page("pages/ward.py", ward=ward)
    brief = programs.ward_brief(data, ward)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["ACP enrolled households"] == f"{brief['row']['enrolled_households']:,.0f}"
    assert metrics["ACP uptake (enrolled ÷ eligible)"] == f"{brief['row']['uptake'] * 100:.1f}%"
    assert metrics["Unconnected households (ACS)"].startswith(f"{brief['row']['unconnected_households']:,.0f} ± ")
