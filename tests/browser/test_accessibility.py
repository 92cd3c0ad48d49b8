"""Accessibility in a real browser: axe-core on every page of the navigation, and keyboard reach.

axe-core (bundled by the axe-playwright-python package) runs against each
page listed in the sidebar navigation, so a new page is checked as soon as it
is added to app.py. Serious and critical violations fail the test.

The keyboard test walks every page (and a few links that open more of a page:
an area's detail, the explorer's comparison, custom area and threshold) with
the Tab key only, and checks that focus lands in every interactive control of
the main area. Controls are enumerated from the page itself by Streamlit's
``data-testid`` of each widget, so a new widget is checked as soon as it is
drawn. What a keyboard user does besides Tab counts too: Enter opens a closed
expander (its contents are then enumerated and must be reached), and the arrow
keys move between tabs (the standard ARIA tab pattern Streamlit follows; each
tab's panel is then walked). Radio groups are reached when Tab lands on their
checked option; the arrow keys would change the choice, so they are not
pressed. What we found (Streamlit 1.67):

- the deck.gl map's container takes focus (``tabindex=0``) and deck.gl's
  keyboard controller pans and zooms it with the arrow and +/- keys (it had no
  focus outline; ``pages.map_view`` now draws one, checked below); areas
  cannot be picked from the keyboard, so each map page has a selectbox or
  table for that, and ``test_every_map_has_a_table_with_the_same_areas_and_figures``
  checks each map's table carries its figures;
- the dataframe grid takes focus (one Tab per cell of its first row, then on);
- help icons ("?") are buttons, so their text opens from the keyboard;
- Altair charts are not focusable themselves, but their toolbar's "Show data"
  button is, and every chart's figures are also in a table on its page.

No control was unreachable, so the test has no exclusion list: any control the
Tab walk misses fails it. Every walk must also come back round to the top of
the page within a bounded number of presses (no keyboard trap).
"""

from __future__ import annotations

import pandas as pd
import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import drawn_features, html_tables, open_app_page

from .conftest import open_page

pytestmark = pytest.mark.browser

BLOCKING = {"serious", "critical"}

CONTROL_KINDS = {  # Streamlit's data-testid of each interactive element -> what a user would call it
    "stSelectbox": "selectbox", "stMultiSelect": "multiselect", "stRadio": "radio group",
    "stButtonGroup": "segmented control", "stButton": "button", "stDownloadButton": "download button",
    "stFormSubmitButton": "button", "stLinkButton": "link button", "stPageLink": "page link",
    "stFileUploader": "file uploader", "stCheckbox": "checkbox or toggle", "stTextInput": "text input",
    "stNumberInput": "number input", "stTextArea": "text area", "stDateInput": "date input",
    "stTimeInput": "time input", "stSlider": "slider", "stColorPicker": "colour picker",
    "stExpander": "expander", "stTab": "tab", "stPopover": "popover", "stDataFrame": "dataframe grid",
    "stDeckGlJsonChart": "map", "stTooltipIcon": "help icon",
}
MORE_OF_A_PAGE = [  # links that draw controls the plain page does not
    "map?geography=ward&area=20",
    "explorer?tmetric=no_computer&compare=8,32,28&custom=8,32",
]
MAX_TABS_PER_WALK = 1500
#: What must be drawn before a page is checked (maps and grids take focus only once drawn): the page's
#: title and every chart, map and grid shown.
DRAWN = '[data-testid="stMain"] :is([data-testid="stHeading"], [data-testid="stDeckGlJsonChart"], ' \
        '[data-testid="stDataFrame"], [data-testid="stVegaLiteChart"])'

