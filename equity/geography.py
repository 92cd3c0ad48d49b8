"""Boundaries and crosswalks: carry any tract table to community areas, wards or the city.

A crosswalk is a plain table ``tract, target, weight``: the share of the
tract's households that live in the target area. ``apportion`` carries a tidy
tract table through any crosswalk with one join and one grouped sum, so
estimates and margins of error travel together (ACS handbook ch. 8, sums).

- Community areas: CMAP's ``xwalk_tract2cca`` household shares (``hh_pct``),
  from 2020 census blocks assigned by centroid (cmapgeo R package); the 2010
  version for ACS periods published on 2010 tracts (ending 2019 or earlier).
- Wards (2023 map): nobody publishes a crosswalk, so ``ward_crosswalk`` builds
  one. Block groups carry their ACS 2017–2021 household counts; each block
  group's households are split between wards by the share of its land area in
  each ward (EPSG:3435), then summed to tracts. Tracts without households fall
  back to land-area shares (recorded in the ``method`` column).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import estimates
from .columns import Column
from .errors import SnapshotError

LOCAL_CRS = "EPSG:3435"  # NAD83 / Illinois East (ftUS): measure areas and distances here
WEB_CRS = "EPSG:4326"
CITY_ID = "chicago"
CITY_NAME = "City of Chicago"

GEOGRAPHIES = ("city", "community_area", "ward", "tract")
GEOGRAPHY_LABELS = {"city": "City of Chicago", "community_area": "Community area",
                    "ward": "Ward", "tract": "Census tract"}
CUSTOM_GEOGRAPHY = "custom"
"""Several community areas, wards or tracts combined into one area (``compare.combine_areas``)."""

# Simplification tolerances (feet, EPSG:3435) for what is sent to the browser.
WEB_TOLERANCE_FEET = {"community_area": 60.0, "ward": 60.0, "tract": 30.0}

COMMUNITY_AREAS_FILE = Path("geo") / "community_areas.geojson"
WARDS_FILE = Path("geo") / "wards_2023.geojson"
TRACTS_FILE = Path("geo") / "tl_2020_17031_tract20.zip"
BLOCK_GROUPS_FILE = Path("geo") / "tl_2020_17031_bg20.zip"
TRACT_CROSSWALK_FILES = {2020: Path("crosswalk") / "xwalk_tract2cca.csv",
                         2010: Path("crosswalk") / "xwalk_tract2cca_2010.csv"}
BLOCK_GROUP_HOUSEHOLDS_FILE = Path("acs") / "acs_internet_use_block.csv"

CROSSWALK_COLUMNS = ["tract", "target", "weight"]

SQ_FT_PER_SQ_M = 10.763867  # US survey feet, the unit of EPSG:3435

_NAME_FIXES = {"Ohare": "O'Hare", "Mckinley Park": "McKinley Park"}


# ---- the columns naming an area in a table --------------------------------------------------------

AREA = Column("area_name", "Area", "Name of the area: the City of Chicago, a community area, ward or tract, or a "
              "custom area made of several areas combined.")
MADE_OF = Column("members", "Made of", "The community areas, wards or tracts combined into the custom area.",
                 "Each tract's household shares in the chosen areas are added (at most 1) before summing, so a "
                 "tract split between two chosen areas is counted once.")
COMMUNITY_AREA_NUMBER = Column("area_id", "Community area number", "Chicago community area number (1–77).",
                               kind="whole number")
COMMUNITY_AREA = Column("area_name", "Community area", "Chicago community area name.")
WARD = Column("area_id", "Ward", "Chicago City Council ward number, 2023 ward map (in force from May 2023).",
              kind="whole number")
TRACT_GEOID = Column("area_id", "Census tract GEOID", "11-digit census tract identifier: state (17), county (031 "
                     "Cook, 043 DuPage), tract. Read it as text to keep it exact.")
TRACT = Column("area_name", "Census tract", "Census tract name as the Census Bureau writes it.")

ID_COLUMNS = {
    "city": [AREA],
    "community_area": [COMMUNITY_AREA_NUMBER, COMMUNITY_AREA],
    "ward": [WARD],
    "tract": [TRACT_GEOID, TRACT],
    CUSTOM_GEOGRAPHY: [AREA, MADE_OF],
}
"""The columns naming the areas of each geography in a table of figures."""


def tract_name(geoid: str) -> str:
    """"Census tract 101.02" from an 11-digit GEOID (the Census Bureau's tract name form)."""
    code = str(geoid)[-6:]
    whole, suffix = int(code[:4]), code[4:]
    return f"Census tract {whole}" + ("" if suffix == "00" else f".{suffix}")


def tract_vintage(year: int) -> int:
    """Census tract boundaries an ACS 5-year period is published on (2020 tracts from 2020 on)."""
    return 2020 if year >= 2020 else 2010


def _read_vector(path: Path, columns: list[str], what: str) -> gpd.GeoDataFrame:
    if not path.exists():
        raise SnapshotError(f"{what} file not found: {path}.")
    source = f"zip://{path}" if path.suffix == ".zip" else path
    try:
        frame = gpd.read_file(source)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise SnapshotError(f"Could not read {what} from {path}: {exc}") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SnapshotError(f"{path}: missing column(s) {', '.join(missing)} in the {what} file; "
                            f"found {', '.join(map(str, frame.columns[:10]))}.")
    if frame.crs is None:
        raise SnapshotError(f"{path}: the {what} file declares no coordinate reference system.")
    return frame


def community_area_name(raw: str) -> str:
    """Title-case a community area name the way Chicago writes it ("O'Hare", "McKinley Park")."""
    name = str(raw).strip().title()
    return _NAME_FIXES.get(name, name)


def read_community_areas(snapshot: Path) -> gpd.GeoDataFrame:
    """The 77 community areas: ``community_area`` (number as text), ``name``, geometry (WGS84)."""
    path = snapshot / COMMUNITY_AREAS_FILE
    frame = _read_vector(path, ["area_numbe", "community"], "community area boundaries")
    out = gpd.GeoDataFrame({"area_id": frame["area_numbe"].astype(int).astype(str),
                            "area_name": frame["community"].map(community_area_name)},
                           geometry=frame.geometry.make_valid(), crs=frame.crs).to_crs(WEB_CRS)
    return _dissolve_by_id(out, path, expected=77)


def read_wards(snapshot: Path) -> gpd.GeoDataFrame:
    """The 50 wards of the 2023 map: ``area_id`` (ward number as text), ``area_name``, geometry."""
    path = snapshot / WARDS_FILE
    frame = _read_vector(path, ["ward"], "ward boundaries")
    ward = frame["ward"].astype(int).astype(str)
    out = gpd.GeoDataFrame({"area_id": ward, "area_name": "Ward " + ward},
                           geometry=frame.geometry.make_valid(), crs=frame.crs).to_crs(WEB_CRS)
    return _dissolve_by_id(out, path, expected=50)


def _dissolve_by_id(frame: gpd.GeoDataFrame, path: Path, expected: int) -> gpd.GeoDataFrame:
    frame = frame.dissolve(by=["area_id", "area_name"], as_index=False)
    if len(frame) != expected:
        raise SnapshotError(f"{path}: expected {expected} areas, found {len(frame)}.")
    frame["_order"] = frame["area_id"].astype(int)
    return frame.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def read_tracts(snapshot: Path) -> gpd.GeoDataFrame:
    """2020 census tracts of Cook County (TIGER/Line): ``area_id`` (GEOID), ``area_name``, geometry.

    Each tract is named here, once, by ``tract_name`` ("Census tract 8439"): every table, map and
    download names tracts from this column.
    """
    path = snapshot / TRACTS_FILE
    frame = _read_vector(path, ["GEOID20"], "census tract boundaries")
    geoids = frame["GEOID20"].astype(str)
    return gpd.GeoDataFrame({"area_id": geoids, "area_name": geoids.map(tract_name)},
                            geometry=frame.geometry, crs=frame.crs).to_crs(WEB_CRS)


def read_block_groups(snapshot: Path) -> gpd.GeoDataFrame:
    """2020 block groups of Cook County (TIGER/Line) with their ACS 2017–2021 households."""
    path = snapshot / BLOCK_GROUPS_FILE
    frame = _read_vector(path, ["GEOID20", "ALAND20"], "block group boundaries")
    hh_path = snapshot / BLOCK_GROUP_HOUSEHOLDS_FILE
    if not hh_path.exists():
        raise SnapshotError(f"Block-group household file not found: {hh_path}.")
    households = pd.read_csv(hh_path, dtype={"GEOID20": str}, usecols=lambda c: c in {"GEOID20", "total_hh"})
    if {"GEOID20", "total_hh"} - set(households.columns):
        raise SnapshotError(f"{hh_path}: expected columns GEOID20 and total_hh.")
    households["total_hh"] = pd.to_numeric(households["total_hh"], errors="coerce")
    out = gpd.GeoDataFrame({"block_group": frame["GEOID20"].astype(str),
                            "land_sq_ft": pd.to_numeric(frame["ALAND20"], errors="coerce") * SQ_FT_PER_SQ_M},
                           geometry=frame.geometry, crs=frame.crs)
    out = out.merge(households.rename(columns={"GEOID20": "block_group", "total_hh": "households"}),
                    on="block_group", how="left")
    out["households"] = out["households"].fillna(0.0)
    return out


def read_community_area_crosswalk(snapshot: Path, vintage: int = 2020) -> pd.DataFrame:
    """CMAP tract -> community area household shares as ``tract, target, weight``.

    Rows with a zero household share (e.g. the two DuPage tracts at O'Hare,
    whose households all live outside the city) are dropped.
    """
    path = snapshot / TRACT_CROSSWALK_FILES[vintage]
    if not path.exists():
        raise SnapshotError(f"Tract to community area crosswalk not found: {path}.")
    frame = pd.read_csv(path, dtype={"geoid_tract": str})
    missing = [c for c in ("geoid_tract", "cca_num", "hh_pct") if c not in frame.columns]
    if missing:
        raise SnapshotError(f"{path}: missing column(s) {', '.join(missing)}; expected CMAP's "
                            "geoid_tract, cca_num and hh_pct.")
    weight = pd.to_numeric(frame["hh_pct"], errors="coerce")
    if weight.isna().any() or (weight < 0).any() or (weight > 1.000001).any():
        raise SnapshotError(f"{path}: column hh_pct must hold shares between 0 and 1.")
    out = pd.DataFrame({"tract": frame["geoid_tract"], "target": frame["cca_num"].astype(int).astype(str),
                        "weight": weight})
    return out[out["weight"] > 0].reset_index(drop=True)


def city_crosswalk(community_area_crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Tract -> city weights: each tract's household share inside any community area."""
    out = community_area_crosswalk.groupby("tract", as_index=False)["weight"].sum()
    out["weight"] = out["weight"].clip(upper=1.0)
    out.insert(1, "target", CITY_ID)
    return out[CROSSWALK_COLUMNS]


def tract_crosswalk(community_area_crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Identity crosswalk for Chicago's tracts (any household inside the city), whole tracts."""
    tracts = community_area_crosswalk["tract"].drop_duplicates()
    return pd.DataFrame({"tract": tracts.values, "target": tracts.values, "weight": 1.0})


def household_pieces(block_groups: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Block groups cut by areas (EPSG:3435), each piece carrying its land-share of households.

    A piece's share is its area over the block group's LAND area (TIGER
    ``ALAND20``), not its whole polygon: lakefront block groups reach into
    Lake Michigan, which no ward or community area covers, and dividing by
    the water too would lose their households. Where the pieces cover more
    than the recorded land (rivers inside areas) their own total is used, so
    a block group's shares never add to more than one.
    """
    bgs = block_groups.to_crs(LOCAL_CRS)
    bgs["tract"] = bgs["block_group"].str[:11]
    pieces = gpd.overlay(bgs[["block_group", "tract", "households", "land_sq_ft", "geometry"]],
                         areas[["area_id", "geometry"]].to_crs(LOCAL_CRS), how="intersection",
                         keep_geom_type=True)
    pieces["piece_area"] = pieces.geometry.area
    covered = pieces.groupby("block_group")["piece_area"].transform("sum")
    land = pieces["land_sq_ft"].where(pieces["land_sq_ft"] > 0, covered)
    pieces["land_share"] = pieces["piece_area"] / np.maximum(land, covered)
    pieces["households_in_piece"] = pieces["households"] * pieces["land_share"]
    return pieces


def ward_crosswalk(block_groups: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Household-weighted tract -> ward shares built from block groups (see module docstring).

    Returns ``tract, target, weight, method`` where weight is the share of the
    tract's households (all of them, inside the city or not) living in the ward.
    """
    pieces = household_pieces(block_groups, wards)
    tract_of = block_groups["block_group"].str[:11]
    tract_households = block_groups["households"].groupby(tract_of).sum()
    by_pair = pieces.groupby(["tract", "area_id"], as_index=False)[["households_in_piece", "land_share"]].sum()
    bgs_in_tract = by_pair["tract"].map(tract_of.value_counts())
    households = by_pair["tract"].map(tract_households)
    use_households = households > 0
    by_pair["weight"] = np.where(use_households,
                                 by_pair["households_in_piece"] / households.where(use_households),
                                 by_pair["land_share"] / bgs_in_tract)
    by_pair["method"] = np.where(use_households, "households", "area")
    out = by_pair.rename(columns={"area_id": "target"})[CROSSWALK_COLUMNS + ["method"]]
    # Slivers from boundary digitising differences carry no real households.
    out = out[out["weight"] > 1e-4]
    return out.sort_values(["tract", "target"], ignore_index=True)


def ward_community_area_overlap(block_groups: gpd.GeoDataFrame, wards: gpd.GeoDataFrame,
                                community_areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Households (ACS 2017–2021, block-group based) in each ward x community area overlap.

    Returns ``ward, community_area, households, share_of_ward``; overlaps
    holding under 0.5% of a ward's households (boundary slivers) are dropped.
    """
    cells = gpd.overlay(wards[["area_id", "geometry"]].rename(columns={"area_id": "ward"}),
                        community_areas[["area_id", "geometry"]].rename(columns={"area_id": "community_area"}),
                        how="intersection", keep_geom_type=True)
    cells["area_id"] = cells["ward"] + "|" + cells["community_area"]
    pieces = household_pieces(block_groups, cells)
    out = pieces.groupby("area_id", as_index=False)["households_in_piece"].sum()
    out[["ward", "community_area"]] = out["area_id"].str.split("|", expand=True)
    out = out.rename(columns={"households_in_piece": "households"})
    out["share_of_ward"] = out["households"] / out.groupby("ward")["households"].transform("sum")
    out = out[out["share_of_ward"] >= 0.005]
    return out[["ward", "community_area", "households", "share_of_ward"]].reset_index(drop=True)


def check_coverage(tract_table: pd.DataFrame, crosswalk: pd.DataFrame, what: str) -> None:
    """Every tract the crosswalk needs must have ACS rows; name the first that does not."""
    have = set(tract_table["tract"].unique())
    needed = crosswalk.loc[crosswalk["weight"] > 0, "tract"].unique()
    absent = [t for t in needed if t not in have]
    if absent:
        raise SnapshotError(f"{len(absent)} tract(s) in the {what} crosswalk have no ACS estimates, "
                            f"e.g. {absent[0]}; the ACS file and the crosswalk must use the same tracts.")


def apportion(tract_table: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Carry a tidy tract table to the crosswalk's targets, estimates and MOEs together.

    Each tract's estimate and MOE are multiplied by its household share in
    the target (a constant factor scales an MOE linearly), then summed with
    the handbook's sum formula, counting the largest zero-estimate MOE once.
    A tract without a published estimate or MOE makes its targets' sums
    missing (never silently smaller); ``missing_tracts`` counts such tracts.
    Returns ``target, year, variable, estimate, moe, missing_tracts``.
    """
    joined = tract_table.merge(crosswalk[CROSSWALK_COLUMNS], on="tract", how="inner")
    joined["estimate"] = joined["estimate"] * joined["weight"]
    joined["moe"] = joined["moe"] * joined["weight"]
    summed = estimates.grouped_sum(joined, by=["target", "year", "variable"])
    joined["missing_tracts"] = (joined["estimate"].isna() | joined["moe"].isna()).astype(int)
    missing = joined.groupby(["target", "year", "variable"], as_index=False)["missing_tracts"].sum()
    return summed.merge(missing, on=["target", "year", "variable"], how="left")


def simplify_for_web(frame: gpd.GeoDataFrame, tolerance_feet: float) -> gpd.GeoDataFrame:
    """Simplify in EPSG:3435 (topology preserved) and return WGS84 with ~1 m coordinate precision."""
    local = frame.to_crs(LOCAL_CRS)
    local["geometry"] = local.geometry.simplify(tolerance_feet, preserve_topology=True)
    web = local.to_crs(WEB_CRS)
    web["geometry"] = web.geometry.set_precision(1e-5)
    return web


def chicago_tracts(tracts: gpd.GeoDataFrame, community_area_crosswalk: pd.DataFrame) -> gpd.GeoDataFrame:
    """The tracts with Chicago households (those in the community-area crosswalk)."""
    keep = set(community_area_crosswalk["tract"])
    return tracts[tracts["area_id"].isin(keep)].reset_index(drop=True)
