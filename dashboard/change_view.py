"""What the pages showing change between ACS periods share: the one-period notice, the verdicts' look,
the trend chart, the change chart, the change map's layer and legend, and the formatting of a change with
its margin of error."""

from __future__ import annotations

import html

import altair as alt
import pandas as pd
import pydeck as pdk
import streamlit as st

from dashboard import common, map_view
from equity import change, compare, maps, metrics, queries

UPDATE_COMMAND = "CENSUS_API_KEY=<your key> python -m equity update"
FETCH_COMMAND = "CENSUS_API_KEY=<your key> python -m equity fetch --year 2023"

VERDICT_LOOK = {  # Okabe-Ito colours, distinguishable with colour-blindness; the shapes repeat the meaning
    change.IMPROVED: ("#009E73", "triangle-down"),
    change.WORSENED: ("#D55E00", "triangle-up"),
    change.CANNOT_TELL: ("#6b6b6b", "circle"),
}
VERDICT_LABELS = {change.IMPROVED: "Improved significantly", change.WORSENED: "Worsened significantly",
                  change.CANNOT_TELL: "Cannot tell (no change the survey can detect)"}


def one_period_notice(data, what: str) -> None:
    """Say plainly that only one ACS period is loaded, so ``what`` cannot be shown, and how to add periods."""
    st.info(f"**Only one ACS period is loaded** ({metrics.period_label(data.latest_year)}), so there is no "
            f"{what} yet.\n\n"
            "To load every later ACS 5-year period, get a free Census API key "
            "(https://api.census.gov/data/key_signup.html) and run, from the repository folder:\n\n"
            f"`{UPDATE_COMMAND}`\n\n(or one period: `{FETCH_COMMAND}`), then reload this page.",
            icon=":material/info:")


def overlap_caveat(row) -> str:
    """A sentence on periods sharing years, or "" when they share none (``row``: a row of ``change.between``)."""
    if not row["overlap_years"]:
        return ""
    return (f"{row['period_from']} and {row['period_to']} share {row['overlap_years']} of their 5 years, so the "
            "change reflects only the years they do not share (its margin of error is adjusted for the overlap); "
            "the Census Bureau advises comparing periods that do not overlap.")


def change_with_moe(row) -> str:
    """'−2.3 pts ± 0.3' for a share, '−25,390 ± 2,966' for households (the row's ``compared_on``)."""
    return compare.difference_in_words(row["change"], row["change_moe"], row["compared_on"])


def value_with_moe(row, side: str) -> str:
    """An area's figure in one period of a change row: ``side`` is "from" or "to"."""
    field = row["compared_on"]
    value, moe = row[f"{field}_{side}"], row[f"{field}_{side}_moe"]
    if pd.isna(value):
        return "—"
    return f"{value * 100:.1f}% ± {moe * 100:.1f} pts" if field == "share" else f"{value:,.0f} ± {moe:,.0f}"


# ---- charts (drawn through common.chart) -------------------------------------------------------------

def trend_chart(trend: pd.DataFrame, area_name: str) -> alt.LayerChart:
    """An area's and the city's share in every loaded period: dots with 90% intervals, joined by lines (solid
    for the area, dashed for the city; circles and squares, so colour is never the only difference)."""
    whos = [area_name, *[w for w in dict.fromkeys(trend["who"]) if w != area_name]]
    shown = trend.assign(estimate=[f"{s * 100:.1f}% ± {m * 100:.1f} pts" if pd.notna(s) else "no estimate"
                                   for s, m in zip(trend["share"], trend["share_moe"])])
    x = alt.X("year:O", title="ACS 5-year period (last year)", axis=alt.Axis(labelAngle=0))
    offset = alt.XOffset("who:N", sort=whos, scale=alt.Scale(paddingInner=0.4))
    colour = alt.Color("who:N", title=None, sort=whos, scale=alt.Scale(domain=whos, range=["#0072B2", "#444444"]),
                       legend=alt.Legend(orient="top"))
    shape = alt.Shape("who:N", sort=whos, scale=alt.Scale(domain=whos, range=["circle", "square"]), legend=None)
    dash = alt.StrokeDash("who:N", sort=whos, scale=alt.Scale(domain=whos, range=[[1, 0], [5, 4]]), legend=None)
    y = alt.Y("share:Q", title="Share of households (estimate and 90% interval)", axis=alt.Axis(format=".0%"),
              scale=alt.Scale(zero=False))
    tooltip = [alt.Tooltip("who:N", title="Area"), alt.Tooltip("period:N", title="ACS period"),
               alt.Tooltip("estimate:N", title="Share ± MOE (90%)")]
    base = alt.Chart(shown)
    lines = base.mark_line(strokeWidth=1.5).encode(x=x, y=y, color=colour, strokeDash=dash, detail="who:N")
    bars = base.mark_rule(strokeWidth=2.5).encode(x=x, xOffset=offset, y="low:Q", y2="high:Q", color=colour,
                                                  tooltip=tooltip)
    dots = base.mark_point(filled=True, size=90, opacity=1).encode(x=x, xOffset=offset, y=y, color=colour,
                                                                   shape=shape, tooltip=tooltip)
    return alt.layer(lines, bars, dots).properties(height=260)


