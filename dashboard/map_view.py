"""Shared pydeck drawing for the map pages: decks with no basemap, cached choropleth layers, the legend,
and the tables describing one area (its figures and what it contains).

Nothing here computes an estimate: classes, colours, comparisons and the compact GeoJSON come from
``equity.maps``; numbers are formatted with ``dashboard.common``.
"""

from __future__ import annotations

import html

import pandas as pd
import pydeck as pdk
import streamlit as st

from dashboard import common, streamlit_internals
from dashboard.streamlit_internals import CompactDeck
from equity import compare, estimates, maps, metrics, queries

GEOGRAPHIES = {"community_area": "Community areas", "ward": "Wards", "tract": "Census tracts"}
GEOGRAPHY_SINGULAR = {"community_area": "community area", "ward": "ward", "tract": "census tract"}

AREA_LAYER = "areas"
SELECTED_COLOUR = [214, 39, 40]
MARKER_RADIUS_PIXELS = {"community_area": 4.5, "ward": 4.5, "tract": 3}
OUTLINE_COLOUR = [255, 255, 255]
OUTLINE_PIXELS = 0.6
MARKER_FILL = [255, 255, 255]
MARKER_RING_COLOUR = [20, 20, 20]
MARKER_RING_PIXELS = 1.5


@st.cache_resource(show_spinner=False, max_entries=64)
def _deck_json(same_deck_as: tuple, _deck: CompactDeck) -> str:
    return _deck.to_json()


#: The closest a reader can zoom: a city block is then about 100 pixels across (there is no street map
#: under the areas to read closer up), and a ``dot_features`` dot is still round.
MAX_ZOOM = 15


def deck(layers: list[pdk.Layer], view: dict, tooltip: dict | None = None,
         same_deck_as: tuple | None = None) -> CompactDeck:
    """A deck with no basemap (works offline, requests no tiles) and the given view, zoomable to ``MAX_ZOOM``.

    ``map_provider=None`` with pydeck's default ``map_style`` sends Streamlit the "no basemap" marker;
    passing ``map_style=None`` instead would make Streamlit fetch its default Carto style.

    ``same_deck_as``, when given, names everything the layers, view and tooltip depend on (the build and
    the reader's choices): the deck's JSON (about 500 KiB for tracts, which took a third of the page's
    time to write) is then written once per distinct key and shared by every reader.
    """
    made = CompactDeck(layers=layers, initial_view_state=pdk.ViewState(**view, max_zoom=MAX_ZOOM),
                       map_provider=None, tooltip=tooltip or False)
    if same_deck_as is None:
        return made
    return streamlit_internals.prepared(made, _deck_json(same_deck_as, made))


def area_layer(features: dict, layer_id: str = AREA_LAYER, pickable: bool = True) -> pdk.Layer:
    """Filled polygons coloured by each feature's ``fill`` property, with thin white borders; features
    marked ``marker`` (the unreliable-estimate rings of ``with_drawn_over``) get a dark ring instead, and the
    lines of ``outline_features`` and the dots of ``dot_features`` their own colour and width.

    Lines have round ends and joints, which is what draws a ``dot_features`` dot as a disc. pydeck reads
    bare strings as expressions, so the unit name is quoted.
    """
    return pdk.Layer("GeoJsonLayer", data=features, id=layer_id, get_fill_color="properties.fill",
                     get_line_color=f"properties.line || (properties.marker ? {MARKER_RING_COLOUR} : {OUTLINE_COLOUR})",
                     get_line_width=f"properties.line_pixels || (properties.marker ? {MARKER_RING_PIXELS} : "
                                    f"{OUTLINE_PIXELS})",
                     line_width_units="'pixels'", line_cap_rounded=True, line_joint_rounded=True,
                     stroked=True, filled=True, pickable=pickable, auto_highlight=pickable)


def with_drawn_over(features: dict, drawn_over: list[dict]) -> dict:
    """The areas with features drawn over them (the unreliable-estimate rings, ``outline_features``,
    ``dot_features``), in one collection: one layer."""
    return {**features, "features": features["features"] + drawn_over}


