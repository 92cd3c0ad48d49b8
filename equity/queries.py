"""What a page (or the command line) asks of the loaded data, each answered in one place.

Functions here take the loaded data (``loaded.DashboardData``) and give back
what a page shows: one measure's rows for a geography and period, the city
row, the crosswalk of a period, an area's brief, rankings, where the gap
is, an extract for a choice of areas, measures and periods. Pages format
and draw what they get; they do not filter, merge or group the tables.

Questions marked ``@_once`` are answered once per loaded build and the
answer kept on it, shared by every reader: each caller gets a shallow copy,
so under pandas' copy-on-write a caller changing its copy never changes
what the next caller reads.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import pandas as pd

from . import change, compare, estimates, exports, geography, libraries, metrics, target_files, targets
from .columns import Column, table
from .errors import EquityError

COMBINABLE_GEOGRAPHIES = ("community_area", "ward", "tract")
FORMATS = ("csv", "geojson", "dictionary")
MAX_NAMES_IN_CUSTOM_LABEL = 4


def _fresh(answer):
    if isinstance(answer, (pd.DataFrame, pd.Series)):
        return answer.copy(deep=False)
    if isinstance(answer, tuple):
        return tuple(_fresh(part) for part in answer)
    if isinstance(answer, dict):
        return {key: _fresh(part) for key, part in answer.items()}
    return answer


def _once(question):
    """Answer ``question(data, *args)`` once per loaded build (``args`` must be hashable)."""
    @functools.wraps(question)
    def answer(data, *args):
        key = (question.__name__, *args)
        answers = data.answers
        if key not in answers:
            answers[key] = question(data, *args)
        return _fresh(answers[key])
    return answer


# ---- rows of the metric table -----------------------------------------------------------------

@_once
def metric_rows(data, geography_name: str, metric_key: str, year: int) -> pd.DataFrame:
    """One measure's rows for every area of a geography in one ACS period, indexed by area id."""
    table = data.metrics
    rows = table[(table["geography"] == geography_name) & (table["metric"] == metric_key) & (table["year"] == year)]
    return rows.set_index("area_id", drop=False)


@_once
def period_rows(data, geography_name: str, year: int) -> pd.DataFrame:
    """Every measure's rows for every area of a geography in one ACS period."""
    table = data.metrics
    return table[(table["geography"] == geography_name) & (table["year"] == year)]


@_once
def city_rows(data, year: int) -> pd.DataFrame:
    """The City of Chicago's row of every measure in one ACS period, indexed by measure.

    The city total is always this row (its MOE from the tracts), never a sum
    of the community areas' or wards' figures.
    """
    return period_rows(data, "city", year).set_index("metric")


def city_row(data, metric_key: str, year: int) -> pd.Series:
    """The City of Chicago's row of one measure in one ACS period."""
    return city_rows(data, year).loc[metric_key]


@_once
def crosswalk(data, geography_name: str, year: int) -> pd.DataFrame:
    """The crosswalk (``tract, target, weight``) carrying tracts to ``geography_name`` for an ACS period,
    on the tract vintage the period is published on (``geography.tract_vintage``)."""
    table = data.crosswalks
    return table[(table["geography"] == geography_name) & (table["vintage"] == geography.tract_vintage(year))]


# ---- one area ------------------------------------------------------------------------------

@_once
def area_figures(data, geography_name: str, area_id: str, year: int) -> pd.DataFrame:
    """Every measure for one area beside the city's share, and whether the area's share differs from it.

    Indexed by measure: the area's metric columns, then ``city_share``,
    ``city_share_moe`` and ``comparison`` (``compare.compare_with_city``;
    "no estimate" for a measure without a share).
    """
    area = period_rows(data, geography_name, year)
    area = area[area["area_id"] == area_id].set_index("metric")
    city = city_rows(data, year).reindex(area.index)
    comparison = compare.compare_with_city(area["share"], area["share_moe"], city["share"],
                                           city["share_moe"])["comparison"]
    return area.assign(city_share=city["share"], city_share_moe=city["share_moe"],
                       comparison=comparison.where(city["share"].notna(), compare.NO_ESTIMATE))


