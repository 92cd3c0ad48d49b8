"""The live path end to end: `python -m equity fetch` on recorded Census API replies."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

from equity import cache, census_api, config, exports, geography, metrics

from .conftest import SNAPSHOT

# Fetches recorded periods and rebuilds whole caches: out of the quick lane (pytest.ini).
pytestmark = pytest.mark.slow

REPLAY = config.REPO_ROOT / "tests" / "fixtures" / "census_api"


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "equity", *args], capture_output=True, text=True,
                          cwd=config.REPO_ROOT, env={**os.environ, **(env or {})}, timeout=300)


def test_fetch_adds_a_year_that_flows_through_to_every_geography(tmp_path):
    root = tmp_path / "cache"
    done = _cli("--cache", str(root), "fetch", "--year", "2023", env={"EQUITY_CENSUS_REPLAY": str(REPLAY)})
    assert done.returncode == 0, done.stderr
    data = cache.load(SNAPSHOT, root)
    assert data.years == [2021, 2023]
    assert data.manifest["years"]["2023"]["source"] == "synthetic"  # the fixture's 2023 is marked made-up
    fetched = pd.read_parquet(cache.api_year_path(root, 2023))
    city_xwalk = geography.city_crosswalk(geography.read_community_area_crosswalk(SNAPSHOT, 2020))
    expected = metrics.compute_metrics(geography.apportion(fetched, city_xwalk)).set_index("metric")
    city = data.metrics[(data.metrics["geography"] == "city") & (data.metrics["year"] == 2023)].set_index("metric")
    assert city.loc["unconnected", "count"] == pytest.approx(expected.loc["unconnected", "count"])
    assert city.loc["unconnected", "count_moe"] == pytest.approx(expected.loc["unconnected", "count_moe"])
    for geo, n in [("community_area", 77), ("ward", 50)]:
        rows = data.metrics[(data.metrics["geography"] == geo) & (data.metrics["year"] == 2023)]
        assert rows["area_id"].nunique() == n


def test_where_a_fetched_year_came_from_is_kept_and_a_synthetic_year_is_labelled_everywhere(tmp_path):
    """Live API, recorded replies and the fixture's made-up 2023 are told apart from the reply source on."""
    marker = REPLAY / "2023" / census_api.SYNTHETIC_MARKER
    assert census_api.reply_source(census_api.ReplaySession(REPLAY), 2023) == {
        "kind": "synthetic", "note": marker.read_text(encoding="utf-8").splitlines()[0]}
    assert census_api.reply_source(census_api.ReplaySession(REPLAY), 2019)["kind"] == "recorded_replies"
    assert census_api.reply_source(object(), 2019)["kind"] == "census_api"

    root = tmp_path / "cache"
    table = census_api.fetch_acs_tracts(2023, session=census_api.ReplaySession(REPLAY))
    cache.write_parquet_atomic(table, cache.api_year_path(root, 2023))
    data = cache.load(SNAPSHOT, root)
    years = data.manifest["years"]
    assert [years[y]["source"] for y in ("2021", "2023")] == ["snapshot", "synthetic"]
    assert set(data.metrics.loc[data.metrics["year"] == 2023, "source"]) == {"synthetic"}
    note = exports.provenance(data.manifest)
    synthetic_line = next(line for line in note.splitlines() if metrics.period_label(2023) in line)
    assert "SYNTHETIC, NOT CENSUS DATA" in synthetic_line
    assert "SYNTHETIC" not in next(line for line in note.splitlines() if metrics.period_label(2021) in line)


def test_fetch_without_a_key_says_how_to_set_one_and_leaves_the_cache_alone(tmp_path):
    root = tmp_path / "cache"
    cache.build(SNAPSHOT, root)
    before = cache.current_build(root)
    env = {k: v for k, v in os.environ.items() if k not in ("CENSUS_API_KEY", "EQUITY_CENSUS_REPLAY")}
    done = subprocess.run([sys.executable, "-m", "equity", "--cache", str(root), "fetch", "--year", "2023"],
                          capture_output=True, text=True, cwd=config.REPO_ROOT, env=env, timeout=120)
    assert done.returncode == 2
    assert "CENSUS_API_KEY" in done.stderr and "Traceback" not in done.stderr
    assert cache.current_build(root) == before
    assert not cache.api_year_path(root, 2023).exists()


def test_a_period_on_2010_tracts_is_carried_with_the_2010_crosswalk(tmp_path):
    """A 2015–2019 table on 2010 tract ids: community areas get the 2010 hh_pct shares."""
    root = tmp_path / "cache"
    xwalk_2010 = geography.read_community_area_crosswalk(SNAPSHOT, 2010)
    tracts = xwalk_2010["tract"].unique()
    table = pd.DataFrame([(t, 2019, v, 100.0, 10.0, "") for t in tracts for v in census_api.BROADBAND_VARIABLES],
                         columns=census_api.TRACT_COLUMNS)
    cache.write_parquet_atomic(table, cache.api_year_path(root, 2019))
    data = cache.load(SNAPSHOT, root)
    households = data.metrics[(data.metrics["geography"] == "community_area") & (data.metrics["year"] == 2019)
                              & (data.metrics["metric"] == "households")].set_index("area_id")["count"]
    expected = (xwalk_2010.groupby("target")["weight"].sum() * 100).rename("count")
    pd.testing.assert_series_equal(households.sort_index(), expected.sort_index(), check_names=False,
                                   check_index_type=False)
    assert data.manifest["years"]["2019"]["tract_vintage"] == 2010
    # a table with no recorded source is the live API's, and its provenance says where it lives
    assert data.manifest["years"]["2019"]["source"] == "census_api"
    assert "api.census.gov/data/2019/acs/acs5" in exports.provenance(data.manifest)
    assert 0.5 < data.manifest["coverage"]["2019"]["ward_household_coverage"] <= 1