def picked_outline(view: dict, area_id: str) -> list[dict]:
    """The red outline of the area a reader picked (none when ``area_id`` is empty), to draw over ``view``."""
    return outline_features(features_of(view, [area_id]), SELECTED_COLOUR, 3) if area_id else []


def outline_features(features: dict, colour: list[int], width_pixels: float) -> list[dict]:
    """Each feature's boundary as lines of ``colour`` and ``width_pixels``, to draw over the areas in the
    area layer itself (``with_drawn_over``, then ``area_layer``) rather than in a layer of their own: in
    headless chromium a second layer held the ward brief's first paint back by 0.37 s (issue 17). The
    lines keep their feature's properties, so hovering one shows its figures."""
    def rings(geometry: dict) -> list:
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
        return [ring for polygon in polygons for ring in polygon]

    return [{"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": rings(feature["geometry"])},
             "properties": {**feature["properties"], "line": colour, "line_pixels": width_pixels}}
            for feature in features["features"]]


#: A dot of ``dot_features`` is a line this long (degrees of longitude: about 2.5 m in Chicago), so that its
#: round ends make a disc. deck.gl draws nothing for a line shorter than a few steps of 32-bit floating
#: point (it projects longitudes in radians at that precision below zoom 12): 1e-6 lost most dots at the
#: city's zoom. At ``MAX_ZOOM`` the line is under 1.5 pixels long, so a dot is still round.
DOT_LENGTH_DEGREES = 3e-5


def dot_features(dots: list[dict], colour: list[int], rim_colour: list[int] = OUTLINE_COLOUR,
                 rim_pixels: float = 1) -> list[dict]:
    """A disc of the same size on screen at every zoom at each of ``dots`` (``position`` [longitude,
    latitude], ``radius`` in pixels, ``properties`` for its tooltip), with a rim of ``rim_colour``, to draw
    over the areas in the area layer (``with_drawn_over``).

    Each disc is a very short line ``2 × radius`` pixels wide, whose round ends (``area_layer``) close it
    into a circle, over a line ``rim_pixels`` wider for the rim: what a ScatterplotLayer with pixel units
    draws, with the line shaders the area layer compiles anyway. A ScatterplotLayer of its own held the
    Libraries page's first paint back by about 0.13 s in headless chromium (issue 17).
    """
    def line(position: list[float]) -> dict:
        longitude, latitude = position
        return {"type": "LineString",
                "coordinates": [[longitude, latitude], [longitude + DOT_LENGTH_DEGREES, latitude]]}

    return [{"type": "Feature", "geometry": line(dot["position"]),
             "properties": {**dot["properties"], "line": line_colour, "line_pixels": width, "dot": 1}}
            for dot in dots
            for line_colour, width in ((rim_colour, 2 * dot["radius"] + 2 * rim_pixels), (colour, 2 * dot["radius"]))]


def marker_features(features: dict, points: list[dict], radius_metres: float) -> list[dict]:
    """A white ring at each point, carrying its area's properties (so hovering or clicking the ring
    shows or picks the area)."""
    properties = {f["properties"]["id"]: f["properties"] for f in features["features"]}
    return [{"type": "Feature", "geometry": ring,
             "properties": {**properties[area_id], "fill": MARKER_FILL, "marker": 1}}
            for area_id, ring in maps.marker_rings(points, radius_metres).items() if area_id in properties]


def marker_html(radius_pixels: float) -> str:
    """The unreliable-estimate marker as it looks on the map (white dot, dark ring), for legends."""
    size = 2 * radius_pixels
    return (f'<span aria-hidden="true" style="display:inline-block;width:{size}px;height:{size}px;'
            'border-radius:50%;background:white;border:1.5px solid #141414;vertical-align:middle"></span>')


