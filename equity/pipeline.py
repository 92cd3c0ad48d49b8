"""The pure build: the raw snapshot (and any fetched ACS periods) in, the dashboard's tables out.

``make_tables`` reads the inputs and returns every table a build holds, by
name, with the facts its manifest records; it writes nothing. Storing the
tables (fingerprint, lock, atomic write) is ``cache``'s work.

Steps: read the ACS tract tables; read the boundaries; build the tract to
ward crosswalk from block-group households; carry every measure and the
context counts to community areas, wards, tracts and the city through
``geography.apportion``; measure them (``metrics``); add the library
tables; carry the ACP enrollment releases from ZIP codes to the city,
community areas and wards through the household ZIP crosswalks
(``acp``, ``zip_crosswalk``); simplify the boundaries for the browser.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from . import acp, geography, libraries, library_files, metrics, sources, zip_crosswalk

Progress = Callable[[str], None]

SNAPSHOT_INPUTS = [sources.SOCIAL_EXPLORER_FILE, geography.COMMUNITY_AREAS_FILE, geography.WARDS_FILE,
                   geography.TRACTS_FILE, geography.BLOCK_GROUPS_FILE, geography.BLOCK_GROUP_HOUSEHOLDS_FILE,
                   *geography.TRACT_CROSSWALK_FILES.values(), *library_files.SNAPSHOT_FILES]
"""The raw snapshot's files a build reads (relative to the snapshot folder), but for the ACP releases,
whose names carry their dates (``snapshot_inputs``)."""


def snapshot_inputs(snapshot: Path) -> list[Path]:
    """Every raw snapshot file a build reads, relative to the snapshot folder: ``SNAPSHOT_INPUTS``, the
    City's ZIP code boundaries and every ACP release file found (a new release makes a new build)."""
    releases = sorted((snapshot / acp.ACP_DIR).glob(acp.FILE_PATTERN))
    return [*SNAPSHOT_INPUTS, zip_crosswalk.ZIP_CODES_FILE, *(p.relative_to(snapshot) for p in releases)]

STEPS = 6


def _quiet(_: str) -> None:
    pass


def tract_tables(snapshot: Path, api_files: Sequence[Path]) -> tuple[pd.DataFrame, dict[int, dict]]:
    """The tidy tract table of every ACS period, and where each period came from (``origin``).

    The snapshot's period comes first; a fetched file (``census_api``) adds
    the periods the snapshot does not have.
    """
    tables = [sources.snapshot_tract_table(snapshot)]
    origin = {sources.SOCIAL_EXPLORER_YEAR: {"kind": "snapshot", "note": "raw snapshot"}}
    for path in sorted(api_files):
        fetched = pd.read_parquet(path)
        table = sources.tidy(fetched)
        table = table[~table["year"].isin(origin)]
        for year in table["year"].unique():
            origin[int(year)] = fetched.attrs.get("source") or _live_api_source(int(year))
        tables.append(table)
    return pd.concat(tables, ignore_index=True), origin


def _live_api_source(year: int) -> dict[str, str]:
    """``census_api.reply_source`` for the live API (imported here only when needed: the app never fetches)."""
    from .census_api import reply_source

    return reply_source(None, year)