# Marks each visible control of the main area not yet marked; returns how many controls are marked.
MARK_CONTROLS = """(kinds) => {
  const main = document.querySelector('[data-testid="stMain"]');
  window.__controls = window.__controls || 0;
  for (const [testid, kind] of Object.entries(kinds)) {
    for (const element of main.querySelectorAll(`[data-testid="${testid}"]`)) {
      if (element.dataset.kbdControl || !element.checkVisibility()) continue;
      const keyed = element.closest('[class*="st-key-"]');
      const key = keyed ? [...keyed.classList].find(c => c.startsWith('st-key-')).slice(7) : '';
      const label = (element.querySelector('[data-testid="stWidgetLabel"], summary, [role="tab"], button, a')
                     || element).innerText || element.getAttribute('aria-label') || '';
      element.dataset.kbdControl = String(++window.__controls);
      const shown = label.trim().split('\\n').pop().slice(0, 50);
      element.dataset.kbdName = `${kind} "${shown}"${key ? ' (' + key + ')' : ''}`;
    }
  }
  return window.__controls;
}"""

# Where keyboard focus is: the innermost marked control holding it, and what a walk needs to know.
FOCUS = """() => {
  const e = document.activeElement;
  const control = e && e.closest('[data-kbd-control]');
  const details = e && e.tagName === 'SUMMARY' ? e.closest('details') : null;
  const tabs = e && e.getAttribute('role') === 'tab'
    ? [...e.closest('[role="tablist"]').querySelectorAll('[role="tab"]')] : [];
  return {control: control ? control.dataset.kbdControl : null,
          inMain: !!(e && e.closest('[data-testid="stMain"]')),
          atTop: !e || e === document.body || !!e.closest('[data-testid="stSkipToContent"]'),
          closedExpander: !!(details && !details.open),
          tab: tabs.indexOf(e), tabs: tabs.length};
}"""


# True once the tab at ``index`` of the focused tab list has focus, is selected and shows its panel.
TAB_SHOWN = """(index) => {
  const e = document.activeElement;
  if (!e || e.getAttribute('role') !== 'tab' || e.getAttribute('aria-selected') !== 'true') return false;
  const tabs = [...e.closest('[role="tablist"]').querySelectorAll('[role="tab"]')];
  const panel = document.getElementById(e.getAttribute('aria-controls'));
  return tabs.indexOf(e) === index && (!panel || panel.checkVisibility());
}"""


def _page_urls(page, base: str) -> list[str]:
    open_page(page, base)
    links = page.locator('[data-testid="stSidebarNav"] a')
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    urls = {h if h.startswith("http") else base + "/" + h.lstrip("/") for h in hrefs}
    return sorted(urls | {base + "/"})


def test_every_page_has_no_serious_or_critical_axe_violations(page, streamlit_server):
    axe = Axe()
    problems = []
    for url in _page_urls(page, streamlit_server):
        open_page(page, url, DRAWN, count="all")
        results = axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
                problems.append(f"{url}: {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    assert not problems, "\n".join(problems)


# ---- keyboard --------------------------------------------------------------------------------------------

def _mark(page) -> int:
    return page.evaluate(MARK_CONTROLS, CONTROL_KINDS)


def _tab_walk(page, tab_steps: int, reached: set[str]) -> bool:
    """Tab from the top of the page through the main area and back to the top; True if it came back.

    A closed expander is opened with Enter; on the first tab of a tab list, the right arrow is pressed
    ``tab_steps`` times (once per walk moves each walk to the next tab). Controls that appear are marked.
    """
    in_main, stepped = False, set()
    for _ in range(MAX_TABS_PER_WALK):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUS)
        if focus["atTop"] and in_main:
            return True
        in_main |= focus["inMain"]
        if focus["control"]:
            reached.add(focus["control"])
        if focus["closedExpander"]:
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.activeElement.closest('details').open")
            _mark(page)
        if focus["tabs"] and focus["control"] not in stepped:
            for step in range(min(tab_steps, focus["tabs"] - 1 - focus["tab"])):
                page.keyboard.press("ArrowRight")
                page.wait_for_function(TAB_SHOWN, arg=focus["tab"] + step + 1)
                _mark(page)
                reached.add(page.evaluate(FOCUS)["control"])
            stepped.add(page.evaluate(FOCUS)["control"])
    return False