def tooltip(metric_key: str, mode: str, extra: str = "") -> dict:
    """Tooltip template: area name, count ± MOE, share ± MOE, reliability of the shown measure in words,
    then ``extra`` (a template line of the caller's, e.g. ``{in_ward}``)."""
    label = html.escape(metrics.METRICS[metric_key].label)
    measure = "share" if mode == "share" else "number"
    tail = f"<br/>{extra}" if extra else ""
    return {"html": f"<b>{{name}}</b><br/>{label}: {{count}}<br/>Share of households: {{share}}"
                    f"<br/>Reliability of the {measure}: {{reliability}}{tail}",
            "style": {"backgroundColor": "white", "color": "#1a1a1a", "fontSize": "13px",
                      "border": "1px solid #999", "maxWidth": "320px"}}


def describe_view(metric_key: str, mode: str, geography_name: str, year: int) -> str:
    """'Households without a computer (share of all households) by ward, 2017–2021 ACS 5-year'."""
    what = "share of all households" if mode == "share" else "number of households"
    return (f"{metrics.METRICS[metric_key].label} ({what}) by {GEOGRAPHY_SINGULAR[geography_name]}, "
            f"{common.period(year)}")


# ---- cached layer data ---------------------------------------------------------------------------------
# ``st.cache_resource`` rather than ``st.cache_data``: cache_data hands every run a fresh unpickled copy, and
# for the tract layer (about 500 KiB of GeoJSON) that copy cost more than the rest of the page and held other
# readers up (bench/load_sessions.py). These objects are shared by every session, so nothing may change them:
# callers build new dicts (``features_of``, ``with_drawn_over``, ``library_layer.with_details``), and
# tests/test_map_pages.py checks that drawing the map pages leaves them as computed.

@st.cache_resource(show_spinner=False, max_entries=8)
def geometries(build: str, geography_name: str) -> dict[str, dict]:
    """Rounded GeoJSON geometry of every area of a geography (``build`` keys the cache to the data)."""
    return maps.compact_geometries(common.dashboard_data().boundaries(geography_name, web=True))


@st.cache_resource(show_spinner=False, max_entries=8)
def markers_for(build: str, geography_name: str, area_ids: tuple[str, ...]) -> list[dict]:
    return maps.marker_points(common.dashboard_data().boundaries(geography_name, web=True), area_ids)


@st.cache_resource(show_spinner=False, max_entries=64)
def choropleth(build: str, geography_name: str, metric_key: str, mode: str, year: int, scheme: str) -> dict:
    """Everything the map draws for one view: the features, the unreliable markers (as points, for
    ``unreliable_ids``, and as rings for ``with_drawn_over``), the legend, the view."""
    data = common.dashboard_data()
    rows = queries.metric_rows(data, geography_name, metric_key, year)
    present = maps.has_estimate(rows, mode)
    classes = maps.classify(rows.loc[present, mode], scheme)
    numbers = classes.assign(rows[mode].where(present)) if classes else pd.Series(-1, index=rows.index)
    higher_is_darker = maps.darker_means_higher(metric_key, mode)
    colours = maps.class_colours(classes.count if classes else 1, higher_is_darker)
    properties = pd.DataFrame({
        "name": rows["area_name"],
        "fill": maps.fill_colours(numbers, colours),
        "count": rows.apply(common.count_with_moe, axis=1),
        "share": rows.apply(common.share_with_moe, axis=1),
        "reliability": maps.reliability_in_words(rows[f"{mode}_reliability"]).where(present, "No estimate"),
    }, index=rows.index)
    features = maps.feature_collection(geometries(build, geography_name), properties)
    unreliable = rows.index[maps.is_unreliable(rows, mode) & present]
    markers = markers_for(build, geography_name, tuple(unreliable))
    view_state = maps.view_of(data.boundaries(geography_name, web=True))
    radius = MARKER_RADIUS_PIXELS[geography_name] * maps.metres_per_pixel(view_state["zoom"], view_state["latitude"])
    rings = marker_features(features, markers, radius)
    formatter = common.format_share if mode == "share" else common.format_count
    return {"features": features, "markers": markers, "marker_features": rings,
            "legend": legend_classes(classes, numbers, colours, formatter),
            "higher_is_darker": higher_is_darker, "no_estimate": int((~present).sum()),
            "unreliable": len(unreliable), "areas": len(rows), "view": view_state}


