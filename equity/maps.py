"""Choropleth classes and colours, compact map layers, and ranks in words.

What the map and ward pages need, with no Streamlit:

- ``classify`` / ``Classes``: five classes by quantiles or natural breaks
  (Fisher–Jenks), from mapclassify; ``Classes.assign`` puts any values into
  the same classes (the ward page colours a ward's tracts with the city's
  tract classes).
- ``class_colours``: ColorBrewer's YlGnBu, a sequential palette that stays
  readable with the common forms of colour blindness; darker always means
  more need (see ``darker_means_higher``).
- ``has_estimate`` / ``is_unreliable``: areas drawn grey, and areas marked
  with a symbol because their CV is over 30%.
- ``compact_geometries`` / ``feature_collection`` / ``marker_points`` /
  ``marker_rings``: the GeoJSON the browser receives, with coordinates
  rounded to 5 decimals (about 1 m) and only the properties the colour and
  tooltip need; ``clip_to`` cuts areas to another area (a ward's tracts).
- ``symbol_radius``: the radius of a proportional symbol, its area carrying
  the quantity (a library branch's circle sized by its sessions).
- ``describe_rank``: a rank and its range (from ``compare.rank_ranges``) in words.

Comparisons with the city and rank ranges are ``equity.compare``'s.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely

from . import estimates, geography, metrics
from .columns import Column

CLASS_COUNT = 5

CLASSIFICATIONS = {
    "quantiles": "Quantiles (equal numbers of areas per class)",
    "natural_breaks": "Natural breaks (Fisher–Jenks)",
}

MODES = {"share": "Share of households", "count": "Number of households"}


def table_columns(mode: str) -> list[Column]:
    """The figures of the table beside a map (and of its download), after the area's own columns: the
    households with their MOE, the share with its MOE, then the CV and reliability of what the map
    shows (``mode``: the share or the number)."""
    shown = ([metrics.SHARE_CV, metrics.SHARE_RELIABILITY] if mode == "share"
             else [metrics.COUNT_CV, metrics.COUNT_RELIABILITY])
    return [metrics.COUNT, metrics.COUNT_MOE, metrics.SHARE, metrics.SHARE_MOE, *shown]

PALETTE = ((255, 255, 204), (161, 218, 180), (65, 182, 196), (44, 127, 184), (37, 52, 148))
"""ColorBrewer YlGnBu, 5 classes, light to dark (Brewer & Harrower, colorbrewer2.org: colour-blind safe,
print friendly)."""

NO_ESTIMATE_COLOUR = (189, 189, 189)
"""Neutral grey for areas with no households or no published estimate; not on the YlGnBu ramp."""

COORDINATE_DECIMALS = 5


# ---- classes and colours ------------------------------------------------------------------------

@dataclass(frozen=True)
class Classes:
    """Class breaks: ``bins`` are the upper bounds of each class, ascending; ``minimum`` the lowest value."""

    scheme: str
    minimum: float
    bins: tuple[float, ...]

    @property
    def count(self) -> int:
        return len(self.bins)

    def assign(self, values) -> np.ndarray:
        """Class number (0 = lowest) of each value, as mapclassify does (a value equal to a bound is in
        the class below it); values past the top bound go in the top class; missing values get -1."""
        array = np.asarray(values, dtype=float)
        out = np.searchsorted(np.asarray(self.bins), array, side="left").clip(max=self.count - 1)
        return np.where(np.isnan(array), -1, out)

    def ranges(self) -> list[tuple[float, float]]:
        """(lower, upper) value range of each class, for the legend."""
        lowers = (self.minimum, *self.bins[:-1])
        return list(zip(lowers, self.bins))


def classify(values, scheme: str, k: int = CLASS_COUNT) -> Classes | None:
    """Classes for ``values`` (missing values ignored) by ``scheme``; None when nothing is left to classify.

    ``quantiles``: mapclassify.Quantiles, equal numbers of areas per class.
    ``natural_breaks``: mapclassify.FisherJenks, Fisher's (1958) exact optimal grouping that
    minimises within-class variance (Jenks natural breaks, computed exactly rather than by
    iteration, so the same data always give the same breaks). With fewer distinct values than
    ``k`` there are as many classes as distinct values.
    """
    if scheme not in CLASSIFICATIONS:
        raise ValueError(f"unknown classification {scheme!r}; expected one of {', '.join(CLASSIFICATIONS)}")
    array = np.asarray(values, dtype=float)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return None
    k = min(k, np.unique(array).size)
    if k < 2:
        return Classes(scheme, float(array.min()), (float(array.max()),))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Numba not installed", "not enough unique values"
        classifier = (mapclassify.Quantiles(array, k=k) if scheme == "quantiles"
                      else mapclassify.FisherJenks(array, k=k))
    return Classes(scheme, float(array.min()), tuple(float(b) for b in classifier.bins))


def darker_means_higher(metric_key: str, mode: str) -> bool:
    """Whether the darker colours go to the higher values.

    Darker means more need: for a share of a good thing (broadband) the darker colours go to
    the lower shares. Counts always darken with size, since fewer households with broadband
    mostly means fewer households, not more need.
    """
    return not (mode == "share" and metrics.METRICS[metric_key].higher_is_better)


def class_colours(class_count: int, higher_is_darker: bool = True) -> list[tuple[int, int, int]]:
    """One RGB colour per class, lowest value first, spread over the YlGnBu ramp."""
    positions = np.linspace(0, len(PALETTE) - 1, class_count).round().astype(int) if class_count > 1 else [len(PALETTE) - 1]
    colours = [PALETTE[p] for p in positions]
    return colours if higher_is_darker else colours[::-1]


def fill_colours(class_numbers, colours: list[tuple[int, int, int]]) -> list[list[int]]:
    """RGB of each area from its class number (-1, no estimate, is grey)."""
    return [list(colours[c]) if c >= 0 else list(NO_ESTIMATE_COLOUR) for c in np.asarray(class_numbers)]


def hex_colour(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


# ---- estimates shown on the map -------------------------------------------------------------------

def has_estimate(rows: pd.DataFrame, mode: str) -> pd.Series:
    """Whether an area has a value to colour: the measure is published and the area has households.

    An area with no households (a park, the airport) has a count of 0 and no share; it is drawn
    grey as "no estimate" rather than in the lowest class.
    """
    households = rows["universe"].fillna(rows["count"])
    return rows[mode].notna() & (households > 0)


def is_unreliable(rows: pd.DataFrame, mode: str) -> pd.Series:
    """Whether the shown measure (count or share) has a CV over 30% (``estimates.reliability``)."""
    return rows[f"{mode}_reliability"] == estimates.UNRELIABLE


RELIABILITY_WORDS = {**{label: f"{label.capitalize()} ({cv})" for label, cv in estimates.CV_RANGES.items()},
                     estimates.NO_ESTIMATE: "No CV (no estimate, or an estimate of zero)"}


def reliability_in_words(labels: pd.Series) -> pd.Series:
    """Plain-language reliability for tooltips, from ``estimates.reliability``'s labels."""
    return labels.map(RELIABILITY_WORDS).fillna("")