def crosswalks_by_vintage(community_xwalk: dict[int, pd.DataFrame], ward_xwalk: pd.DataFrame,
                          tract_table: pd.DataFrame) -> tuple[dict, dict]:
    """Crosswalks per (tract vintage, geography), and notes on what 2010-tract years miss.

    Wards have a 2020-tract crosswalk only (no 2010 tract boundaries in the
    snapshot): for periods on 2010 tracts, tracts whose GEOID is unchanged
    keep their 2020 ward shares; the households of changed tracts are left
    out and the share left out is recorded in ``coverage``.
    """
    crosswalks, coverage = {}, {}
    for vintage, cca in community_xwalk.items():
        crosswalks[(vintage, "community_area")] = cca
        crosswalks[(vintage, "city")] = geography.city_crosswalk(cca)
        crosswalks[(vintage, "tract")] = geography.tract_crosswalk(cca)
    crosswalks[(2020, "ward")] = ward_xwalk
    kept = ward_xwalk[ward_xwalk["tract"].isin(set(community_xwalk[2010]["tract"]))]
    crosswalks[(2010, "ward")] = kept
    households = tract_table[tract_table["variable"] == metrics.HOUSEHOLDS_B28002]
    city_weights = crosswalks[(2010, "city")].set_index("tract")["weight"]
    for year in sorted(households["year"].unique()):
        if geography.tract_vintage(int(year)) == 2010:
            hh = households[households["year"] == year].set_index("tract")["estimate"]
            total = (city_weights * hh).sum()
            covered = (kept.groupby("tract")["weight"].sum() * hh).sum()
            coverage[str(year)] = {"ward_household_coverage": round(float(covered / total), 4) if total else None}
    return crosswalks, coverage