def _unreached_controls(page, url: str) -> tuple[list[str], int]:
    """Walk ``url`` by keyboard; the names of the controls focus never reached, and how many there are."""
    open_page(page, url, DRAWN, count="all")  # maps and grids draw after the script run ends
    _mark(page)
    tab_counts = page.evaluate("() => [...document.querySelectorAll('[data-testid=\"stMain\"] [role=\"tablist\"]')]"
                               ".map(list => list.querySelectorAll('[role=\"tab\"]').length)")
    reached: set[str] = set()
    for walk in range(max([1, *tab_counts])):
        assert _tab_walk(page, 1 if walk else 0, reached), f"{url}: Tab never came back to the top (keyboard trap?)"
    total = _mark(page)
    names = page.evaluate("() => Object.fromEntries([...document.querySelectorAll('[data-kbd-control]')]"
                          ".map(e => [e.dataset.kbdControl, e.dataset.kbdName]))")
    return [names[i] for i in sorted(set(names) - reached, key=int)], total


def test_keyboard_reaches_every_control_on_every_page(page, streamlit_server):
    """Tab (Enter on expanders, arrows between tabs) reaches every widget, grid and map in the main area."""
    urls = _page_urls(page, streamlit_server) + [f"{streamlit_server}/{link}" for link in MORE_OF_A_PAGE]
    problems, counts = [], {}
    for url in urls:
        missed, counts[url] = _unreached_controls(page, url)
        problems += [f"{url}: {name}" for name in missed]
    assert not problems, "not reached by keyboard:\n" + "\n".join(problems)
    assert all(counts.values()), f"a page with no controls found: {counts}"


def test_keyboard_walk_notices_a_control_taken_out_of_the_tab_order(page, streamlit_server):
    """The walk is not vacuous: a selectbox removed from the tab order is reported by name."""
    open_page(page, f"{streamlit_server}/map", DRAWN, count="all")
    hidden = page.evaluate("() => [...document.querySelectorAll('[data-testid=\"stSelectbox\"] input')]"
                           ".map(input => { input.setAttribute('tabindex', '-1'); return input.id; })")
    assert hidden, "the map page drew no selectbox"
    _mark(page)
    reached: set[str] = set()
    assert _tab_walk(page, 0, reached)
    names = page.evaluate("() => Object.fromEntries([...document.querySelectorAll('[data-kbd-control]')]"
                          ".map(e => [e.dataset.kbdControl, e.dataset.kbdName]))")
    missed = [names[i] for i in set(names) - reached]
    assert missed and all(name.startswith("selectbox") for name in missed), missed
    assert any('"Measure"' in name for name in missed), missed


@pytest.mark.parametrize("path", ["map", "ward?ward=20", "libraries"])
def test_a_map_reached_by_tab_shows_that_it_has_focus(page, streamlit_server, path):
    """deck.gl's focusable layer has no outline of its own; the map pages draw one (WCAG 2.4.7)."""
    open_page(page, f"{streamlit_server}/{path}", '[data-testid="stDeckGlJsonChart"]')
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('[data-testid=\"stDeckGlJsonChart\"] canvas, "
                         "[data-testid=\"stDeckGlJsonChart\"] [tabindex=\"0\"]')"):
            break
    else:
        pytest.fail("Tab never reached the map")
    outline = page.evaluate("() => { const s = getComputedStyle(document.activeElement);"
                            " return {style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }")
    assert outline["style"] != "none" and outline["width"] >= 2, outline


# ---- every map has its table -----------------------------------------------------------------------------

def _map_features(at, layer_id: str) -> list[dict]:
    """Properties of the areas a page's map draws (the unreliable-estimate rings and the outlines drawn over
    them left out)."""
    return [f["properties"] for f in drawn_features(at.get("deck_gl_json_chart")[0], "area", layer_id)]


