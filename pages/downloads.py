"""Downloads: pick areas, measures and ACS periods, preview the table, take it away with its MOEs.

Everything written out comes from ``equity.exports`` (the same code as
``python -m equity export``); this page only gathers the choice and shows it.
"""

import streamlit as st

from equity import exports, geography, metrics, queries
from equity.errors import EquityError
from dashboard import acp_sections, common, tables

AREA_CHOICES = {"city": "City of Chicago", "community_area": "Community areas", "ward": "Wards (2023 map)",
                "tract": "Census tracts", exports.CUSTOM: "Custom area (combine several)"}
COMBINE_CHOICES = {"community_area": "Community areas", "ward": "Wards", "tract": "Census tracts"}
FILE_NAMES = {"city": "city", "community_area": "community-areas", "ward": "wards", "tract": "tracts",
              exports.CUSTOM: "custom-area"}

data = common.load_or_stop()


@st.cache_data(show_spinner="Preparing the table…", max_entries=32)
def extract_table(build: str, geography_name: str, years: tuple, metric_keys: tuple, combine: tuple | None):
    """The extract for a choice; ``build`` (the cache folder) makes a rebuilt cache a new entry."""
    return queries.build_extract(common.dashboard_data(), geography_name, list(years), list(metric_keys),
                                 list(combine) if combine is not None else None)


def area_label(geography_name: str):
    """How an area is named in the picker: "Rogers Park (1)", "Ward 7", "Census tract 101 (Rogers Park)"."""
    names = queries.area_names(data, geography_name)
    if geography_name == "community_area":
        return lambda area_id: f"{names.get(area_id, area_id)} ({area_id})"
    if geography_name == "tract":
        labels = queries.tract_labels(data, data.latest_year)
        return lambda area_id: f"{labels.get(area_id, names.get(area_id, area_id))} · {area_id}"
    return lambda area_id: names.get(area_id, area_id)


st.title("Downloads")
st.caption("Choose the areas, measures and ACS periods, check the preview, then download the table with its "
           "margins of error, a data dictionary explaining every column, and a note on where the numbers come "
           "from. See the Methodology page for how the figures are made.")
acp_sections.downloads_section(data)

left, right = st.columns([2, 3])
with left:
    url_geo = common.url_choice("geo", AREA_CHOICES, "community_area")
    geo = st.radio("Areas", list(AREA_CHOICES), index=list(AREA_CHOICES).index(url_geo),
                   format_func=AREA_CHOICES.get, key="downloads-geo")
    combine = None
    base = geo
    if geo == exports.CUSTOM:
        url_base = common.url_choice("of", COMBINE_CHOICES, "community_area")
        base = st.radio("Combine which kind of area?", list(COMBINE_CHOICES),
                        index=list(COMBINE_CHOICES).index(url_base), format_func=COMBINE_CHOICES.get,
                        horizontal=True, key="downloads-of")
        options = sorted(queries.area_names(data, base).index, key=lambda a: (len(a), a))
        linked = common.url_list("areas", options) if base == url_base else []
        combine = st.multiselect(f"{COMBINE_CHOICES[base]} to combine into one area", options,
                                 default=linked, format_func=area_label(base),
                                 key=f"downloads-areas-{base}",
                                 help="Figures and margins of error are recomputed for the combined area "
                                      "from its census tracts, not added up from the separate areas' rounded "
                                      "figures.")
with right:
    metric_keys = st.multiselect("Measures", list(metrics.METRICS),
                                 default=common.url_list("metrics", list(metrics.METRICS), list(metrics.METRICS)),
                                 format_func=common.metric_label, key="downloads-metrics")
    year_options = [str(y) for y in data.years]
    years = st.multiselect("ACS periods", year_options,
                           default=common.url_list("years", year_options, [str(data.latest_year)]),
                           format_func=lambda y: common.period(int(y)), key="downloads-years",
                           help="Each period pools five years of survey answers; neighbouring periods share "
                                "years, so compare them with care (see Methodology).")