# ---- compact layers for the browser ----------------------------------------------------------------

def compact_geometries(boundaries: gpd.GeoDataFrame, decimals: int = COORDINATE_DECIMALS) -> dict[str, dict]:
    """GeoJSON geometry of each area (by ``area_id``) with coordinates rounded to ``decimals``."""
    rounded = shapely.transform(boundaries.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    return {area_id: json.loads(shapely.to_geojson(geometry))
            for area_id, geometry in zip(boundaries["area_id"], rounded)}


def feature_collection(geometries: dict[str, dict], properties: pd.DataFrame) -> dict:
    """A GeoJSON FeatureCollection of the areas in ``properties`` (indexed by area_id) that have a
    geometry; each feature carries the row's columns as its properties plus ``id``."""
    records = properties.to_dict(orient="index")
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "geometry": geometries[area_id],
                          "properties": {"id": area_id, **_plain(values)}}
                         for area_id, values in records.items() if area_id in geometries]}


def marker_points(boundaries: gpd.GeoDataFrame, area_ids, decimals: int = COORDINATE_DECIMALS) -> list[dict]:
    """A point inside each listed area (shapely's representative point, always within the polygon)."""
    chosen = boundaries[boundaries["area_id"].isin(set(area_ids))]
    points = chosen.geometry.representative_point()
    return [{"id": area_id, "position": [round(p.x, decimals), round(p.y, decimals)]}
            for area_id, p in zip(chosen["area_id"], points)]


EARTH_CIRCUMFERENCE_METRES = 40_075_016.686
METRES_PER_DEGREE_LATITUDE = 111_320.0


def metres_per_pixel(zoom: float, latitude: float) -> float:
    """Ground size of one screen pixel in deck.gl's Web Mercator (512-pixel world at zoom 0)."""
    return EARTH_CIRCUMFERENCE_METRES * np.cos(np.radians(latitude)) / (512 * 2 ** zoom)


