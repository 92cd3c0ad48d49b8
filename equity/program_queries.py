"""What the pages (and the command line) ask about programs: the Affordable Connectivity Program (ACP).

Like ``queries``, each function takes the loaded data and gives back what a
page shows; questions marked ``@_once`` are answered once per loaded build.
The ACP figures are administrative counts carried from ZIP codes
(``acp``, ``zip_crosswalk``); the unconnected households beside them are
the ACS estimates of the latest loaded period, with their margins of error.
"""

from __future__ import annotations

import pandas as pd

from . import acp, exports, geography, metrics, targets
from .columns import Column, renamed
from .queries import _once, area_names, city_row, metric_rows

ACP_GEOGRAPHIES = ("city", "community_area", "ward")
AREA_GEOGRAPHIES = ("community_area", "ward")
NEED_METRIC = "unconnected"
"""The ACS measure shown beside the ACP figures: households without an internet subscription."""

UNCONNECTED = Column("unconnected_households", "Unconnected households (ACS)",
                     "Households without an internet subscription (ACS 5-year estimate of the latest loaded "
                     "period): the Digital Equity Plan's measure", "B28002_012 + B28002_013, carried from tracts",
                     kind="count")
UNCONNECTED_MOE = Column("unconnected_households_moe", "Unconnected households MOE (90%)",
                         "90% margin of error of the unconnected households", "ACS handbook ch. 8 sums", kind="count")
UNCONNECTED_SHARE = Column("unconnected_share", "Share of households unconnected (ACS)",
                           "Unconnected households as a share of all households (ACS)",
                           "unconnected households ÷ households (B28002_001)", kind="share")
UNCONNECTED_SHARE_MOE = Column("unconnected_share_moe", "Share unconnected MOE (90%)",
                               "90% margin of error of the share unconnected", "ACS handbook ch. 8 proportions",
                               kind="points")
RANK = Column("rank", "Rank", "Rank by ACP enrolled households at the last release (1 = most households enrolled, "
              "so most households losing the subsidy when the program ended)", kind="whole number")
ACS_PERIOD = Column("acs_period", "ACS period", "ACS 5-year period of the unconnected households")

BESIDE_NEED_COLUMNS = [acp.COLUMNS[k] for k in ("enrolled_households", "eligible_households", "uptake")] + [
    UNCONNECTED, UNCONNECTED_MOE, UNCONNECTED_SHARE, UNCONNECTED_SHARE_MOE, ACS_PERIOD]
"""The columns of ``beside_need`` after the area's own."""

EXTRACT_FIGURES = [acp.COLUMNS[k] for k in ("release", "enrolled_households", "eligible_households", "households",
                                            "uptake", "zips", "suppressed_zips")]
ROUNDED = {"enrolled_households": 0, "eligible_households": 0, "households": 0, "uptake": 4,
           "unconnected_households": 0, "unconnected_households_moe": 0, "unconnected_share": 4,
           "unconnected_share_moe": 4}


def id_columns(geography_name: str) -> list[Column]:
    """The columns naming an area of ``geography_name`` (the ward's number only; a community area's number
    and name; the city's name)."""
    return geography.ID_COLUMNS[geography_name]


def _check_geography(geography_name: str, allowed=ACP_GEOGRAPHIES) -> None:
    if geography_name not in allowed:
        raise ValueError(f"ACP figures are carried to {', '.join(allowed)}, not '{geography_name}'")


# ---- releases --------------------------------------------------------------------------------------

@_once
def releases(data) -> list[pd.Timestamp]:
    """The ACP releases of the build, oldest first (the dates the files were published)."""
    return [pd.Timestamp(r) for r in sorted(data.acp()["release"].unique())]


def last_release(data) -> pd.Timestamp:
    """The last release: the households enrolled when the program stopped taking enrollments (7 Feb 2024)."""
    return releases(data)[-1]


def release_label(release) -> str:
    """'13 Mar 2024' (the date a release was published)."""
    return pd.Timestamp(release).strftime("%-d %b %Y")


# ---- rows --------------------------------------------------------------------------------------------

@_once
def rows(data, geography_name: str, release: pd.Timestamp) -> pd.DataFrame:
    """Every area's ACP figures (``acp.AREA_COLUMNS`` and ``area_name``) at one release, indexed by area id."""
    _check_geography(geography_name)
    table = data.acp()
    chosen = table[(table["geography"] == geography_name) & (table["release"] == pd.Timestamp(release))]
    if chosen.empty:
        raise ValueError(f"no ACP release dated {pd.Timestamp(release).date()}")
    return chosen.set_index("area_id", drop=False)