def change_chart(rows: pd.DataFrame, x_title: str, axis_format: str) -> alt.LayerChart:
    """Each area's change (dot, shaped and coloured by its verdict) with its 90% interval (bar), in the
    table's order, against a line at no change. ``rows``: ``area_name``, ``change``, ``low``, ``high``,
    ``verdict``, ``shown`` (the change in words), ``periods``."""
    domain = [v for v in VERDICT_LOOK if v in set(rows["verdict"])]
    colour = alt.Color("verdict:N", title="Change", scale=alt.Scale(domain=domain, range=[VERDICT_LOOK[v][0]
                                                                                         for v in domain]),
                       legend=alt.Legend(orient="top", labelLimit=320))
    shape = alt.Shape("verdict:N", scale=alt.Scale(domain=domain, range=[VERDICT_LOOK[v][1] for v in domain]),
                      legend=None)
    y = alt.Y("area_name:N", sort=list(rows["area_name"]), title=None,
              axis=alt.Axis(labelOverlap=False, labelLimit=220, labelFontSize=12))
    tooltip = [alt.Tooltip("area_name:N", title="Area"), alt.Tooltip("periods:N", title="Periods"),
               alt.Tooltip("shown:N", title="Change ± MOE (90%)"), alt.Tooltip("verdict:N", title="Change")]
    base = alt.Chart(rows)
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="black", strokeDash=[5, 4]).encode(x="zero:Q")
    bars = base.mark_rule(strokeWidth=2).encode(
        y=y, x=alt.X("low:Q", title=x_title, axis=alt.Axis(format=axis_format, orient="top")), x2="high:Q",
        color=colour, tooltip=tooltip)
    dots = base.mark_point(filled=True, size=70, opacity=1).encode(y=y, x="change:Q", color=colour, shape=shape,
                                                                   tooltip=tooltip)
    return alt.layer(zero, bars, dots).properties(height=alt.Step(22))


# ---- the change map ------------------------------------------------------------------------------------
# An area whose change the survey cannot tell from none is drawn hollow: no fill, only an outline in its
# class's colour (grey for the middle class). A reader sees the difference in form, not only in colour; the
# legend has an entry for it and the tooltip says it in words.

HOLLOW_FILL = [255, 255, 255, 0]
HOLLOW_LINE_PIXELS = 2.0
MIDDLE_OUTLINE = [150, 150, 150]
NOT_SIGNIFICANT_WORDS = "not statistically significant: cannot be told from no change"


def _signed(value: float, field: str) -> str:
    return f"{value * 100:+.1f} pts" if field == "share" else f"{value:+,.0f}"


@st.cache_resource(show_spinner=False, max_entries=32)
def change_choropleth(build: str, geography_name: str, metric_key: str, earlier: int, later: int) -> dict:
    """Everything the change map draws for one view: features (fill, outline and tooltip words per area),
    the legend's classes with their area counts, and the view. Made once per view and shared by every
    reader, like ``map_view.choropleth``."""
    data = common.dashboard_data()
    rows = queries.change_rows(data, geography_name, metric_key, earlier, later)
    field = metrics.METRICS[metric_key].compared_on
    direction = 1.0 if metrics.METRICS[metric_key].higher_is_better else -1.0
    numbers, bounds = change.change_classes(rows["change"] * direction)
    colours = [list(c) for c in change.CHANGE_PALETTE]
    significant = rows["significant"].to_numpy(dtype=bool)
    present = (numbers >= 0).to_numpy()
    fill = [colours[n] if ok and sig else (HOLLOW_FILL if ok else list(maps.NO_ESTIMATE_COLOUR))
            for n, ok, sig in zip(numbers, present, significant)]
    line = [map_view.OUTLINE_COLOUR if sig or not ok else
            (MIDDLE_OUTLINE if n == change.NO_CHANGE_CLASS else colours[n])
            for n, ok, sig in zip(numbers, present, significant)]
    width = [HOLLOW_LINE_PIXELS if ok and not sig else map_view.OUTLINE_PIXELS
             for ok, sig in zip(present, significant)]
    words = [change_view_words(v, n) for v, n in zip(rows["verdict"], rows["note"])]
    properties = pd.DataFrame({
        "name": rows["area_name"],
        "fill": fill, "line": line, "width": width,
        "before": [value_with_moe(r, "from") for _, r in rows.iterrows()],
        "after": [value_with_moe(r, "to") for _, r in rows.iterrows()],
        "change": [change_with_moe(r) for _, r in rows.iterrows()],
        "verdict": words,
    }, index=rows.index)
    features = maps.feature_collection(map_view.geometries(build, geography_name), properties)
    # Worst to best, each class's range in the measure's direction of change.
    edges = [-float("inf"), *bounds, float("inf")]
    counts = pd.Series(numbers[present & significant]).value_counts()
    hollow = pd.Series(numbers[present & ~significant]).value_counts()
    legend_rows = []
    for number, colour in enumerate(change.CHANGE_PALETTE):
        low, high = sorted((edges[number] * direction, edges[number + 1] * direction))
        label = (f"{_signed(high, field)} or less" if low == -float("inf") else
                 f"{_signed(low, field)} or more" if high == float("inf") else
                 f"{_signed(low, field)} to {_signed(high, field)}")
        legend_rows.append({"colour": maps.hex_colour(colour), "label": label, "areas": int(counts.get(number, 0)),
                            "hollow": int(hollow.get(number, 0))})
    return {"features": features, "legend": legend_rows, "field": field,
            "not_significant": int((present & ~significant).sum()), "no_estimate": int((~present).sum()),
            "areas": len(rows), "view": maps.view_of(data.boundaries(geography_name, web=True))}