def area_context(context: pd.DataFrame, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """Context measures per area (``metrics.compute_context``) from the tracts' context counts.

    The counts (one column each, no MOEs) are carried through the crosswalk
    with ``geography.apportion``, like every ACS estimate.
    """
    counts = [c for c in context.columns if c != "tract"]
    tidy = context.melt(id_vars="tract", value_vars=counts, var_name="variable", value_name="estimate")
    carried = geography.apportion(tidy.assign(year=0, moe=0.0), crosswalk)
    summed = carried.pivot(index="target", columns="variable", values="estimate")[counts].reset_index()
    return metrics.compute_context(summed)


def make_tables(snapshot: Path, api_files: Sequence[Path] = (), progress: Progress = _quiet
                ) -> tuple[dict[str, pd.DataFrame], dict]:
    """Every table of a build, by name, and the facts for its manifest (``years``, ``ward_crosswalk``,
    ``coverage``).

    Tables: ``metrics`` (every measure for every area and period),
    ``context``, ``tract_estimates``, ``crosswalks``, ``ward_community_areas``,
    ``libraries_<name>`` (``libraries.dashboard_tables``) and, per geography,
    ``boundaries_<geography>`` and ``boundaries_<geography>_web``.
    """
    started = time.perf_counter()

    def step(number: int, message: str) -> None:
        progress(f"[{number}/{STEPS + 2}] {message} ({time.perf_counter() - started:.1f} s)")

    step(1, "reading ACS tract tables")
    tract_table, origin = tract_tables(snapshot, api_files)
    context = sources.snapshot_context_table(snapshot)

    step(2, "reading boundaries")
    areas = {"community_area": geography.read_community_areas(snapshot),
             "ward": geography.read_wards(snapshot)}
    community_xwalk = {v: geography.read_community_area_crosswalk(snapshot, v) for v in (2020, 2010)}
    areas["tract"] = geography.chicago_tracts(geography.read_tracts(snapshot), community_xwalk[2020])
    block_groups = geography.read_block_groups(snapshot)

    step(3, "building the tract to ward crosswalk from block-group households")
    ward_xwalk = geography.ward_crosswalk(block_groups, areas["ward"])
    overlap = geography.ward_community_area_overlap(block_groups, areas["ward"], areas["community_area"])

    step(4, "carrying estimates to community areas, wards and the city")
    crosswalks, coverage = crosswalks_by_vintage(community_xwalk, ward_xwalk, tract_table)
    names = {g: frame.set_index("area_id")["area_name"] for g, frame in areas.items()}
    names["city"] = pd.Series({geography.CITY_ID: geography.CITY_NAME})
    metric_frames, context_frames = [], []
    for year in sorted(tract_table["year"].unique()):
        vintage = geography.tract_vintage(int(year))
        year_table = tract_table[tract_table["year"] == year]
        for geo in geography.GEOGRAPHIES:
            xwalk = crosswalks[(vintage, geo)]
            geography.check_coverage(year_table, xwalk, f"{geography.GEOGRAPHY_LABELS[geo].lower()} ({vintage} tracts)")
            frame = metrics.compute_metrics(geography.apportion(year_table, xwalk))
            frame.insert(0, "geography", geo)
            metric_frames.append(frame)
    for geo in geography.GEOGRAPHIES:
        frame = area_context(context, crosswalks[(2020, geo)])
        frame.insert(0, "geography", geo)
        context_frames.append(frame)
    all_metrics = pd.concat(metric_frames, ignore_index=True)
    all_metrics["area_name"] = [names[g].get(a, a) for g, a in zip(all_metrics["geography"], all_metrics["area_id"])]
    all_metrics["period"] = all_metrics["year"].map(metrics.period_label)
    all_metrics["source"] = all_metrics["year"].map({year: source["kind"] for year, source in origin.items()})

    step(5, "library branches, sessions and access; boundaries for the browser")
    tables = {
        "metrics": all_metrics,
        "context": pd.concat(context_frames, ignore_index=True),
        "tract_estimates": tract_table,
        "crosswalks": pd.concat([frame.assign(vintage=v, geography=g) for (v, g), frame in crosswalks.items()],
                                ignore_index=True),
        "ward_community_areas": overlap,
    }
    for name, frame in libraries.dashboard_tables(snapshot, areas, block_groups, all_metrics).items():
        tables[f"libraries_{name}"] = frame
    for geo, frame in areas.items():
        tables[f"boundaries_{geo}"] = frame
        tables[f"boundaries_{geo}_web"] = geography.simplify_for_web(frame, geography.WEB_TOLERANCE_FEET[geo])
    step(6, "carrying ACP enrollment from ZIP codes to the city, community areas and wards")
    acp_table, acp_crosswalks, acp_facts = acp_tables(snapshot, block_groups, areas, names)
    tables["acp"] = acp_table
    tables["acp_zip_crosswalks"] = acp_crosswalks
    facts = {
        "years": {str(y): {"period": metrics.period_label(y), "source": origin[y]["kind"],
                           "source_note": origin[y]["note"], "tract_vintage": geography.tract_vintage(y)}
                  for y in sorted(origin)},
        "ward_crosswalk": {"method": "block-group households split by land-area share, EPSG:3435",
                           "tracts_household_weighted": int((ward_xwalk["method"] == "households").sum()),
                           "tracts_area_weighted": int((ward_xwalk["method"] == "area").sum())},
        "coverage": coverage,
        "acp": acp_facts,
    }
    return tables, facts


def acp_tables(snapshot: Path, block_groups, areas: dict, names: dict[str, pd.Series]
               ) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """ACP enrollment of every release by city, community area and ward (``acp.AREA_COLUMNS`` and
    ``area_name``), the ZIP crosswalks that carried it (``zip, target, weight, method, geography``), and
    the manifest's facts on them (releases, ZIP codes counted whole or in part)."""
    releases = acp.read_releases(snapshot)
    crosswalks = zip_crosswalk.zip_crosswalks(zip_crosswalk.read_zip_areas(snapshot), block_groups,
                                              areas["community_area"], areas["ward"], acp.zip_households(releases))
    table = acp.by_geography(releases, crosswalks)
    table["area_name"] = [names[g].get(a, a) for g, a in zip(table["geography"], table["area_id"])]
    city = crosswalks["city"]
    facts = {"releases": [str(d.date()) for d in sorted(releases["release"].unique())],
             "zips_whole": int((city["method"] == "whole").sum()),
             "zips_in_part": int((city["method"] == "households").sum()),
             "source": acp.SOURCE}
    return table, pd.concat([frame.assign(geography=g) for g, frame in crosswalks.items()], ignore_index=True), facts