@_once
def tracts_in(data, geography_name: str, area_id: str, year: int, metric_key: str) -> pd.DataFrame:
    """The tracts a crosswalk carries into an area: ``tract``, ``weight`` (the share of the tract's
    households in the area), then the tract's own rows for one measure."""
    carried = crosswalk(data, geography_name, year)
    carried = carried[carried["target"] == area_id]
    tracts = metric_rows(data, "tract", metric_key, year).reindex(carried["tract"])
    return tracts.drop(columns="area_id").reset_index(drop=True).assign(
        tract=carried["tract"].to_numpy(), weight=carried["weight"].to_numpy())


@_once
def community_areas_in_ward(data, ward: str, year: int, metric_key: str) -> pd.DataFrame:
    """Community areas a ward overlaps, most of the ward's households first: ``share_of_ward``,
    ``households`` (the ward's households living there), then the community area's rows for one measure."""
    overlap = data.ward_community_areas[data.ward_community_areas["ward"] == ward]
    overlap = overlap.sort_values("share_of_ward", ascending=False)
    areas = metric_rows(data, "community_area", metric_key, year).reindex(overlap["community_area"])
    return areas.reset_index(drop=True).assign(share_of_ward=overlap["share_of_ward"].to_numpy(),
                                               households=overlap["households"].to_numpy())


@_once
def areas_containing_tract(data, tract: str, year: int) -> pd.DataFrame:
    """The community area(s) and ward(s) a tract's households are counted in: ``geography``,
    ``area_name``, ``weight`` (the share of the tract's households)."""
    rows = pd.concat([crosswalk(data, name, year) for name in ("community_area", "ward")])
    rows = rows[rows["tract"] == tract]
    names = {name: area_names(data, name) for name in ("community_area", "ward")}
    return pd.DataFrame({
        "geography": rows["geography"].to_numpy(),
        "area_name": [names[g].get(t, t) for g, t in zip(rows["geography"], rows["target"])],
        "weight": rows["weight"].to_numpy(),
    })


@_once
def area_brief(data, geography_name: str, area_id: str, year: int, metric_key: str) -> dict:
    """One area's figures for one measure, for a brief: ``row`` (the area's), ``city`` (the city row),
    its ``rank``, ``rank_best`` and ``rank_worst`` among the ``areas`` of its kind, and ``comparison``
    with the city; ranked and compared on the measure's ``Metric.compared_on``."""
    ranked = ranking(data, geography_name, metric_key, year, metrics.METRICS[metric_key].compared_on)
    row = ranked[ranked["area_id"] == area_id].iloc[0]
    return {"row": row, "city": city_row(data, metric_key, year), "rank": row["rank"], "rank_best": row["rank_best"],
            "rank_worst": row["rank_worst"], "areas": len(ranked), "comparison": row["comparison"]}


def boundary(data, geography_name: str, area_id: str):
    """One area's boundary, simplified for the browser (WGS84)."""
    shapes = data.boundaries(geography_name, web=True)
    return shapes[shapes["area_id"] == area_id]


# ---- many areas ------------------------------------------------------------------------------

@_once
def ranking(data, geography_name: str, metric_key: str, year: int, value: str) -> pd.DataFrame:
    """Every area of a geography ranked on one measure's ``value`` (share or count), with the range of
    ranks its margin of error allows and its comparison with the city row (``compare.ranking``)."""
    return compare.ranking(metric_rows(data, geography_name, metric_key, year).reset_index(drop=True),
                           city_row(data, metric_key, year), value=value)


@_once
def gap(data, geography_name: str, metric_key: str, year: int) -> tuple[pd.DataFrame, int, pd.Series]:
    """Where the gap is: the areas ranked by households counted with running totals
    (``compare.gap_concentration``), how many areas the geography has, and the city row (the total to quote)."""
    areas = len(metric_rows(data, geography_name, metric_key, year))
    return (compare.gap_concentration(data.metrics, geography_name, metric_key, year), areas,
            city_row(data, metric_key, year))


