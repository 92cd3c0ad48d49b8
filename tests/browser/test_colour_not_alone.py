"""Colour is never the only carrier of meaning: every colour a page uses to say something is also said
in words, numbers or a shape the user can see (WCAG 2.2, 1.4.1 Use of Color).

Per page, what the colour says and where else it is said:

- map page, ward brief, libraries map: each colour class has a legend row with its range in text (and
  how many areas fall in it); "no estimate" grey is named; the unreliable-estimate marker is a ring (a
  shape) named in the legend with its count; the ward boundary and the flagged areas are outlines
  (shapes) named in words, and the flagged areas are listed by name;
- progress: each target's status is a written badge and a "Status:" sentence; each milestone bar has
  its figures and percentage written beside it; in "Where the gap is", the areas holding half are set
  apart by a labelled dotted line as well as by the darker bars;
- explorer: each comparison with the city has its own marker shape and a legend label in words;
- libraries: the partial year is drawn hollow and labelled with its months; metric changes carry a
  sign and an arrow.

Expected figures are computed from the data (``equity``), not written into the tests.
"""

from __future__ import annotations

import re

import pytest

from equity import compare, libraries, maps, target_files, targets

from .conftest import open_page

pytestmark = pytest.mark.browser

CHART = "[data-testid='stVegaLiteChart']"

# The rows of the HTML legends drawn beside the maps: each row's symbol (its colour and shape) and text.
LEGEND_ROWS = """() => [...document.querySelectorAll('.equity-legend > div')].map(row => {
  const symbol = row.querySelector('span[style*="display:inline-block"], span[style*="display: inline-block"]');
  const style = symbol ? getComputedStyle(symbol) : null;
  return {text: row.innerText.trim(),
          fill: style ? style.backgroundColor : null,
          round: style ? parseFloat(style.borderTopLeftRadius) > 0 : false,
          outline: style ? parseFloat(style.borderTopWidth) >= 2 : false};
})"""


def _rows(data, geography: str, metric: str = "unconnected"):
    table = data.metrics
    return table[(table["geography"] == geography) & (table["metric"] == metric)
                 & (table["year"] == data.latest_year)].set_index("area_id")


def _class_labels(values, fmt) -> list[str]:
    """The legend's text for each quantile class of ``values``: 'low to high'."""
    classes = maps.classify(values, "quantiles")
    return [f"{fmt(low)} to {fmt(high)}" for low, high in classes.ranges()], classes


def _share(value: float) -> str:
    return f"{value * 100:.1f}%"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _legend(page) -> list[dict]:
    page.wait_for_selector(".equity-legend")
    return page.evaluate(LEGEND_ROWS)


def _assert_classes_written(legend: list[dict], labels: list[str], tallies: list[str] | None = None) -> None:
    """Every class has a legend row with a colour swatch and its range in text; each swatch colour differs."""
    swatches = {}
    for number, label in enumerate(labels):
        row = next((r for r in legend if label in r["text"]), None)
        assert row is not None, f"no legend row reads {label!r}: {[r['text'] for r in legend]}"
        assert row["fill"] and not row["round"], row
        if tallies:
            assert tallies[number] in row["text"], (tallies[number], row)
        swatches[label] = row["fill"]
    assert len(set(swatches.values())) == len(labels), swatches


def _assert_unreliable_marker_named(legend: list[dict], what: str, count_text: str | None) -> None:
    """The unreliable-estimate marker is a ring (a shape, not a colour) with its meaning in words."""
    row = next((r for r in legend if f"Unreliable {what} (CV over 30%)" in r["text"]), None)
    assert row is not None, [r["text"] for r in legend]
    assert row["round"], f"the unreliable marker should be a ring, not a colour swatch: {row}"
    if count_text:
        assert count_text in row["text"], row