@_once
def series(data, geography_name: str, area_id: str) -> pd.DataFrame:
    """One area's ACP figures at every release, oldest first."""
    _check_geography(geography_name)
    table = data.acp()
    return table[(table["geography"] == geography_name) & (table["area_id"] == area_id)].sort_values("release")


def city(data, release: pd.Timestamp) -> pd.Series:
    """The City of Chicago's ACP figures at one release (its ZIP codes carried by households, never by prefix)."""
    return rows(data, "city", release).iloc[0]


@_once
def beside_need(data, geography_name: str, release: pd.Timestamp) -> pd.DataFrame:
    """Every area's ACP figures at one release beside its unconnected households (ACS, latest period, with
    MOEs), indexed by area id, in area order: ``acp.AREA_COLUMNS``, ``area_name`` and the keys of
    ``BESIDE_NEED_COLUMNS``. For the city, the city row of the ACS, never a sum of areas."""
    acp_rows = rows(data, geography_name, release)
    year = data.latest_year
    need = (city_row(data, NEED_METRIC, year).to_frame().T.set_index(pd.Index([geography.CITY_ID]))
            if geography_name == "city" else metric_rows(data, geography_name, NEED_METRIC, year))
    need = need.reindex(acp_rows.index)
    out = acp_rows.assign(unconnected_households=need["count"].astype(float),
                          unconnected_households_moe=need["count_moe"].astype(float),
                          unconnected_share=need["share"].astype(float),
                          unconnected_share_moe=need["share_moe"].astype(float),
                          acs_period=metrics.period_label(year))
    return out.iloc[exports.area_order(out["area_id"]).argsort(kind="stable")]


@_once
def where_end_leaves(data, geography_name: str) -> pd.DataFrame:
    """Where the program's end leaves households: every area's enrolled households at the last release
    beside its unconnected households, ranked by enrolled households (most first), with ``rank``."""
    _check_geography(geography_name, AREA_GEOGRAPHIES)
    table = beside_need(data, geography_name, last_release(data))
    table = table.sort_values("enrolled_households", ascending=False, na_position="last", kind="stable")
    return table.assign(rank=table["enrolled_households"].rank(ascending=False, method="min").astype("Int64"))


@_once
def ward_brief(data, ward: str) -> dict:
    """A ward's ACP figures at the last release beside its unconnected households: ``row`` (``beside_need``),
    ``city`` (the city's), ``rank`` by enrolled households, ``lowest_uptake_rank`` (1 = lowest uptake) and
    ``wards``."""
    ranked = where_end_leaves(data, "ward")
    row = ranked.loc[ward]
    uptake_rank = ranked["uptake"].rank(ascending=True, method="min")
    return {"row": row, "city": beside_need(data, "city", last_release(data)).iloc[0],
            "rank": row["rank"], "lowest_uptake_rank": int(uptake_rank.loc[ward]) if pd.notna(row["uptake"]) else None,
            "wards": len(ranked), "release": last_release(data)}


def top(data, geography_name: str, by: str, n: int = 5, lowest: bool = False) -> pd.DataFrame:
    """The ``n`` areas with the most (``lowest``: least) ``by`` at the last release."""
    table = beside_need(data, geography_name, last_release(data)).dropna(subset=[by])
    return table.nsmallest(n, by) if lowest else table.nlargest(n, by)


# ---- tables shown and downloaded ------------------------------------------------------------------

def shown_columns(geography_name: str, ranked: bool = False) -> list[Column]:
    """The columns of ``shown_table``."""
    names = [geography.WARD] if geography_name == "ward" else [geography.COMMUNITY_AREA]
    return ([RANK] if ranked else []) + names + BESIDE_NEED_COLUMNS


def shown_table(frame: pd.DataFrame, geography_name: str, ranked: bool = False) -> pd.DataFrame:
    """``beside_need`` or ``where_end_leaves`` rows headed by the labels of ``shown_columns``, rounded."""
    columns = shown_columns(geography_name, ranked)
    out = frame.copy()
    for key, decimals in ROUNDED.items():
        out[key] = out[key].astype(float).round(decimals)
    if geography_name == "ward":
        out["area_id"] = out["area_id"].astype(int)
    return renamed(out, columns).reset_index(drop=True)


def extract_columns(geography_name: str) -> list[Column]:
    """The columns of ``extract``: the area's, then the ACP figures'."""
    _check_geography(geography_name)
    return id_columns(geography_name) + EXTRACT_FIGURES