@_once
def sides(data, geography_name: str) -> pd.Series:
    """The side of the city of every community area or ward, indexed by area id (``compare.read_sides``;
    a ward is on the side where most of its households live). Raises ``ValidationError`` when the
    project's sides file is bad."""
    community_areas = compare.read_sides()
    if geography_name == "community_area":
        return community_areas.set_index("community_area")["side"]
    return compare.ward_sides(data.ward_community_areas, community_areas).set_index("ward")["side"]


def chosen_areas(data, geography_name: str, year: int, names: Sequence[str] = (), sides_chosen: Sequence[str] = (),
                 wards: Sequence[str] = (), threshold: tuple[str, float, float] | None = None) -> list[str]:
    """The areas of a geography that pass every filter given, in area order.

    ``names``: only these areas; ``sides_chosen``: areas on these sides;
    ``wards``: community areas sharing households with these wards;
    ``threshold``: ``(metric, lowest, highest)``, areas whose share of that
    measure lies in the range (``compare.within_range``: a missing share
    never passes).
    """
    ids = pd.Index(sorted(area_names(data, geography_name).index, key=_number))
    keep = pd.Series(True, index=ids)
    if names:
        keep &= ids.isin(list(names))
    if sides_chosen:
        side_of = sides(data, geography_name)
        keep &= ids.map(lambda a: side_of.get(a) in sides_chosen).astype(bool)
    if wards:
        keep &= ids.isin(compare.community_areas_in_wards(data.ward_community_areas, wards))
    if threshold is not None:
        metric_key, lowest, highest = threshold
        shares = metric_rows(data, geography_name, metric_key, year)["share"].reindex(ids)
        keep &= compare.within_range(shares, lowest, highest).to_numpy()
    return list(ids[keep.to_numpy()])


SORTS = ("highest", "lowest", "name", "number")


def _number(area_id: str) -> int:
    return int(area_id) if area_id.isdigit() else 0


def ranked_areas(data, geography_name: str, metric_key: str, year: int, value: str, area_ids: Sequence[str],
                 sort: str = "highest") -> pd.DataFrame:
    """The ``ranking`` rows of the areas given, each with its ``side`` of the city ("" when the sides
    file cannot be read), in the order asked (``SORTS``): highest or lowest value first (ties by area
    id, missing values last), by name, or by number."""
    ranked = ranking(data, geography_name, metric_key, year, value)
    ranked = ranked[ranked["area_id"].isin(list(area_ids))]
    try:
        side_of = sides(data, geography_name)
    except EquityError:
        side_of = pd.Series(dtype=object)
    ranked = ranked.assign(side=ranked["area_id"].map(side_of).fillna(""), _number=ranked["area_id"].map(_number))
    by, ascending = {"highest": (["value", "area_id"], [False, True]), "lowest": (["value", "area_id"], [True, True]),
                     "name": (["area_name"], [True]), "number": (["_number"], [True])}[sort]
    return ranked.sort_values(by, ascending=ascending, na_position="last").drop(columns="_number")


def compared_areas(data, geography_name: str, year: int, area_ids: Sequence[str]) -> pd.DataFrame:
    """Every measure for the chosen areas, each later area tested against the first
    (``compare.compare_with_first``)."""
    return compare.compare_with_first(period_rows(data, geography_name, year), list(area_ids))


def pairwise(data, geography_name: str, year: int, metric_key: str, area_ids: Sequence[str]) -> pd.DataFrame:
    """Every pair of the chosen areas tested on one measure's share (``compare.pairwise_comparison``)."""
    picked = metric_rows(data, geography_name, metric_key, year).loc[list(area_ids)]
    return compare.pairwise_comparison(picked["area_name"], picked["share"], picked["share_moe"])


@_once
def tract_labels(data, year: int) -> pd.Series:
    """"Census tract 101 (Rogers Park)" for every tract of the period's vintage, by GEOID."""
    return compare.tract_labels(crosswalk(data, "community_area", year), area_names(data, "community_area"))