# ---- maps ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("geography,plural", [("community_area", "community areas"), ("tract", "census tracts")])
def test_map_legend_writes_each_colour_class_as_a_range_and_names_grey_and_the_unreliable_ring(
        page, streamlit_server, data, geography, plural):
    open_page(page, f"{streamlit_server}/map?geography={geography}")
    rows = _rows(data, geography)
    present = maps.has_estimate(rows, "share")
    labels, classes = _class_labels(rows.loc[present, "share"], _share)
    counts = [int((classes.assign(rows.loc[present, "share"]) == n).sum()) for n in range(classes.count)]
    legend = _legend(page)
    _assert_classes_written(legend, labels, [f"({n} {plural})" for n in counts])
    unreliable = int((maps.is_unreliable(rows, "share") & present).sum())
    _assert_unreliable_marker_named(legend, "share", f"({unreliable} of {len(rows)})")
    if (~present).any():
        assert any(f"No estimate: no households ({int((~present).sum())})" in r["text"] for r in legend)


def test_ward_brief_legend_writes_the_tract_classes_and_names_the_boundary_and_the_ring(
        page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/ward?ward=20")
    tracts = _rows(data, "tract")
    present = maps.has_estimate(tracts, "share")
    labels, _ = _class_labels(tracts.loc[present, "share"], _share)
    legend = _legend(page)
    _assert_classes_written(legend, labels)
    _assert_unreliable_marker_named(legend, "share", None)
    assert "(ward boundary in red)" in page.get_by_test_id("stMain").inner_text()


def test_libraries_map_names_its_classes_and_lists_the_flagged_areas_it_outlines(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/libraries")
    rows = _rows(data, "community_area")
    present = maps.has_estimate(rows, "count")
    labels, _ = _class_labels(rows.loc[present, "count"], _count)
    legend = _legend(page)
    _assert_classes_written(legend, labels)
    _assert_unreliable_marker_named(legend, "number", None)

    access = data.library_table("access")
    flagged = access[(access["geography"] == "community_area") & (access["year"] == data.latest_year)
                     & access["access_gap"]]
    row = next(r for r in legend if r["text"].startswith("Flagged"))
    assert row["outline"], f"flagged areas should be shown by an outline: {row}"
    assert row["text"].endswith(f"({len(flagged)})")
    listed = page.get_by_test_id("stMarkdown").filter(has_text="Flagged:").inner_text()
    assert flagged["area_name"].tolist() and all(name in listed for name in flagged["area_name"])


def test_libraries_partial_year_is_hollow_and_labelled_and_changes_carry_a_sign(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/libraries", CHART)
    chart = page.get_by_test_id("stVegaLiteChart").first
    chart.scroll_into_view_if_needed()
    symbols = chart.evaluate("""chart => [...chart.querySelectorAll('.role-legend-entry .role-scope > g')]
        .map(entry => ({label: entry.querySelector('.role-legend-label text').textContent,
                        fill: entry.querySelector('.role-legend-symbol path').getAttribute('fill')}))""")
    fills = {entry["label"]: entry["fill"] for entry in symbols}
    assert set(fills) == {"Full year", "Partial year"} and fills["Partial year"].lower() in ("white", "#fff", "#ffffff")
    assert fills["Full year"].lower() not in ("white", "#fff", "#ffffff")

    first_branch = data.library_table("branches")["branch_key"].iloc[0]
    annual = libraries.annual_sessions(data.library_table("sessions"))
    partial = annual[(annual["branch_key"] == first_branch) & annual["partial_year"]]
    texts = chart.evaluate("chart => [...chart.querySelectorAll('text')].map(t => t.textContent)")
    assert len(partial) and all(f"{n} of 12 months" in texts for n in partial["months_reported"])

    for delta in page.get_by_test_id("stMetricDelta").all():
        assert re.match(r"[+\-−]", delta.inner_text().strip()), delta.inner_text()
        assert delta.locator("[data-testid^=stMetricDeltaIcon]").count() == 1


# ---- progress ----------------------------------------------------------------------------------------------

def test_progress_statuses_are_written_not_only_coloured(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/progress")
    table = targets.progress(target_files.load_targets(target_files.known_areas(data.metrics)), data.metrics)
    headlines = targets.headline(table)
    assert len(headlines)
    main = page.get_by_test_id("stMain").inner_text()
    for _, row in headlines.iterrows():
        heading = page.get_by_role("heading", name=row["target"]).first.inner_text()
        assert heading.strip().endswith(row["status"].capitalize()), heading
        assert f"Status: {row['status']}" in main


def test_progress_milestone_bars_have_their_figures_in_words(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/progress")
    milestones = targets.milestone_progress(target_files.load_milestones())
    # Illustrative milestone rows sit in a closed expander, out of the default view: open it to read them.
    for expander in page.get_by_test_id("stExpander").filter(has_text="Illustrative examples").all():
        expander.locator("summary").click()
    page.get_by_test_id("stProgress").first.wait_for()
    bars = page.get_by_test_id("stProgress").all()
    assert len(bars) == len(milestones)
    texts = [bar.inner_text() for bar in bars]
    for _, row in milestones.iterrows():  # program rows and illustrative rows are drawn in separate places
        figures = f"{row['value']:,.0f} of {row['target']:,.0f} {row['unit']}"
        shown = [index for index, text in enumerate(texts) if figures in text]
        assert len(shown) == 1, (figures, texts)
        assert f"({row['fraction_uncapped'] * 100:.0f}%)" in texts[shown[0]]
        assert bars[shown[0]].get_by_role("progressbar").get_attribute("aria-valuetext")


def test_where_the_gap_is_marks_the_half_with_a_labelled_line_not_only_darker_bars(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/progress", CHART, count="all")
    gap = compare.gap_concentration(data.metrics, "community_area", "unconnected", data.latest_year)
    holding_half = int(gap["holds_first_half"].sum())
    chart = page.get_by_test_id("stVegaLiteChart").filter(has_text="Together hold half")
    chart.scroll_into_view_if_needed()
    found = chart.evaluate("""chart => {
        const svg = chart.querySelector('svg');
        const bars = [...svg.querySelectorAll('.role-mark path[aria-label*="group: "]')].map(p => ({
            half: p.getAttribute('aria-label').includes('group: Together hold half'),
            box: p.getBoundingClientRect()}));
        const split = svg.querySelector('line[stroke-dasharray="2,2"]');
        return {bars: bars.map(b => ({half: b.half, left: b.box.left, right: b.box.right})),
                split: split ? split.getBoundingClientRect().left : null,
                texts: [...svg.querySelectorAll('text')].map(t => t.textContent)};
    }""")
    half = [b for b in found["bars"] if b["half"]]
    rest = [b for b in found["bars"] if not b["half"]]
    assert len(half) == holding_half and len(rest) == len(gap) - holding_half
    assert found["split"] is not None, "no dotted line marks where half is reached"
    assert max(b["right"] for b in half) - 1 <= found["split"] <= min(b["left"] for b in rest) + 1
    assert "← together hold half" in found["texts"] and "the rest →" in found["texts"]


# ---- explorer ------------------------------------------------------------------------------------------------

def test_explorer_comparison_with_the_city_has_a_shape_and_words_for_each_colour(page, streamlit_server, data):
    open_page(page, f"{streamlit_server}/explorer", CHART)
    rows = data.metrics[data.metrics["year"] == data.latest_year]
    city = rows[(rows["geography"] == "city") & (rows["metric"] == "unconnected")].iloc[0]
    ranked = compare.ranking(rows[(rows["geography"] == "community_area") & (rows["metric"] == "unconnected")], city)
    expected = set(ranked["comparison"])
    chart = page.get_by_test_id("stVegaLiteChart").first
    found = chart.evaluate("""chart => {
        const svg = chart.querySelector('svg');
        const legend = [...svg.querySelectorAll('.role-legend-entry .role-scope > g')].map(entry => ({
            label: entry.querySelector('.role-legend-label text').textContent,
            shape: entry.querySelector('.role-legend-symbol path').getAttribute('d')}));
        const points = [...svg.querySelectorAll('.mark-symbol.role-mark path')].map(p => ({
            label: p.getAttribute('aria-label'), shape: p.getAttribute('d')}));
        return {legend, points};
    }""")
    assert {entry["label"] for entry in found["legend"]} == expected
    assert len({entry["shape"] for entry in found["legend"]}) == len(expected), found["legend"]
    shape_of = {}
    for point in found["points"]:
        comparison = re.search(r"Compared with city: ([^;]+)", point["label"]).group(1)
        shape_of.setdefault(comparison, set()).add(point["shape"])
    assert set(shape_of) == expected and all(len(shapes) == 1 for shapes in shape_of.values()), shape_of
    assert len(set.union(*shape_of.values())) == len(expected)