def change_view_words(verdict: str, note: str) -> str:
    """The tooltip's verdict line: the verdict, or that the change is not significant; a note if any."""
    words = NOT_SIGNIFICANT_WORDS if verdict == change.CANNOT_TELL else verdict
    return f"{words} ({note})" if note else words


def change_layer(features: dict) -> pdk.Layer:
    """The change map's areas: filled by class when the change is significant, hollow with a coloured outline
    when it is not (each feature's ``fill``, ``line`` and ``width``). pydeck reads bare strings as expressions,
    so the unit name is quoted."""
    return pdk.Layer("GeoJsonLayer", data=features, id=map_view.AREA_LAYER, get_fill_color="properties.fill",
                     get_line_color="properties.line", get_line_width="properties.width",
                     line_width_units="'pixels'", stroked=True, filled=True, pickable=True, auto_highlight=True)


def change_tooltip(metric_key: str, earlier: int, later: int) -> dict:
    """Tooltip: the area, both periods' figures with their MOEs, the change ± MOE and whether it is significant."""
    label = html.escape(metrics.METRICS[metric_key].label)
    return {"html": f"<b>{{name}}</b><br/>{label}<br/>{html.escape(metrics.period_label(earlier))}: {{before}}"
                    f"<br/>{html.escape(metrics.period_label(later))}: {{after}}<br/>Change: {{change}}"
                    "<br/><i>{verdict}</i>",
            "style": {"backgroundColor": "white", "color": "#1a1a1a", "fontSize": "13px",
                      "border": "1px solid #999", "maxWidth": "340px"}}


def _swatch(colour: str, hollow: bool = False) -> str:
    fill = "transparent" if hollow else colour
    border = f"2px solid {colour if colour.lower() != '#f7f7f7' else '#969696'}" if hollow else "1px solid #888"
    return (f'<span aria-hidden="true" style="display:inline-block;width:18px;height:14px;background:{fill};'
            f'border:{border};vertical-align:middle;margin-right:6px;box-sizing:border-box"></span>')


def change_legend(view: dict, metric_key: str, geography_name: str) -> None:
    """The change map's legend: better (purple) to worse (orange) centred on no change, each class's count of
    significant changes; the hollow entry for changes that are not significant; grey for no estimate."""
    metric = metrics.METRICS[metric_key]
    plural = map_view.GEOGRAPHIES[geography_name].lower()
    what = "share of households (percentage points)" if view["field"] == "share" else "households"
    good = "fewer" if not metric.higher_is_better else "more"
    rows = [f"<div><b>Change: {html.escape(metric.label)}</b></div>", f"<div>{html.escape(what)}</div>",
            f"<div style='margin:2px 0 6px;font-size:0.9em'>Purple: improved ({good} of them); orange: worsened; "
            "near white: about no change.</div>"]
    for entry in reversed(view["legend"]):
        rows.append(f"<div>{_swatch(entry['colour'])}{html.escape(entry['label'])} "
                    f"<span style='color:#555'>({entry['areas']} {plural})</span></div>")
    rows.append(f"<div style='margin-top:6px'>{_swatch('#6b6b6b', hollow=True)}Outline only: not statistically "
                f"significant, cannot be told from no change <span style='color:#555'>({view['not_significant']} "
                f"{plural})</span></div>")
    if view["no_estimate"]:
        rows.append(f"<div>{_swatch(maps.hex_colour(maps.NO_ESTIMATE_COLOUR))}No estimate in one of the periods "
                    f"<span style='color:#555'>({view['no_estimate']})</span></div>")
    st.html(f"{map_view.MAP_FOCUS_STYLE}<div class='equity-legend' style='font-size:14px;line-height:1.7'>"
            f"{''.join(rows)}</div>")