common.set_url(geo=geo, of=base if combine is not None else None, areas=combine or None,
               metrics=metric_keys, years=years)

missing = [what for what, chosen in [("at least one measure", metric_keys), ("at least one ACS period", years),
                                     ("the areas to combine", combine if combine is not None else [True])]
           if not chosen]
if missing:
    st.info(f"Choose {' and '.join(missing)} to see the table and its downloads.", icon="👈")
    st.stop()

try:
    table = extract_table(str(data.folder), base, tuple(int(y) for y in years), tuple(metric_keys),
                          tuple(combine) if combine is not None else None)
except (ValueError, EquityError) as exc:
    st.error(f"This table cannot be made: {exc}")
    st.stop()

areas = 1 if geo in ("city", exports.CUSTOM) else table.iloc[:, 0].nunique()
area_word = {"city": "city", exports.CUSTOM: "custom area"}.get(geo, geography.GEOGRAPHY_LABELS.get(geo, "").lower())
st.subheader("Preview")
st.caption(f"{len(table):,} rows: {areas:,} {area_word}{'s' if areas != 1 else ''} × {len(metric_keys)} "
           f"measure{'s' if len(metric_keys) != 1 else ''} × {len(years)} ACS period{'s' if len(years) != 1 else ''}, "
           "one row per area, measure and period. Shares are shown as percentages here and written as "
           "fractions (0.154 = 15.4%) in the file.")
table_columns = exports.extract_columns(exports.CUSTOM if combine is not None else base)
st.dataframe(table, hide_index=True, key="downloads-preview", column_config=tables.column_config(table_columns))

st.subheader("Download")
year_part = "-".join(sorted(years))
stem = f"chicago-{FILE_NAMES[geo]}-{year_part}"
geojson = None
if combine is None and geo in exports.GEOJSON_GEOGRAPHIES:
    def geojson() -> str:
        return exports.to_geojson(table, data.boundaries(geo), geo)
common.download_extract(table, table_columns, stem, key="downloads", label="Table (CSV)",
                        choice=exports.describe_choice(base, [int(y) for y in years], metric_keys, combine),
                        geojson=geojson)
notes = ["CSV files are UTF-8 with a byte-order mark: Excel opens them directly; in pandas use "
         "`encoding='utf-8-sig'`."]
if geojson is None:
    notes.append("A map layer (GeoJSON) is offered for community areas, wards and tracts; the city and a "
                 "custom area are single areas.")
elif len(metric_keys) * len(years) > 1:
    notes.append("The map layer has one shape per row: with several measures or periods each area's shape "
                 "repeats. Choose one measure and one period for a layer ready to colour in GIS software.")
st.caption(" ".join(notes))
st.markdown("Same table from the command line:")
st.code(exports.command_line(base, [int(y) for y in years], metric_keys, combine), language="bash", wrap_lines=True)

# ---- the change between two periods ---------------------------------------------------------------------

if combine is None and len(years) >= 2:
    earlier, later = min(int(y) for y in years), max(int(y) for y in years)
    st.subheader("Change between two periods")
    st.caption(f"For each area and measure: {common.period(earlier)} and {common.period(later)}, the difference "
               "with its 90% margin of error (adjusted for the years the periods share), and whether the survey "
               "can tell it from no change. The data dictionary explains every column.")
    try:
        changed, change_columns = queries.change_extract(data, base, earlier, later, metric_keys)
    except ValueError as exc:
        st.error(f"The change table cannot be made: {exc}")
    else:
        common.download_extract(changed, change_columns, f"chicago-{FILE_NAMES[geo]}-change-{earlier}-{later}",
                                key="downloads-change", label="Change table (CSV)",
                                choice=f"change from {common.period(earlier)} to {common.period(later)}")
        st.code(exports.command_line(base, [later], metric_keys) + f" --change-from {earlier}", language="bash",
                wrap_lines=True)
elif combine is None and len(data.years) >= 2:
    st.caption("Choose two ACS periods to download the change between them, with its margin of error.")