def legend_classes(classes: maps.Classes | None, numbers: pd.Series, colours: list, formatter) -> list[dict]:
    """One legend row per colour class: its colour, its range written by ``formatter``, and how many areas
    fall in it (``numbers``: each area's class, from ``classes.assign``)."""
    if not classes:
        return []
    counts = pd.Series(numbers).value_counts()
    return [{"colour": maps.hex_colour(colours[number]), "label": f"{formatter(low)} to {formatter(high)}",
             "areas": int(counts.get(number, 0))} for number, (low, high) in enumerate(classes.ranges())]


def features_of(view: dict, area_ids, extra: dict[str, dict] | None = None,
                geometries: dict[str, dict] | None = None) -> dict:
    """The features of ``view`` for some areas only, each given the properties in ``extra[area_id]`` and,
    when ``geometries`` are given, drawn with those instead (e.g. tracts clipped to a ward)."""
    wanted = set(area_ids)
    extra = extra or {}
    geometries = geometries or {}
    return {"type": "FeatureCollection",
            "features": [{**feature, "geometry": geometries.get(area_id, feature["geometry"]),
                          "properties": {**feature["properties"], **extra.get(area_id, {})}}
                         for feature in view["features"]["features"]
                         if (area_id := feature["properties"]["id"]) in wanted]}


def unreliable_ids(view: dict) -> set[str]:
    return {point["id"] for point in view["markers"]}


@st.cache_resource(show_spinner=False, max_entries=16)
def clipped(build: str, geography_name: str, area_ids: tuple[str, ...], clip_geography: str, clip_id: str):
    """The listed areas' shapes cut to one area of another geography (e.g. a ward's tracts to the ward)."""
    data = common.dashboard_data()
    shapes = data.boundaries(geography_name, web=True)
    outline = data.boundaries(clip_geography, web=True).set_index("area_id").geometry[clip_id]
    return maps.clip_to(shapes[shapes["area_id"].isin(set(area_ids))], outline)


# ---- legend --------------------------------------------------------------------------------------------

def _swatch(colour: str) -> str:
    return (f'<span style="display:inline-block;width:18px;height:14px;background:{colour};'
            f'border:1px solid #888;vertical-align:middle;margin-right:6px"></span>')


# deck.gl's focusable element has no outline of its own: without this, a keyboard user who tabs onto the
# map (where the arrow and +/- keys pan and zoom it) cannot see that it has focus (WCAG 2.4.7).
MAP_FOCUS_STYLE = ("<style>[data-testid='stDeckGlJsonChart'] .deck-events-root:focus-visible "
                   "{ outline: 3px solid #1f5fa8 !important; outline-offset: -3px; }</style>")


def legend(view: dict, metric_key: str, mode: str, geography_name: str, scheme: str, counts: bool = True) -> None:
    """The legend beside the map: classes low to high, grey for no estimate, the unreliable marker.

    ``counts=False`` leaves out how many areas fall in each class (for a map showing only some of them).
    Every map has this legend, so it also carries ``MAP_FOCUS_STYLE``.
    """
    metric = metrics.METRICS[metric_key]
    what = "share" if mode == "share" else "number"
    if view["higher_is_darker"]:
        direction = f"Darker = higher {what}"
    else:
        direction = f"Darker = lower {what}, i.e. more households without it"
    plural = GEOGRAPHIES[geography_name].lower()
    rows = [f"<div><b>{html.escape(metric.label)}</b></div>",
            f"<div>{html.escape('Share of all households' if mode == 'share' else 'Number of households')}</div>",
            f"<div style='margin:2px 0 6px;font-size:0.9em'>{html.escape(direction)}. "
            f"{html.escape(maps.CLASSIFICATIONS[scheme])}.</div>"]
    entries = view["legend"] if view["higher_is_darker"] else view["legend"][::-1]
    for entry in entries:
        tally = f" <span style='color:#555'>({entry['areas']} {plural})</span>" if counts else ""
        rows.append(f"<div>{_swatch(entry['colour'])}{html.escape(entry['label'])}{tally}</div>")
    if view["no_estimate"]:
        tally = f" <span style='color:#555'>({view['no_estimate']})</span>" if counts else ""
        rows.append(f"<div>{_swatch(maps.hex_colour(maps.NO_ESTIMATE_COLOUR))}No estimate: no households{tally}</div>")
    tally = f" <span style='color:#555'>({view['unreliable']} of {view['areas']})</span>" if counts else ""
    rows.append(f"<div style='margin-top:6px'><span style='margin:0 10px 0 4px'>{marker_html(MARKER_RADIUS_PIXELS[geography_name])}</span>"
                f"Unreliable {what} ({estimates.CV_RANGES[estimates.UNRELIABLE]}): read with care{tally}</div>")
    st.html(f"{MAP_FOCUS_STYLE}<div class='equity-legend' style='font-size:14px;line-height:1.7'>{''.join(rows)}</div>")