@_once
def custom_area(data, geography_name: str, area_ids: tuple[str, ...], year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A custom area made of ``area_ids`` (``compare.combine_areas``): its metric rows, and its table
    beside the city's share (``compare.custom_area_table``)."""
    rows = compare.combine_areas(data.tract_estimates(), data.crosswalks, geography_name, list(area_ids), year)
    return rows, compare.custom_area_table(rows, period_rows(data, "city", year))


def context_rows(data, geography_name: str, year: int, metric_key: str,
                 area_ids: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """For the areas given (in that order): their rows of one measure, and their context figures
    (income, poverty, age; ``metrics.compute_context``)."""
    points = metric_rows(data, geography_name, metric_key, year).reindex(list(area_ids))
    context = data.context[data.context["geography"] == geography_name].set_index("area_id").reindex(list(area_ids))
    return points, context


# ---- libraries ----------------------------------------------------------------------------------

@_once
def session_history(data) -> tuple[pd.DataFrame, pd.DataFrame, list[int]]:
    """Each branch's public computer sessions per calendar year, the same with the change from the year
    before (``libraries.year_over_year``), and the years every branch reported in full."""
    annual = libraries.annual_sessions(data.library_table("sessions"))
    return annual, libraries.year_over_year(annual), libraries.full_years(annual)


@_once
def branch_sessions(data, year: int) -> pd.Series:
    """Sessions of every branch of the City's list in one calendar year, in the list's order."""
    annual = session_history(data)[0]
    branches = data.library_table("branches")
    return branches["branch_key"].map(annual[annual["year"] == year].set_index("branch_key")["sessions"])


def branch_history(data, branch_key: str) -> pd.DataFrame:
    """One branch's sessions year by year, with the change from the year before."""
    changes = session_history(data)[1]
    return changes[changes["branch_key"] == branch_key].sort_values("year")


@_once
def access(data, geography_name: str, year: int) -> pd.DataFrame:
    """Each community area's or ward's access to a branch beside its unconnected households
    (``libraries.area_access``) in one ACS period, indexed by area id."""
    table = data.library_table("access")
    return table[(table["geography"] == geography_name) & (table["year"] == year)].set_index("area_id")


def access_gaps(data, geography_name: str, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The flagged areas (many unconnected households, no branch close by), most unconnected first;
    and the areas with no branch nearby."""
    rows = access(data, geography_name, year)
    return (rows[rows["access_gap"]].sort_values("unconnected", ascending=False), rows[rows["branches_near"] == 0])


@_once
def branch_surroundings(data, branch_key: str, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tracts around one branch (``libraries.surrounding_tracts``) and their unconnected households
    summed (``libraries.surrounding_need``) for one ACS period."""
    need = data.library_table("surrounding_need")
    pairs = data.library_table("surrounding_tracts")
    return (need[(need["branch_key"] == branch_key) & (need["year"] == year)],
            pairs[pairs["branch_key"] == branch_key])


# ---- extracts ------------------------------------------------------------------------------

@_once
def area_names(data, geography_name: str) -> pd.Series:
    """Readable name of every area of a geography, indexed by area id."""
    rows = data.metrics[data.metrics["geography"] == geography_name].drop_duplicates("area_id")
    return rows.set_index("area_id")["area_name"]


def custom_area_name(data, geography_name: str, area_ids: list[str]) -> tuple[str, str]:
    """Name and membership of a custom area: ("Rogers Park + West Ridge", "Community areas 1, 2")."""
    labels = area_names(data, geography_name)
    ordered = sorted(area_ids, key=lambda a: (len(a), a) if a.isdigit() else (0, a))
    names = [labels.get(a, a) for a in ordered]
    kind = geography.GEOGRAPHY_LABELS[geography_name].lower()
    if len(names) <= MAX_NAMES_IN_CUSTOM_LABEL:
        name = " + ".join(names)
    else:
        name = (f"{len(names)} {kind}s combined: " + ", ".join(names[:MAX_NAMES_IN_CUSTOM_LABEL])
                + f" and {len(names) - MAX_NAMES_IN_CUSTOM_LABEL} more")
    plural = kind[0].upper() + kind[1:] + ("s" if len(ordered) > 1 else "")
    return name, f"{plural} {', '.join(ordered)}"


def _check_choice(data, geography_name: str, years: list[int], metric_keys: list[str]) -> None:
    if geography_name not in geography.GEOGRAPHIES:
        raise ValueError(f"unknown geography '{geography_name}'; choose one of {', '.join(geography.GEOGRAPHIES)}")
    absent = [y for y in years if y not in data.years]
    if absent:
        raise ValueError(f"ACS year {', '.join(map(str, absent))} is not loaded; loaded years: "
                         f"{', '.join(map(str, data.years))}. Add one with `python -m equity fetch --year {absent[0]}`.")
    unknown = [k for k in metric_keys if k not in metrics.METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {', '.join(unknown)}; choose from {', '.join(metrics.METRICS)}")


def build_extract(data, geography_name: str, years: list[int] | None = None, metric_keys: list[str] | None = None,
                  combine: list[str] | None = None) -> pd.DataFrame:
    """The readable extract for a choice: geography, ACS years and measures (all when None).

    ``combine`` lists area ids of ``geography_name`` to merge into one custom
    area (``compare.combine_areas``: recomputed from its tracts, MOEs
    included); otherwise every area of the geography
    is included. Rows are ordered by area, period, then measure. Raises
    ValueError naming what is wrong with the choice.
    """
    years = sorted({int(y) for y in years}) if years else [data.latest_year]
    metric_keys = list(metric_keys) if metric_keys else list(metrics.METRICS)
    _check_choice(data, geography_name, years, metric_keys)
    if combine is not None:
        if geography_name not in COMBINABLE_GEOGRAPHIES:
            raise ValueError(f"areas can be combined from community areas, wards or tracts, not '{geography_name}'")
        area_ids = list(dict.fromkeys(str(a).strip() for a in combine if str(a).strip()))
        if not area_ids:
            raise ValueError("choose at least one area to combine")
        known = set(area_names(data, geography_name).index)
        unknown = [a for a in area_ids if a not in known]
        if unknown:
            raise ValueError(f"unknown {geography.GEOGRAPHY_LABELS[geography_name].lower()} id(s) "
                             f"{', '.join(unknown[:5])}")
        name, members = custom_area_name(data, geography_name, area_ids)
        tract_table = data.tract_estimates()
        rows = pd.concat([compare.combine_areas(tract_table, data.crosswalks, geography_name, area_ids, year, name)
                          for year in years], ignore_index=True)
        rows["members"] = members
        rows = rows[rows["metric"].isin(metric_keys)]
        return exports.extract(exports.in_extract_order(rows), geography.CUSTOM_GEOGRAPHY)
    rows = data.metrics[(data.metrics["geography"] == geography_name) & data.metrics["year"].isin(years)
                        & data.metrics["metric"].isin(metric_keys)]
    return exports.extract(exports.in_extract_order(rows), geography_name)


def export_bytes(data, geography_name: str, years: list[int] | None = None, metric_keys: list[str] | None = None,
                 fmt: str = "csv", combine: list[str] | None = None) -> bytes:
    """An extract as file bytes: ``csv``, ``geojson`` or its ``dictionary`` (CSV); the app and CLI both call this."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose {', '.join(FORMATS)}")
    table = build_extract(data, geography_name, years, metric_keys, combine)
    if fmt == "dictionary":
        columns = exports.extract_columns(geography.CUSTOM_GEOGRAPHY if combine is not None else geography_name)
        return exports.to_csv_bytes(exports.data_dictionary(table, columns))
    if fmt == "geojson":
        if combine is not None or geography_name not in exports.GEOJSON_GEOGRAPHIES:
            raise ValueError("GeoJSON is available for community areas, wards and tracts, not for the city "
                             "or a custom area")
        return exports.to_geojson(table, data.boundaries(geography_name, web=True), geography_name).encode("utf-8")
    return exports.to_csv_bytes(table)


# ---- figures for the methodology note ----------------------------------------------------

@_once
def crosswalk_summary(data) -> pd.DataFrame:
    """Per geography and tract vintage: tracts carried, and tracts split between two or more areas.

    Returns ``geography, vintage, tracts, split_tracts``.
    """
    per_tract = data.crosswalks.groupby(["geography", "vintage", "tract"])["target"].nunique()
    summary = per_tract.groupby(["geography", "vintage"]).agg(tracts="size", split_tracts=lambda n: int((n > 1).sum()))
    return summary.reset_index()


@_once
def reliability_summary(data, metric_key: str, year: int) -> pd.DataFrame:
    """How many areas of each geography get each reliability label for one measure's share.

    Returns one row per geography (``geography.GEOGRAPHIES`` order) and one
    column per label, reliable first.
    """
    rows = data.metrics[(data.metrics["metric"] == metric_key) & (data.metrics["year"] == year)]
    counts = pd.crosstab(rows["geography"], rows["share_reliability"])
    return counts.reindex(index=[g for g in geography.GEOGRAPHIES if g in counts.index],
                          columns=list(estimates.RELIABILITY_LABELS), fill_value=0)


# ---- the explorer ------------------------------------------------------------------------------

def context_table(points: pd.DataFrame, context: pd.DataFrame, geography_name: str,
                  metric_key: str) -> tuple[pd.DataFrame, list[Column]]:
    """One measure beside income, poverty and age for the areas shown, and the table's columns.

    ``points`` are the areas' metric rows for the measure and ``context``
    their context rows, both indexed by area id in the order shown. The
    measure is shown as a share, or as households when it has no share.
    """
    field = metrics.METRICS[metric_key].compared_on
    name = (geography.COMMUNITY_AREA if geography_name == "community_area"
            else dataclasses.replace(geography.WARD, key="area_name", kind=""))  # its name, "Ward 7", is text
    estimate, moe = metrics.measure_columns(metric_key, field)
    shown = [c for c in metrics.CONTEXT_COLUMNS if c.key != "population"]
    columns = [name, estimate, moe, *shown]
    values = {"area_name": points["area_name"], estimate.key: points[field], moe.key: points[f"{field}_moe"],
              **{c.key: context[c.key] for c in shown}}
    return table(values, columns).reset_index(drop=True), columns


# ---- change between periods ----------------------------------------------------------------------

CHANGE_SORTS = ("improved", "worsened", "name", "number")


def earlier_years(data) -> list[int]:
    """The loaded periods a change can be measured from: every one but the latest (none with one period)."""
    return data.years[:-1]


def _later(data, later: int | None) -> int:
    return data.latest_year if later is None else int(later)


@_once
def changes(data, earlier: int, later: int) -> pd.DataFrame:
    """Change from ``earlier`` to ``later`` for every area and measure (``change.between``), with the ward
    coverage the build's manifest records."""
    return change.between(data.metrics, earlier, later, data.manifest.get("coverage", {}))


@_once
def change_rows(data, geography_name: str, metric_key: str, earlier: int, later: int) -> pd.DataFrame:
    """One measure's change for every area of a geography, indexed by area id."""
    rows = changes(data, earlier, later)
    rows = rows[(rows["geography"] == geography_name) & (rows["metric"] == metric_key)]
    return rows.set_index("area_id", drop=False)


def city_change(data, metric_key: str, earlier: int, later: int) -> pd.Series:
    """The City of Chicago's change of one measure (its row of ``changes``)."""
    return change_rows(data, "city", metric_key, earlier, later).iloc[0]


def verdict_counts(data, geography_name: str, metric_key: str, earlier: int, later: int,
                   area_ids: Sequence[str] | None = None) -> pd.Series:
    """How many areas of a geography (of ``area_ids`` when given) improved significantly, worsened
    significantly, or cannot tell."""
    rows = change_rows(data, geography_name, metric_key, earlier, later)
    if area_ids is not None:
        rows = rows[rows["area_id"].isin(list(area_ids))]
    return rows["verdict"].value_counts().reindex(list(change.VERDICTS), fill_value=0)


def coverage_note(data, geography_name: str, metric_key: str, earlier: int, later: int) -> str:
    """The note of a comparison resting on partial ward coverage (``change.between``), or "" when it does not."""
    rows = change_rows(data, geography_name, metric_key, earlier, later)
    partial = rows.loc[rows["partial_coverage"], "note"]
    return partial.iloc[0] if len(partial) else ""


def ranked_changes(data, geography_name: str, metric_key: str, earlier: int, later: int,
                   area_ids: Sequence[str] | None = None, verdicts: Sequence[str] = (),
                   sort: str = "improved") -> pd.DataFrame:
    """The change rows of the areas given (all when None) whose verdict is among ``verdicts`` (all when
    empty), in the order asked (``CHANGE_SORTS``): most improved or most worsened first (by the change in
    the measure's good direction; missing changes last), by name, or by number; with ``improvement``
    (that signed change) and ``low`` / ``high``, the ends of the change's 90% interval."""
    rows = change_rows(data, geography_name, metric_key, earlier, later)
    if area_ids is not None:
        rows = rows[rows["area_id"].isin(list(area_ids))]
    if verdicts:
        rows = rows[rows["verdict"].isin(list(verdicts))]
    direction = 1.0 if metrics.METRICS[metric_key].higher_is_better else -1.0
    low, high = estimates.confidence_interval(rows["change"], rows["change_moe"], floor=None)
    rows = rows.assign(improvement=rows["change"] * direction, low=low, high=high,
                       _number=rows["area_id"].map(_number))
    by, ascending = {"improved": (["improvement", "_number"], [False, True]),
                     "worsened": (["improvement", "_number"], [True, True]),
                     "name": (["area_name"], [True]), "number": (["_number"], [True])}[sort]
    return rows.sort_values(by, ascending=ascending, na_position="last").drop(columns="_number")


def change_extract(data, geography_name: str, earlier: int, later: int | None = None,
                   metric_keys: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[Column]]:
    """The change table a reader downloads (``change.change_table``) for a geography, two loaded periods and
    measures (all when None), and its columns. Raises ValueError naming what is wrong with the choice."""
    later = _later(data, later)
    metric_keys = list(metric_keys) if metric_keys else list(metrics.METRICS)
    _check_choice(data, geography_name, [int(earlier), later], metric_keys)
    if not int(earlier) < later:
        raise ValueError(f"--change-from {earlier} must end before the later period ({later}); loaded years: "
                         f"{', '.join(map(str, data.years))}")
    rows = changes(data, int(earlier), later)
    rows = rows[(rows["geography"] == geography_name) & rows["metric"].isin(metric_keys)]
    return change.change_table(rows, geography_name)


def change_bytes(data, geography_name: str, earlier: int, later: int | None = None,
                 metric_keys: Sequence[str] | None = None, fmt: str = "csv") -> bytes:
    """The change table as file bytes: ``csv``, ``geojson`` or its ``dictionary`` (CSV), for the command line."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format '{fmt}'; choose {', '.join(FORMATS)}")
    changed, columns = change_extract(data, geography_name, earlier, later, metric_keys)
    if fmt == "dictionary":
        return exports.to_csv_bytes(exports.data_dictionary(changed, columns))
    if fmt == "geojson":
        if geography_name not in exports.GEOJSON_GEOGRAPHIES:
            raise ValueError("GeoJSON is available for community areas, wards and tracts, not for the city")
        return exports.to_geojson(changed, data.boundaries(geography_name, web=True), geography_name).encode("utf-8")
    return exports.to_csv_bytes(changed)


@_once
def trend(data, geography_name: str, area_id: str, metric_key: str) -> pd.DataFrame:
    """An area's and the city's share of one measure in every loaded period, with 90% intervals
    (``change.trend``)."""
    rows = data.metrics[data.metrics["metric"] == metric_key]
    area = rows[(rows["geography"] == geography_name) & (rows["area_id"] == area_id)].sort_values("year")
    city = rows[rows["geography"] == "city"].sort_values("year")
    return change.trend(area, city)


def _targets_version() -> int:
    """Changes when the project's targets file is edited, so an edited file is read again."""
    try:
        return target_files.TARGETS_FILE.stat().st_mtime_ns
    except OSError:
        return -1


@_once
def _project_targets(data, version: int) -> pd.DataFrame:
    return target_files.load_targets(known_areas(data))


@_once
def known_areas(data) -> dict[str, set[str]]:
    """The area ids of each geography in the build, against which targets files are checked."""
    return target_files.known_areas(data.metrics)


def project_targets(data) -> pd.DataFrame:
    """The project's targets file, validated against the loaded areas (``target_files.load_targets``: raises
    ``ValidationError`` naming each problem when it is bad)."""
    return _project_targets(data, _targets_version())


def _ordered(rows: pd.DataFrame) -> pd.DataFrame:
    return (rows.assign(_number=rows["area_id"].map(_number)).sort_values(["city_target", "_number"])
            .drop(columns="_number").reset_index(drop=True))


@_once
def _area_progress(data, geography_name: str, version: int) -> pd.DataFrame:
    return _ordered(change.area_progress(_project_targets(data, version), data.metrics, geography_name))


def area_progress(data, geography_name: str, city_targets: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every community area's or ward's status against its part of each citywide target
    (``change.area_progress``), in target then area order; of the project's targets unless
    ``city_targets`` (e.g. a reader's upload) are given."""
    if city_targets is None:
        return _area_progress(data, geography_name, _targets_version())
    return _ordered(change.area_progress(city_targets, data.metrics, geography_name))


def area_target_rows(data, geography_name: str, area_id: str) -> pd.DataFrame:
    """One area's rows of ``area_progress``: its part of each of the project's citywide targets."""
    rows = area_progress(data, geography_name)
    return rows[rows["area_id"] == area_id]


@_once
def _project_progress(data, version: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = targets.progress(_project_targets(data, version), data.metrics)
    return table, targets.headline(table)


def project_progress(data) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The project's targets measured against every loaded period (``targets.progress``), and their
    headline rows (``targets.headline``); raises ``ValidationError`` when the targets file is bad."""
    return _project_progress(data, _targets_version())


def city_target_labels(data, city_targets: pd.DataFrame | None = None) -> dict[int, str]:
    """Each citywide target in words, by its row number (from 1) in the targets table."""
    chosen = (project_targets(data) if city_targets is None else city_targets).reset_index(drop=True)
    chosen = chosen[chosen["geography"] == "city"]
    labels = targets.target_label(chosen, {("city", geography.CITY_ID): geography.CITY_NAME})
    return {int(number) + 1: label for number, label in labels.items()}


def area_progress_table(data, geography_name: str, city_targets: pd.DataFrame | None = None,
                        city_target: int | None = None) -> tuple[pd.DataFrame, list[Column]]:
    """``area_progress`` (of one citywide target when ``city_target`` is given) as the table a reader
    downloads, and its columns."""
    rows = area_progress(data, geography_name, city_targets)
    if city_target is not None:
        rows = rows[rows["city_target"] == city_target]
    return change.area_progress_table(rows, geography_name, city_target_labels(data, city_targets))


def area_status_counts(data, geography_name: str, city_target: int,
                       city_targets: pd.DataFrame | None = None) -> pd.Series:
    """How many areas are on track, behind, or cannot tell yet against their part of one citywide target."""
    rows = area_progress(data, geography_name, city_targets)
    statuses = [targets.ON_TRACK, targets.BEHIND, targets.CANNOT_TELL]
    return rows.loc[rows["city_target"] == city_target, "status"].value_counts().reindex(statuses, fill_value=0)


def citywide_target(data, city_target: int, city_targets: pd.DataFrame | None = None) -> pd.Series:
    """One row of the targets table (by its row number, from 1)."""
    chosen = project_targets(data) if city_targets is None else city_targets
    return chosen.reset_index(drop=True).iloc[city_target - 1]


@_once
def gap_closed(data, geography_name: str, metric_key: str, earlier: int, later: int) -> pd.DataFrame:
    """Where the gap closed: the areas ranked by the part of the citywide change in households they account
    for (``change.gap_closed``)."""
    return change.gap_closed(change_rows(data, geography_name, metric_key, earlier, later).reset_index(drop=True),
                             city_change(data, metric_key, earlier, later))