@_once
def extract(data, geography_name: str) -> pd.DataFrame:
    """ACP figures of every area of a geography at every release, one row per area and release, headed by
    ``extract_columns``' labels: counts in whole households, uptake as a fraction, release as a date."""
    _check_geography(geography_name)
    table = data.acp()
    out = table[table["geography"] == geography_name].copy()
    out["_area"] = exports.area_order(out["area_id"])
    out = out.sort_values(["_area", "release"], kind="stable")
    for key in ("enrolled_households", "eligible_households", "households"):
        out[key] = out[key].round(0).astype("Int64")
    out["uptake"] = out["uptake"].round(4)
    out["release"] = out["release"].dt.strftime("%Y-%m-%d")
    if geography_name in AREA_GEOGRAPHIES:
        out["area_id"] = out["area_id"].astype(int)
    return renamed(out, extract_columns(geography_name)).reset_index(drop=True)


def describe_choice(geography_name: str) -> str:
    """One line naming an ACP extract for the provenance note."""
    where = geography.GEOGRAPHY_LABELS[geography_name]
    where = where if geography_name == "city" else f"every {where.lower()}"
    return f"Affordable Connectivity Program enrollment, {where}, every release."


def provenance(data, choice: str | None = None) -> str:
    """The build's provenance note followed by where the ACP figures come from."""
    note = exports.provenance(data.manifest, choice)
    facts = data.manifest.get("acp", {})
    lines = ["", "Affordable Connectivity Program:", f"  {facts.get('source', acp.SOURCE)}",
             f"  Releases: {', '.join(facts.get('releases', []))}.",
             f"  ZIP codes counted whole (inside the city limit): {facts.get('zips_whole', '?')}; "
             f"in part (on the city limit, by households): {facts.get('zips_in_part', '?')}."]
    return note + "\n".join(lines) + "\n"


def export_bytes(data, geography_name: str, fmt: str = "csv") -> bytes:
    """An ACP extract as file bytes: ``csv`` or its ``dictionary`` (CSV); the app and the CLI both call this."""
    if fmt not in ("csv", "dictionary"):
        raise ValueError(f"ACP tables are written as csv (or their dictionary), not '{fmt}'")
    table = extract(data, geography_name)
    if fmt == "dictionary":
        return exports.to_csv_bytes(exports.data_dictionary(table, extract_columns(geography_name)))
    return exports.to_csv_bytes(table)


def command_line(geography_name: str) -> str:
    """The ``python -m equity export`` command writing the same ACP table."""
    return f"python -m equity export --geography {geography_name} --acp"


# ---- the method, for the Methodology page ------------------------------------------------------------

ZIP_CROSSWALK_COLUMNS = [
    Column("zip", "ZIP code", "ZIP code on the city limit."),
    Column("weight", "Share of households in Chicago", "Share of the ZIP code's households counted in Chicago, as "
           "a fraction from 0 to 1.", "households of the ZIP's block-group pieces in the city ÷ the ZIP's ACS "
           "households (ZCTA), at most 1", kind="share"),
]
"""The columns of ``zip_crosswalk_summary``."""


@_once
def zip_crosswalk_summary(data) -> pd.DataFrame:
    """The ZIP codes carried to the city in part (on the city limit), with their share of households in
    the city, smallest first: ``zip, weight`` (``ZIP_CROSSWALK_COLUMNS``)."""
    xwalk = data.acp_zip_crosswalks()
    city_rows = xwalk[(xwalk["geography"] == "city") & (xwalk["method"] == "households")]
    return city_rows[["zip", "weight"]].sort_values("weight", ignore_index=True)


@_once
def areas_per_zip(data) -> pd.DataFrame:
    """Per geography: ZIP codes carried, and ZIP codes split between two or more areas."""
    xwalk = data.acp_zip_crosswalks()
    counts = xwalk[xwalk["geography"].isin(AREA_GEOGRAPHIES)].groupby(["geography", "zip"])["target"].nunique()
    summary = counts.groupby("geography").agg(zips="size", split_zips=lambda n: int((n > 1).sum()))
    return summary.reset_index()


def names(data, geography_name: str) -> pd.Series:
    """Readable names of every area with ACP figures, indexed by area id: community areas by name, wards
    by number."""
    labels = area_names(data, geography_name)
    if geography_name == "community_area":
        return labels.sort_values(key=lambda names: names.str.lower())
    return labels.iloc[exports.area_order(pd.Series(labels.index)).argsort(kind="stable").to_numpy()]


# ---- the Progress page -------------------------------------------------------------------------------------

def split_milestones(milestones: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A milestones table (``target_files.MILESTONE_COLUMNS``) split into program data and illustrative example
    rows (``targets.is_illustrative``), in that order; the real series of ``releases`` stand beside the first."""
    if milestones.empty:
        return milestones, milestones
    illustrative = targets.is_illustrative(milestones["source"].astype(str))
    return milestones[~illustrative], milestones[illustrative]