# ---- one area's figures and parts ------------------------------------------------------------------------

def area_figures(data, geography_name: str, area_id: str, year: int) -> pd.DataFrame:
    """Every metric for one area, count and share with MOEs, and how its share compares with the city
    (``queries.area_figures``), in words."""
    area = queries.area_figures(data, geography_name, area_id, year)
    city = area[["city_share", "city_share_moe"]].set_axis(["share", "share_moe"], axis=1)
    return pd.DataFrame({
        "Measure": [metrics.METRICS[k].label for k in area.index],
        "Households": area.apply(common.count_with_moe, axis=1),
        "Share of households": area.apply(common.share_with_moe, axis=1),
        "City share": city.apply(common.share_with_moe, axis=1),
        "Share compared with the city": area["comparison"].map(COMPARISON_WORDS),
        "Reliability of the share": area["share_reliability"].where(area["share"].notna(), "—"),
    }).reset_index(drop=True)


def tracts_in(data, target_geography: str, area_id: str, year: int, metric_key: str) -> pd.DataFrame:
    """Tracts carried into an area by its crosswalk (``queries.tracts_in``), with the share of each
    tract's households in it and the tract's own figures for one metric, in tract order."""
    tracts = queries.tracts_in(data, target_geography, area_id, year, metric_key)
    return pd.DataFrame({
        "Tract": tracts["tract"].map(queries.area_names(data, "tract")),
        "GEOID": tracts["tract"],
        "Households in this area": tracts["weight"],
        "Households": tracts.apply(common.count_with_moe, axis=1),
        "Share": tracts.apply(common.share_with_moe, axis=1),
        "Reliability of the share": tracts["share_reliability"],
    }).sort_values("Tract").reset_index(drop=True)


def community_areas_in_ward(data, ward: str, year: int, metric_key: str) -> pd.DataFrame:
    """Community areas a ward overlaps (``queries.community_areas_in_ward``), the share of the ward's
    households in each, and each community area's own share of one metric."""
    areas = queries.community_areas_in_ward(data, ward, year, metric_key)
    return pd.DataFrame({
        "Community area": areas["area_name"],
        "Share of the ward's households": areas["share_of_ward"],
        "Ward households living there": areas["households"],
        "Community area share": areas.apply(common.share_with_moe, axis=1),
    })


def areas_containing_tract(data, tract: str, year: int) -> pd.DataFrame:
    """The community area(s) and ward(s) a tract's households belong to, with the share in each."""
    areas = queries.areas_containing_tract(data, tract, year)
    return pd.DataFrame({
        "Geography": areas["geography"].map(GEOGRAPHY_SINGULAR).str.capitalize(),
        "Area": areas["area_name"],
        "Share of the tract's households": areas["weight"],
    })


COMPARISON_WORDS = {compare.HIGHER_THAN_CITY: "significantly higher than the city",
                    compare.LOWER_THAN_CITY: "significantly lower than the city",
                    compare.NOT_DIFFERENT: "not significantly different from the city",
                    compare.NO_ESTIMATE: "—"}

PERCENT = st.column_config.NumberColumn(format="percent")
HOUSEHOLDS = st.column_config.NumberColumn(format="localized")
