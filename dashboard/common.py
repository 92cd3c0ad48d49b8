"""Shared presentation helpers for the dashboard's pages (Streamlit only; no arithmetic).

- ``load_or_stop``: the cached dashboard data, or a clear error on the page.
- ``url_choice`` / ``url_list``: page state kept in ``st.query_params`` so a
  copied URL restores the view; a bad or hostile value falls back to the
  default with a visible notice naming the parameter.
- ``download_extract``: CSV download of exactly the table shown, with its data
  dictionary and provenance note, through ``equity.exports``.
- ``chart``: an Altair chart whose Vega-Lite spec is made once per distinct
  input and shared by every reader.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence

import pandas as pd
import streamlit as st

from dashboard import streamlit_internals
from equity import cache, exports, metrics
from equity.columns import Column
from equity.errors import EquityError
from equity.loaded import DashboardData

MAX_PARAM_LENGTH = 200


streamlit_internals.use_app_navigation()


@st.cache_resource(show_spinner="Loading ACS data (building the cache on first use)…")
def dashboard_data() -> DashboardData:
    """The loaded cache, built from the raw snapshot if missing or stale; shared by all sessions."""
    return cache.load()


def load_or_stop() -> DashboardData:
    """The dashboard data, or a clear error on the page (and nothing else drawn).

    Every page says so at the top when the build holds a synthetic ACS period
    (recorded test replies marked as made-up; ``exports.synthetic_periods``).

    When another process has made a newer build (``python -m equity update``,
    ``fetch`` or ``build``: the cache's ``CURRENT`` names it), or removed the
    one this server loaded, the shared copy is dropped and the current build
    loaded: running pages pick up a new ACS period on their next run, with no
    restart. Reading ``CURRENT`` is one small file per page run.
    """
    try:
        data = dashboard_data()
        current = cache.current_build(data.folder.parent.parent)
        if not (data.folder / "manifest.json").exists() or (current is not None and current != data.folder):
            dashboard_data.clear()
            data = dashboard_data()
    except EquityError as exc:
        st.error(f"The data could not be loaded: {exc}")
        st.stop()
    made_up = exports.synthetic_periods(data.manifest)
    if made_up:
        st.warning(f"**Test data loaded:** the {' and '.join(made_up)} figures are a synthetic stand-in made for "
                   "the test suite, not Census Bureau data. Do not quote them.", icon="🧪")
    return data


# ---- URL state -------------------------------------------------------------

def _shown(raw: str) -> str:
    """``raw`` as inline code the reader sees literally, whatever a link puts in it.

    Shortened to 40 characters; characters that are not printable (line breaks,
    NUL, right-to-left overrides) written as escapes such as ``\\n``; fenced by
    one backtick more than its longest run of backticks and padded with a space,
    so it stays one CommonMark code span and markdown or HTML in it is shown,
    never rendered.
    """
    short = raw if len(raw) <= 40 else raw[:40] + "…"
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in short)
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def _notice(name: str, raw: str, fallback: str) -> None:
    problem = "is empty" if raw == "" else f"{_shown(raw)} is not one this page knows"
    st.warning(f"The link's `{name}` value {problem}; showing {fallback} instead.", icon="⚠️")


def seed(key: str, value) -> None:
    """Start a widget at ``value`` (usually the link's, from ``url_choice``) the first time this session
    draws it. A page that draws its choices after its map (so the map loads first) reads them from
    ``st.session_state[key]`` before drawing them."""
    if key not in st.session_state:
        st.session_state[key] = value


def url_choice(name: str, options: Sequence[str] | Mapping[str, str], default: str) -> str:
    """The value of query parameter ``name`` if it is one of ``options``, else ``default`` with a notice.

    ``options`` may map values to labels (the notice then names the label). A
    repeated parameter (``?geo=ward&geo=tract``) takes its last value this page
    knows, with a notice.
    """
    given = st.query_params.get_all(name)
    if not given:
        return default
    known = [value for value in given if value in options]
    chosen = known[-1] if known else default
    label = options[chosen] if isinstance(options, Mapping) else chosen
    unknown = [value for value in given if value not in options]
    if unknown:
        _notice(name, unknown[-1][:MAX_PARAM_LENGTH], f"'{label}'")
    elif len(set(given)) > 1:
        st.warning(f"The link gives `{name}` {len(given)} values; showing the last, '{label}'.", icon="⚠️")
    return chosen


def url_list(name: str, options: Sequence[str], default: Sequence[str] = (), limit: int | None = None) -> list[str]:
    """Comma-separated query parameter restricted to ``options``; unknown items dropped with a notice.

    A repeated parameter (``?areas=1&areas=2``) is read as one list and an item
    given twice counts once. ``limit`` (a widget's ``max_selections``) keeps the
    first ``limit`` items, with a notice.
    """
    given = st.query_params.get_all(name)
    if not given:
        return list(default)
    allowed = set(options)
    items = list(dict.fromkeys(item.strip() for value in given for item in value.split(",") if item.strip()))
    known = [item for item in items if item in allowed]
    unknown = [item for item in items if item not in allowed]
    if unknown or not items:
        _notice(name, ",".join(unknown), "the recognised items only" if known else "the default")
    if limit is not None and len(known) > limit:
        st.warning(f"The link's `{name}` lists {len(known)} choices; this page takes at most {limit}, "
                   f"so it shows the first {limit}.", icon="⚠️")
        known = known[:limit]
    return known or list(default)


def set_url(**values) -> None:
    """Write page state back to the URL (lists as comma-separated); empty values are removed."""
    for name, value in values.items():
        if isinstance(value, (list, tuple)):
            value = ",".join(map(str, value))
        if value in (None, ""):
            st.query_params.pop(name, None)
        elif st.query_params.get_all(name) != [str(value)]:
            st.query_params[name] = str(value)


# ---- formatting --------------------------------------------------------------

def format_count(value: float) -> str:
    return "—" if pd.isna(value) else f"{value:,.0f}"


def format_share(value: float) -> str:
    return "—" if pd.isna(value) else f"{value * 100:.1f}%"


def count_with_moe(row) -> str:
    return f"{format_count(row['count'])} ± {format_count(row['count_moe'])}"


def share_with_moe(row) -> str:
    if pd.isna(row["share"]):
        return "—"
    return f"{row['share'] * 100:.1f}% ± {row['share_moe'] * 100:.1f} pts"


def period(year: int) -> str:
    return metrics.period_label(year)


def metric_label(key: str) -> str:
    return metrics.METRICS[key].label


# ---- charts --------------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=256)
def _chart_spec(builder_id: str, _builder: Callable, arguments: tuple) -> dict:
    return streamlit_internals.altair_spec(_builder(*arguments))


def chart(builder: Callable, *arguments, into=None, **options) -> None:
    """Draw ``builder(*arguments)``, an Altair chart, as ``st.altair_chart(..., **options)`` would
    (in the container or column ``into``, else the page).

    Converting an Altair chart to Vega-Lite (validation, data to Arrow) took
    more time than the rest of a page, on every run, for every reader. The
    spec is made once per builder and distinct ``arguments`` (tables are
    hashed by content, so another reader's upload or filter is another chart)
    and each run draws a copy. ``builder`` must depend on nothing but its
    arguments.
    """
    place = into if into is not None else st
    builder_id = f"{builder.__code__.co_filename}:{builder.__qualname__}"
    place.vega_lite_chart(spec=copy.deepcopy(_chart_spec(builder_id, builder, arguments)), **options)


# ---- downloads -----------------------------------------------------------------

def download_extract(table: pd.DataFrame | Callable[[], pd.DataFrame], columns: Sequence[Column], file_stem: str,
                     key: str, label: str = "Download this table (CSV)", choice: str | None = None,
                     geojson: Callable[[], str] | None = None,
                     provenance: Callable[[], str] | None = None) -> None:
    """CSV of exactly ``table`` plus its data dictionary and the provenance note.

    ``columns`` are the table's columns as the library declares them, with
    the meanings the data dictionary gives. ``choice`` (optional) names what the table holds in the provenance note;
    ``geojson`` (optional) is a function giving the same table as GeoJSON; ``provenance`` (optional) one
    giving the provenance note, for a table with sources beyond the build's ACS (``exports.provenance``).
    Every file is made when its button is clicked, not on each page run: a
    reader who only looks at the table costs the server nothing for them.
    ``table`` may itself be a function giving the table, then also made on
    click only (e.g. ``lambda: exports.extract(rows, geography)``).
    """
    made = table if callable(table) else (lambda: table)
    data = dashboard_data()
    buttons = st.columns(4 if geojson else 3)
    buttons[0].download_button(label, lambda: exports.to_csv_bytes(made()), file_name=f"{file_stem}.csv",
                               mime="text/csv", key=f"{key}-csv", width="stretch", on_click="ignore")
    buttons[1].download_button("Data dictionary (CSV)",
                               lambda: exports.to_csv_bytes(exports.data_dictionary(made(), columns)),
                               file_name=f"{file_stem}-dictionary.csv", mime="text/csv",
                               key=f"{key}-dictionary", width="stretch", on_click="ignore")
    buttons[2].download_button("Provenance note (TXT)",
                               lambda: (provenance() if provenance else exports.provenance(data.manifest, choice)
                                        ).encode("utf-8"),
                               file_name=f"{file_stem}-provenance.txt", mime="text/plain",
                               key=f"{key}-provenance", width="stretch", on_click="ignore")
    if geojson:
        buttons[3].download_button("Map layer (GeoJSON)", geojson, file_name=f"{file_stem}.geojson",
                                   mime="application/geo+json", key=f"{key}-geojson", width="stretch",
                                   on_click="ignore")