def _frame_with(at, column: str) -> pd.DataFrame:
    """The first HTML table (dashboard.tables: the tables beside maps) or grid (st.dataframe) with ``column``."""
    return next(frame for frame in html_tables(at) + [element.value for element in at.dataframe]
                if column in frame.columns)


def _with_moe(value, moe, share: bool) -> str:
    if pd.isna(value):
        return "—"
    if share:
        return f"{value * 100:.1f}% ± {moe * 100:.1f} pts"
    return f"{value:,.0f} ± {moe:,.0f}"


@pytest.mark.parametrize("geography", ["community_area", "ward", "tract"])
def test_map_page_table_has_every_area_of_the_map_with_the_same_figures(data, geography):
    at = open_app_page("pages/map.py", timeout=180, geography=geography)
    features = {f["name"]: f for f in _map_features(at, "areas")}
    table = _frame_with(at, "area_name").set_index("area_name")
    assert sorted(table.index) == sorted(features)
    for name, row in table.iterrows():
        assert features[name]["count"] == _with_moe(row["count"], row["count_moe"], share=False)
        assert features[name]["share"] == _with_moe(row["share"], row["share_moe"], share=True)


def test_ward_map_tract_table_has_every_tract_of_the_map_with_the_same_figures(data):
    at = open_app_page("pages/ward.py", timeout=180, ward="20")
    features = {f["id"]: f for f in _map_features(at, "ward-tracts")}
    table = _frame_with(at, "GEOID").set_index("GEOID")
    # The table may list more: a tract with a sliver of its households in the ward can clip away on the map.
    assert features and set(features) <= set(table.index)
    for geoid, feature in features.items():
        assert feature["share"] == table.loc[geoid, "Share"]
        assert feature["count"] == table.loc[geoid, "Households"]


def test_libraries_map_access_table_has_every_area_of_the_map_with_the_same_figures(data):
    at = open_app_page("pages/libraries.py", timeout=180)
    features = {f["name"]: f for f in _map_features(at, "areas")}
    table = _frame_with(at, "Households (estimate)").set_index("Community area")
    assert sorted(table.index) == sorted(features)
    for name, row in table.iterrows():
        count = _with_moe(row["Households (estimate)"], row["Households MOE (90%)"], share=False)
        assert features[name]["count"] == count and count in features[name]["details"]


# ---- text inside charts ---------------------------------------------------------------------------------
# axe-core does not look inside charts' SVG, so the contrast of axis labels, titles and legends is checked
# here: WCAG 2.1 AA asks 4.5:1 for text under 18 pt (charts' text is 10–13 px) on the white page.

CHART_TEXT = """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart'] svg text")]
    .filter(t => t.textContent.trim() && getComputedStyle(t).visibility !== 'hidden')
    .map(t => ({text: t.textContent.trim().slice(0, 40), fill: getComputedStyle(t).fill,
                opacity: parseFloat(getComputedStyle(t).fillOpacity || '1')}))"""


def _contrast_on_white(css_colour: str, opacity: float) -> float:
    """WCAG contrast ratio of an ``rgb(r, g, b)`` colour (blended with white by ``opacity``) against white."""
    channels = [float(c) for c in css_colour[css_colour.index("(") + 1:css_colour.index(")")].split(",")[:3]]
    channels = [opacity * c + (1 - opacity) * 255 for c in channels]
    linear = [(c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("path", ["/progress", "/explorer", "/libraries"])
def test_text_inside_charts_has_aa_contrast(page, streamlit_server, path):
    open_page(page, streamlit_server + path, "[data-testid='stVegaLiteChart']", count="all")
    texts = page.evaluate(CHART_TEXT)
    assert texts, "no chart text found"
    faint = sorted({f"{t['text']!r} ({t['fill']}, {_contrast_on_white(t['fill'], t['opacity']):.2f}:1)"
                    for t in texts if _contrast_on_white(t["fill"], t["opacity"]) < 4.5})
    assert not faint, f"chart text below 4.5:1 on {path}: {faint[:8]}"
