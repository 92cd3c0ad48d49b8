"""ACP enrollment by ZIP code: reading the releases, the ZIP crosswalks, carrying to Chicago's areas."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from equity import acp, geography, zip_crosswalk
from equity.errors import SnapshotError

from .conftest import SNAPSHOT

FIXTURES = Path(__file__).parent / "fixtures" / "acp"
FIXTURE = FIXTURES / "ACP_DASHBOARD_EnrollByZip_2024-03-13.csv"

# The README's table of releases: enrolled households summed over 606xx ZIPs (an independent check).
README_606_ENROLLED = {"2023-06-15": 168_148, "2023-07-14": 184_232, "2023-08-25": 192_564,
                       "2023-10-06": 210_632, "2023-12-15": 211_556, "2024-01-26": 222_657,
                       "2024-03-13": 236_806}


@pytest.fixture(scope="module")
def releases() -> pd.DataFrame:
    return acp.read_releases(SNAPSHOT)


@pytest.fixture(scope="module")
def inputs(releases):
    return {"zip_areas": zip_crosswalk.read_zip_areas(SNAPSHOT),
            "block_groups": geography.read_block_groups(SNAPSHOT),
            "community_areas": geography.read_community_areas(SNAPSHOT),
            "wards": geography.read_wards(SNAPSHOT),
            "zip_households": acp.zip_households(releases)}


@pytest.fixture(scope="module")
def crosswalks(inputs):
    return zip_crosswalk.zip_crosswalks(**inputs)


@pytest.fixture(scope="module")
def by_area(releases, crosswalks):
    return acp.by_geography(releases, crosswalks)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


# Reading the real releases

def test_reads_every_release_with_the_date_in_its_file_name(releases):
    files = sorted((SNAPSHOT / acp.ACP_DIR).glob(acp.FILE_PATTERN))
    dates = sorted(pd.Timestamp(re.search(r"(\d{4}-\d{2}-\d{2})", f.name).group(1)) for f in files)
    assert len(files) == 7
    assert sorted(releases["release"].unique()) == dates
    for path in files:
        rows = sum(1 for _ in path.open()) - 1
        assert (releases["release"] == acp.release_date(path)).sum() == rows


def test_real_releases_share_the_required_columns():
    for path in acp.release_files(SNAPSHOT):
        header = pd.read_csv(path, nrows=0).columns
        assert set(acp.REQUIRED_COLUMNS) | set(acp.OPTIONAL_COLUMNS) <= set(header), path.name


def test_zip_codes_stay_text_with_leading_zeros(releases):
    assert releases["zip"].str.fullmatch(r"\d{5}").all()
    assert releases["zcta"].dropna().str.fullmatch(r"\d{5}").all()
    assert releases["zip"].str.startswith("0").any()
    assert not releases.duplicated(["zip", "release"]).any()


def test_enrolled_in_606_zips_matches_the_readme_table(releases):
    chicago = releases[releases["zip"].str.startswith("606")]
    totals = chicago.groupby("release")["enrolled_households"].sum()
    assert {str(d.date()): int(v) for d, v in totals.items()} == README_606_ENROLLED


def test_po_box_zips_never_count_their_zcta_twice(releases):
    po_box = releases[releases["po_box"]]
    assert len(po_box) > 0
    assert po_box[["households", "eligible_households"]].isna().all().all()
    counted = releases.dropna(subset=["households"]).groupby(["release", "zcta"]).size()
    assert counted.max() == 1


def test_real_suppressed_zips_have_no_enrollment_count(releases):
    source = pd.read_csv(acp.release_files(SNAPSHOT)[-1], dtype={"zipcode": str, "zcta": str})
    withheld = source[(source["enrollments"] == 0) & (source["total_support"] > 0)
                      & (source["zipcode"] == source["zcta"])]["zipcode"]
    last = releases[releases["release"] == releases["release"].max()].set_index("zip")
    assert len(withheld) > 0
    assert last.loc[withheld, "suppressed"].all()
    assert last.loc[withheld, "enrolled_households"].isna().all()
    assert not last.loc[~last["suppressed"], "enrolled_households"].isna().any()


# The quirks, on a fixture of invented rows

def test_fixture_quirks():
    frame = acp.read_release(FIXTURE).set_index("zip")
    assert list(frame.index[:2]) == ["00501", "00544"]
    assert frame.loc["00544", "po_box"] and np.isnan(frame.loc["00544", "households"])
    assert frame.loc["00544", "enrolled_households"] == 0
    assert frame.loc["60999", "suppressed"] and np.isnan(frame.loc["60999", "enrolled_households"])
    assert not frame.loc["61998", "suppressed"] and frame.loc["61998", "enrolled_households"] == 0
    assert pd.isna(frame.loc["96999", "zcta"]) and not frame.loc["96999", "po_box"]
    assert frame.loc["00501", "eligible_households"] == 400.5
    assert (frame["release"] == pd.Timestamp("2024-03-13")).all()


def test_missing_column_names_the_file_and_the_column(tmp_path):
    text = FIXTURE.read_text().replace('"enrollments"', '"enrolled"', 1)
    path = _write(tmp_path, FIXTURE.name, text)
    with pytest.raises(SnapshotError, match=rf"{re.escape(str(path))}.*missing column\(s\) enrollments"):
        acp.read_release(path)


def test_non_numeric_value_names_the_file_column_and_zip(tmp_path):
    text = FIXTURE.read_text().replace("500,25,0,3000", "five hundred,25,0,3000")
    path = _write(tmp_path, FIXTURE.name, text)
    with pytest.raises(SnapshotError, match=rf"{re.escape(path.name)}: column eligible_adj .*'five hundred'.*60999"):
        acp.read_release(path)


@pytest.mark.parametrize("name", ["ACP_DASHBOARD_EnrollByZip_2024-13-45.csv", "ACP_DASHBOARD_EnrollByZip_latest.csv"])
def test_bad_date_in_the_file_name_names_the_file(tmp_path, name):
    _write(tmp_path / acp.ACP_DIR, name, FIXTURE.read_text())
    with pytest.raises(SnapshotError, match=re.escape(name)):
        acp.read_releases(tmp_path)


def test_zip_codes_without_leading_zeros_are_refused(tmp_path):
    text = FIXTURE.read_text().replace('"1","00501","00501"', '"1","501","00501"')
    path = _write(tmp_path, FIXTURE.name, text)
    with pytest.raises(SnapshotError, match=rf"{re.escape(path.name)}: column zipcode .*'501'"):
        acp.read_release(path)


def test_repeated_zip_code_is_refused(tmp_path):
    text = FIXTURE.read_text() + '"6","61998","61998","IL",500,3,100,20,3,90\n'
    path = _write(tmp_path, FIXTURE.name, text)
    with pytest.raises(SnapshotError, match="61998 appears more than once"):
        acp.read_release(path)


def test_no_release_files_is_an_error(tmp_path):
    (tmp_path / acp.ACP_DIR).mkdir(parents=True)
    with pytest.raises(SnapshotError, match="No ACP enrollment files"):
        acp.read_releases(tmp_path)


# Carrying, on tables made here

def test_carry_weights_counts_and_keeps_suppressed_areas_missing():
    releases = acp.read_release(FIXTURE)
    crosswalk = pd.DataFrame({"zip": ["00501", "00544", "61998", "60999"],
                              "target": ["a", "a", "a", "b"], "weight": [0.5, 1.0, 1.0, 1.0]})
    out = acp.carry(releases, crosswalk).set_index("area_id")
    assert out.loc["a", "enrolled_households"] == 200 * 0.5 + 0 + 0
    assert out.loc["a", "eligible_households"] == 400.5 * 0.5 + 100
    assert out.loc["a", "uptake"] == pytest.approx(100 / 300.25)
    assert out.loc["a", "zips"] == 3
    assert np.isnan(out.loc["b", "enrolled_households"]) and np.isnan(out.loc["b", "uptake"])
    assert out.loc["b", "suppressed_zips"] == 1


def test_city_shares_count_a_straddling_zip_by_its_households_inside():
    # City: x in [0, 10000] ft. Block groups with 100 households each; the last is suburban.
    crs = geography.LOCAL_CRS
    city = gpd.GeoDataFrame({"area_id": ["1"]}, geometry=[box(0, 0, 10000, 3000)], crs=crs)
    bgs = gpd.GeoDataFrame({"block_group": ["170310000001", "170310000002", "170310000003"],
                            "households": [100.0, 100.0, 100.0],
                            "land_sq_ft": [3000.0 * 3000] * 3},
                           geometry=[box(0, 0, 3000, 3000), box(7000, 0, 10000, 3000),
                                     box(10000, 0, 13000, 3000)], crs=crs)
    zips = gpd.GeoDataFrame({"zip": ["11111", "22222"]},
                            geometry=[box(0, 0, 3000, 3000), box(7000, 0, 10000, 3000)], crs=crs)
    # 11111 is on no suburban land: whole. 22222 is clipped at the limit: 100 of its 200 households inside.
    households = pd.DataFrame({"zip": ["11111", "22222"], "zcta": ["11111", "22222"],
                               "households": [150.0, 200.0]})
    shares = zip_crosswalk.city_shares(zips, bgs, city, households).set_index("zip")
    assert shares.loc["11111", "weight"] == 1.0 and shares.loc["11111", "method"] == "whole"
    assert shares.loc["22222", "weight"] == pytest.approx(0.5)
    assert shares.loc["22222", "method"] == "households"


# The crosswalks and the carried tables on the real snapshot

def test_zip_weights_in_the_city_are_at_most_one(crosswalks):
    city = crosswalks["city"]
    assert not city["zip"].duplicated().any()
    assert (city["weight"] > 0).all() and (city["weight"] <= 1).all()


def test_community_area_and_ward_weights_add_up_to_the_city_weight(crosswalks):
    city = crosswalks["city"].set_index("zip")["weight"]
    for geo in ("community_area", "ward"):
        summed = crosswalks[geo].groupby("zip")["weight"].sum()
        assert set(summed.index) == set(city.index), geo
        np.testing.assert_allclose(summed.reindex(city.index), city, rtol=1e-9, err_msg=geo)


def test_zips_far_from_the_city_limit_count_whole(crosswalks, inputs):
    limit = inputs["community_areas"].to_crs(geography.LOCAL_CRS).union_all().boundary
    zips = inputs["zip_areas"]
    far = zips.loc[zips.geometry.distance(limit) > 1000, "zip"]
    weights = crosswalks["city"].set_index("zip")["weight"]
    assert len(far) > 10
    assert (weights.reindex(far) == 1.0).all()


def test_zips_straddling_the_city_line_count_in_part(crosswalks):
    weights = crosswalks["city"].set_index("zip")["weight"]
    for zip_code in ("60707", "60827"):
        assert 0 < weights[zip_code] < 0.9, zip_code


def test_crosswalk_targets_are_the_city_areas(crosswalks, inputs):
    assert set(crosswalks["community_area"]["target"]) == set(inputs["community_areas"]["area_id"])
    assert set(crosswalks["ward"]["target"]) == set(inputs["wards"]["area_id"])
    assert set(crosswalks["city"]["target"]) == {geography.CITY_ID}


def test_carried_households_match_the_block_group_households_of_the_city(by_area, inputs):
    pieces = geography.household_pieces(inputs["block_groups"], inputs["community_areas"])
    city_households = pieces["households_in_piece"].sum()
    first = by_area[(by_area["geography"] == "city") & (by_area["release"] == by_area["release"].min())]
    assert first["households"].iloc[0] == pytest.approx(city_households, rel=0.03)


def test_totals_are_conserved_between_geographies(by_area):
    sums = by_area.groupby(["geography", "release"])[["enrolled_households", "eligible_households",
                                                      "households"]].sum()
    for geo in ("community_area", "ward"):
        np.testing.assert_allclose(sums.loc[geo].to_numpy(), sums.loc["city"].to_numpy(), rtol=1e-9)


def test_every_release_reaches_every_area_with_uptake_enrolled_over_eligible(by_area, releases):
    counts = by_area.groupby(["geography", "release"]).size().unstack("geography")
    assert len(counts) == releases["release"].nunique()
    assert (counts["community_area"] == 77).all() and (counts["ward"] == 50).all()
    assert (counts["city"] == 1).all()
    np.testing.assert_allclose(by_area["uptake"], by_area["enrolled_households"] / by_area["eligible_households"])
    assert by_area["uptake"].between(0, 1).all()


def test_city_enrollment_is_near_the_606_zip_sum(by_area, releases):
    city = by_area[by_area["geography"] == "city"].set_index("release")["enrolled_households"]
    chicago = releases[releases["zip"].str.startswith("606")].groupby("release")["enrolled_households"].sum()
    ratio = city / chicago
    assert ratio.between(0.97, 1.03).all()
    assert (city != chicago).all()