def marker_rings(points: list[dict], radius_metres: float, sides: int = 8, decimals: int = 4) -> dict[str, dict]:
    """A small regular polygon (a near-circle) of ``radius_metres`` around each point of
    ``marker_points``, as GeoJSON geometry by area_id.

    Drawn in the same GeoJSON layer as the areas, the markers need no second deck.gl layer (each
    layer type costs the browser a shader compilation, about 0.2 s without a GPU). Degrees per metre
    use a spherical Earth; at marker size the error is far below a pixel, and 4 decimals (about
    10 m) are plenty for a ring a few hundred metres across.
    """
    angles = np.linspace(0, 2 * np.pi, sides + 1)
    rings = {}
    for point in points:
        longitude, latitude = point["position"]
        dlat = radius_metres / METRES_PER_DEGREE_LATITUDE
        dlon = dlat / np.cos(np.radians(latitude))
        ring = np.column_stack([longitude + dlon * np.cos(angles), latitude + dlat * np.sin(angles)]).round(decimals)
        ring[-1] = ring[0]
        rings[point["id"]] = {"type": "Polygon", "coordinates": [ring.tolist()]}
    return rings


def symbol_radius(sessions: pd.Series, largest: float = 14.0, smallest: float = 3.0) -> pd.Series:
    """Map radius (in the caller's unit, e.g. pixels) of each branch's circle, its AREA proportional
    to its sessions.

    Method: radius = largest x sqrt(sessions / max sessions) (area, not radius,
    carries the quantity, as in proportional-symbol cartography), floored at
    ``smallest`` so a branch with few or no sessions stays visible and
    pickable. Missing sessions get the smallest radius.
    """
    values = pd.to_numeric(sessions, errors="coerce")
    top = values.max()
    if not np.isfinite(top) or top <= 0:
        return pd.Series(smallest, index=sessions.index, dtype=float)
    radius = largest * np.sqrt(values.clip(lower=0) / top)
    return radius.fillna(smallest).clip(lower=smallest)


def clip_to(boundaries: gpd.GeoDataFrame, shape, min_share: float = 0.02) -> gpd.GeoDataFrame:
    """The part of each area that lies inside ``shape`` (same CRS as ``boundaries``).

    Parts smaller than ``min_share`` of the area's own size are dropped: they are slivers where two
    simplified boundaries disagree, not real overlaps. Sizes are compared in EPSG:3435
    (``geography.LOCAL_CRS``); only polygons are kept from each intersection.
    """
    local = boundaries.to_crs(geography.LOCAL_CRS)
    local_shape = gpd.GeoSeries([shape], crs=boundaries.crs).to_crs(geography.LOCAL_CRS).iloc[0]
    pieces = gpd.GeoSeries([_polygons_only(g) for g in local.geometry.intersection(local_shape)],
                           index=local.index, crs=geography.LOCAL_CRS)
    keep = pieces.area >= min_share * local.geometry.area
    return gpd.GeoDataFrame(boundaries.loc[keep].drop(columns="geometry"),
                            geometry=pieces[keep].to_crs(boundaries.crs), crs=boundaries.crs)


def _polygons_only(shape):
    parts = [p for p in shapely.get_parts(shape) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def view_of(boundaries: gpd.GeoDataFrame, width_pixels: int = 620, height_pixels: int = 580) -> dict:
    """Centre and the zoom that fits the boundaries into a map of the given size.

    Web Mercator as deck.gl draws it: 512 pixels span 360 degrees of longitude at zoom 0, and a
    degree of latitude is 1 / cos(latitude) times longer than a degree of longitude.
    """
    west, south, east, north = boundaries.total_bounds
    middle = (south + north) / 2
    pixels_per_degree_at_zoom_0 = 512 / 360
    lon_zoom = np.log2(width_pixels / (max(east - west, 1e-6) * pixels_per_degree_at_zoom_0))
    lat_zoom = np.log2(height_pixels / (max(north - south, 1e-6) / np.cos(np.radians(middle))
                                        * pixels_per_degree_at_zoom_0))
    zoom = float(np.floor(np.clip(min(lon_zoom, lat_zoom), 1, 18) * 100) / 100)
    return {"longitude": float((west + east) / 2), "latitude": float(middle), "zoom": zoom}


def _plain(values: dict) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in values.items()}


# ---- ranks in words ----------------------------------------------------------------------------------

def ordinal(number: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    number = int(number)
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def describe_rank(rank: int, highest_rank: int, lowest_rank: int, total: int) -> str:
    """'12th highest of 50; given the margins of error, anywhere from 8th to 15th highest'."""
    head = f"{ordinal(rank)} highest of {total}"
    if highest_rank == lowest_rank:
        return f"{head}; the margins of error leave no doubt about this rank"
    return (f"{head}; given the margins of error, anywhere from {ordinal(highest_rank)} "
            f"to {ordinal(lowest_rank)} highest")
