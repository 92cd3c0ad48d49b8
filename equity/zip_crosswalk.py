"""ZIP code crosswalks by households: carry any ZIP table to the city, community areas and wards.

ZIP codes do not follow the city limit, so a ZIP's figures cannot be counted
whole (nor picked by their 606 prefix). The crosswalks here are plain tables
``zip, target, weight`` like the tract ones of ``equity.geography``: the
weight is the share of the ZIP's households living in the target, so one join
and one grouped sum carry any ZIP count (``equity.acp.carry``).

Method: the allocation of HUD's ZIP code crosswalks (a ZIP's count is
multiplied by the ratio of its residential addresses in each target; Wilson
and Din, "Understanding and Enhancing the U.S. Department of Housing and Urban
Development's ZIP Code Crosswalk Files", Cityscape 20(2), 2018, 277–294),
with ACS households of block-group pieces in place of USPS addresses, as the
project's tract → ward crosswalk does:

1. The City of Chicago's ZIP code polygons (``geo/chicago_zip_codes.zip``,
   already clipped to the city limit) are cut by the 2020 block groups in
   EPSG:3435; each piece carries its block group's ACS 2017–2021 households
   in proportion to its share of the block group's land
   (``geography.household_pieces``, the method of the ward crosswalk).
2. Share in the city. A ZIP polygon that comes within ``BORDER_FEET`` of no
   suburban land (block groups with land, mostly outside the city limit)
   cannot have been clipped: the ZIP lies wholly in the city, weight 1. A
   ZIP polygon on the city limit gets the households of its pieces over the
   ZIP's own household count (the ACS households of its ZCTA, from the ACP
   file), capped at 1: 60707 (Elmwood Park) and 60827 (Riverdale) count in
   part, as do city ZIPs reaching into suburbs (60656, 60633, …).
3. Within the city a ZIP's share is split between community areas (wards)
   by the households of the block-group pieces in ZIP ∩ community area
   (ZIP ∩ ward), so the community areas (wards) of a ZIP add up to exactly
   its city weight, and totals are conserved between geographies.

A PO-box ZIP has no households of its own; a City polygon drawn for one
(60666, O'Hare) counts toward the ZCTA the ACP file assigns it (60018).

Limits: block-group households are spread evenly over land, and the City's
ZIP polygons (drawn 2009) and the Census's 2020 ZCTAs differ at the edges,
so a ZIP on the city limit may be a few percent short of whole, and a small
downtown ZIP's households may exceed its ZCTA's (capped at 1). The O'Hare
side of the city limit borders DuPage County and Indiana has none of the
Cook County block groups, so only Cook suburbs mark the border; ZIP codes
do not cross the state line and the DuPage side is the airport.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import SnapshotError
from .geography import CITY_ID, LOCAL_CRS, household_pieces

ZIP_CODES_FILE = Path("geo") / "chicago_zip_codes.zip"
ZIP_CROSSWALK_COLUMNS = ["zip", "target", "weight"]

BORDER_FEET = 500.0
"""A ZIP polygon this close to suburban land is on the city limit. Polygons
on the limit touch it (the City clipped them to it); the nearest wholly
inner ZIP lies over 5,000 ft away, so the exact value matters little."""

SUBURBAN_SHARE = 0.5
"""A block group is suburban when less than this share of its land is in the city."""


def read_zip_areas(snapshot: Path) -> gpd.GeoDataFrame:
    """The City's ZIP code polygons, one row per ZIP: ``zip`` (text), geometry (EPSG:3435).

    The file has several rows for ZIPs in pieces (60643, 60707); they are dissolved.
    """
    path = snapshot / ZIP_CODES_FILE
    if not path.exists():
        raise SnapshotError(f"ZIP code boundary file not found: {path}.")
    try:
        frame = gpd.read_file(f"zip://{path}")
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise SnapshotError(f"Could not read the ZIP code boundaries from {path}: {exc}") from exc
    if "ZIP" not in frame.columns:
        raise SnapshotError(f"{path}: missing column ZIP in the ZIP code boundaries; found "
                            f"{', '.join(map(str, frame.columns))}.")
    if frame.crs is None:
        raise SnapshotError(f"{path}: the ZIP code boundaries declare no coordinate reference system.")
    zips = frame["ZIP"].astype(str).str.strip()
    bad = zips[~zips.str.fullmatch(r"\d{5}")]
    if len(bad):
        raise SnapshotError(f"{path}: column ZIP has a value that is not a five-digit ZIP code: {bad.iloc[0]!r}.")
    out = gpd.GeoDataFrame({"zip": zips}, geometry=frame.geometry.make_valid(), crs=frame.crs).to_crs(LOCAL_CRS)
    return out.dissolve(by="zip", as_index=False).sort_values("zip", ignore_index=True)


def border_zips(zip_areas: gpd.GeoDataFrame, block_groups: gpd.GeoDataFrame,
                city: gpd.GeoSeries | gpd.GeoDataFrame) -> pd.Series:
    """Whether each ZIP polygon lies on the city limit (within ``BORDER_FEET`` of suburban land).

    Lake Michigan is not suburban land: the water-only block groups and the
    water of the lakefront ones are left out. ``city`` is any cover of the
    city (the community areas). Returns a boolean Series indexed by ``zip``.
    """
    limit = city.to_crs(LOCAL_CRS).union_all()
    bgs = block_groups.to_crs(LOCAL_CRS)
    land = bgs["land_sq_ft"]
    in_city = bgs.geometry.intersection(limit).area
    suburban = bgs[(land > 0) & (in_city < SUBURBAN_SHARE * land)]
    suburban_land = suburban.union_all().difference(limit)
    zips = zip_areas.to_crs(LOCAL_CRS)
    return pd.Series(zips.geometry.distance(suburban_land).to_numpy() <= BORDER_FEET,
                     index=zips["zip"].to_numpy(), name="on_city_limit")


def city_shares(zip_areas: gpd.GeoDataFrame, block_groups: gpd.GeoDataFrame,
                city: gpd.GeoSeries | gpd.GeoDataFrame, zip_households: pd.DataFrame) -> pd.DataFrame:
    """Each ZIP's share of households in the city (steps 1–2 of the module docstring).

    ``zip_households``: ``zip, zcta, households`` (``acp.zip_households``).
    Returns ``zip, households, households_in_city, weight, method`` where
    ``zip`` is the ZIP the counts are published under (a PO-box polygon's
    ZCTA) and ``method`` is ``whole`` (inside the city limit) or ``households``.
    """
    zcta_of = zip_households.set_index("zip")["zcta"]
    own = zip_households[zip_households["zip"] == zip_households["zcta"]].set_index("zip")["households"]
    unknown = sorted(set(zip_areas["zip"]) - set(zcta_of.index))
    if unknown:
        raise SnapshotError(f"ZIP code(s) {', '.join(unknown)} of the City's boundaries are not in the ACP "
                            "file; their households are unknown.")
    areas = zip_areas.rename(columns={"zip": "area_id"})
    pieces = household_pieces(block_groups, areas)
    inside = pieces.groupby("area_id")["households_in_piece"].sum().reindex(areas["area_id"], fill_value=0.0)
    on_limit = border_zips(zip_areas, block_groups, city).reindex(areas["area_id"])
    out = pd.DataFrame({"polygon": areas["area_id"].to_numpy(), "households_in_city": inside.to_numpy(),
                        "on_city_limit": on_limit.to_numpy()})
    out["zip"] = out["polygon"].map(zcta_of)
    grouped = out.groupby("zip", as_index=False).agg(households_in_city=("households_in_city", "sum"),
                                                     on_city_limit=("on_city_limit", "any"))
    grouped["households"] = grouped["zip"].map(own)
    no_households = grouped["households"].isna() | (grouped["households"] <= 0)
    if (no_households & grouped["on_city_limit"]).any():
        first = grouped.loc[no_households & grouped["on_city_limit"], "zip"].iloc[0]
        raise SnapshotError(f"ZIP code {first} lies on the city limit but the ACP file gives it no "
                            "households (totalHH), so its share in the city cannot be measured.")
    share = (grouped["households_in_city"] / grouped["households"]).clip(upper=1.0)
    grouped["weight"] = np.where(grouped["on_city_limit"], share, 1.0)
    grouped["method"] = np.where(grouped["on_city_limit"], "households", "whole")
    return grouped[["zip", "households", "households_in_city", "weight", "method"]]


def split_within_city(zip_areas: gpd.GeoDataFrame, block_groups: gpd.GeoDataFrame,
                      areas: gpd.GeoDataFrame, zip_households: pd.DataFrame) -> pd.DataFrame:
    """Each ZIP's city households split between ``areas`` (``area_id``): ``zip, target, share``.

    Shares are the households of block-group pieces in ZIP ∩ area over those
    in all the ZIP's areas, so a ZIP's shares add up to 1. Pieces holding
    under 0.01% of a ZIP's households (boundary slivers) are dropped first.
    A ZIP without households in any piece is split by land area instead.
    """
    cells = gpd.overlay(zip_areas[["zip", "geometry"]].to_crs(LOCAL_CRS),
                        areas[["area_id", "geometry"]].rename(columns={"area_id": "target"}).to_crs(LOCAL_CRS),
                        how="intersection", keep_geom_type=True)
    cells["area_id"] = cells["zip"] + "|" + cells["target"]
    pieces = household_pieces(block_groups, cells[["area_id", "geometry"]])
    pieces["piece_area"] = pieces.geometry.area
    by_cell = pieces.groupby("area_id", as_index=False)[["households_in_piece", "piece_area"]].sum()
    by_cell[["zip", "target"]] = by_cell["area_id"].str.split("|", expand=True)
    for column in ("households_in_piece", "piece_area"):
        by_cell[f"{column}_share"] = by_cell[column] / by_cell.groupby("zip")[column].transform("sum")
    has_households = by_cell.groupby("zip")["households_in_piece"].transform("sum") > 0
    by_cell["share"] = np.where(has_households, by_cell["households_in_piece_share"], by_cell["piece_area_share"])
    by_cell = by_cell[by_cell["share"] >= 1e-4].copy()
    by_cell["share"] = by_cell["share"] / by_cell.groupby("zip")["share"].transform("sum")
    by_cell["zip"] = by_cell["zip"].map(zip_households.set_index("zip")["zcta"])
    out = by_cell.groupby(["zip", "target"], as_index=False)["share"].sum()
    out["share"] = out["share"] / out.groupby("zip")["share"].transform("sum")
    return out


def zip_crosswalks(zip_areas: gpd.GeoDataFrame, block_groups: gpd.GeoDataFrame,
                   community_areas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame,
                   zip_households: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """ZIP -> city, community area and ward crosswalks by households (see the module docstring).

    Arguments: ``read_zip_areas``, ``geography.read_block_groups``,
    ``geography.read_community_areas``, ``geography.read_wards`` and
    ``acp.zip_households``. Returns ``{"city", "community_area", "ward"}`` ->
    ``zip, target, weight, method``; a ZIP's community-area (ward) weights add
    up to its city weight.
    """
    shares = city_shares(zip_areas, block_groups, community_areas, zip_households)
    shares = shares[shares["weight"] > 0]
    city = shares.assign(target=CITY_ID)[ZIP_CROSSWALK_COLUMNS + ["method"]]
    out = {"city": city.reset_index(drop=True)}
    for geo, areas in (("community_area", community_areas), ("ward", wards)):
        split = split_within_city(zip_areas, block_groups, areas, zip_households)
        joined = split.merge(shares[["zip", "weight", "method"]], on="zip", how="inner")
        joined["weight"] = joined["weight"] * joined["share"]
        out[geo] = joined[ZIP_CROSSWALK_COLUMNS + ["method"]].sort_values(["zip", "target"], ignore_index=True)
    return out
