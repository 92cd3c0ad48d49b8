"""Map first (issue 17): a page with a map draws the map and its legend in a first script run and stops
there; once the reader's browser has drawn the map, a small script in the page reports it and that report
starts a second run, which draws the rest of the page (the choices, tables, charts and downloads).

Why two runs: Streamlit's browser code loads the code of each kind of element (a radio, a select box, a
table, a chart) the first time a page shows one, and parses it in the browser's one thread. Sent with the
map, the widgets' code and the tables delayed the map by 20–50% (``bench/map_time.py``: stopping the Map
page right after its legend drew the map as fast as the bare frame; drawing the choices as well, 1.22×).
In the second run the map's element is unchanged, so the browser keeps the drawn map.

How the report works: ``st.components.v2.component`` (public) runs a few lines of JavaScript in the page
that watch for a map canvas of this run with a size, wait two animation frames (the map painted), and set
the component's state, which reruns the script. A browser without WebGL, or a map that fails, would never
report: the script then reports after ``GIVE_UP_SECONDS`` so the rest of the page always comes.

While a page waits, its report sits in a container keyed ``WAITING`` (CSS class ``st-key-map-first-waiting``):
the browser tests and the benchmark wait until it is gone before reading the page. ``drawn_flag(page)``
is the session-state key a test sets to draw the whole page in one run (as after the report).
"""

from __future__ import annotations

import streamlit as st

WAITING = "map-first-waiting"
GIVE_UP_SECONDS = 8

_REPORT_WHEN_DRAWN = """
export default function ({ setStateValue }) {
  const canvases = '[data-testid="stElementContainer"]:not([data-stale="true"]) [data-testid="stDeckGlJsonChart"] canvas';
  const drawn = () => [...document.querySelectorAll(canvases)].some(canvas => canvas.width > 0 && canvas.height > 0);
  const webgl = (() => { try { return !!document.createElement("canvas").getContext("webgl2"); } catch { return false; } })();
  const started = performance.now();
  let done = false;
  const report = () => { if (!done) { done = true; setStateValue("drawn", true); } };
  const watch = () => {
    if (done) return;
    if (!webgl || performance.now() - started > GIVE_UP_MS) report();
    else if (drawn()) requestAnimationFrame(() => requestAnimationFrame(report));
    else requestAnimationFrame(watch);
  };
  requestAnimationFrame(watch);
  return () => { done = true; };
}
""".replace("GIVE_UP_MS", str(GIVE_UP_SECONDS * 1000))

_report_when_drawn = st.components.v2.component("equity_map_drawn", js=_REPORT_WHEN_DRAWN)


def drawn_flag(page: str) -> str:
    """The session-state key that says ``page``'s map has been drawn for this reader."""
    return f"{page}-map-drawn"


def rest_after_map(page: str, room: tuple | None = None) -> None:
    """Call right after ``page``'s map and legend. The first time this reader's session shows the page, the
    run stops here and the rest comes in the run the browser's report starts; after that, it returns at once.

    ``room``: ``(container, heights)``, a container above the map that the rest of the page fills (the
    choices) and its height in pixels by the smallest window width each applies from (``{0: 320, 1400:
    202}``, measured on the page). The first run keeps that room free, so that the map does not move when
    the choices arrive (tests/browser/test_map_first.py checks it).
    """
    flag = drawn_flag(page)
    if st.session_state.get(flag):
        return
    if room:
        container, heights = room
        container.html(_spacer(f"equity-room-{page}", heights))
    with st.container(key=WAITING):
        _report_when_drawn(key=f"{page}-map-drawn-report",
                           on_drawn_change=lambda: st.session_state.update({flag: True}))
    st.stop()


def _spacer(css_class: str, heights: dict[int, int]) -> str:
    """An empty block of ``heights`` pixels (by the smallest window width each applies from)."""
    rules = [f".{css_class} {{ height: {heights[min(heights)]}px; }}"]
    rules += [f"@media (min-width: {width}px) {{ .{css_class} {{ height: {pixels}px; }} }}"
              for width, pixels in sorted(heights.items()) if width > min(heights)]
    return f"<style>{' '.join(rules)}</style><div class='{css_class}' aria-hidden='true'></div>"
