"""``dashboard.common.chart``: an Altair chart drawn from a spec made once per distinct input, identical to
what ``st.altair_chart`` draws."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest


def _script():
    import altair as alt
    import pandas as pd
    import streamlit as st

    from dashboard import common

    calls = st.session_state.setdefault("calls", [])

    def bars(frame: pd.DataFrame, title: str) -> alt.Chart:
        calls.append(title)
        return alt.Chart(frame).mark_bar().encode(x=alt.X("area:N", title=title), y="households:Q")

    first = pd.DataFrame({"area": ["Uptown", "Austin"], "households": [1521.0, 1344.0]})
    second = first.assign(households=[1.0, 2.0])
    common.chart(bars, first, "Households", width="stretch")
    common.chart(bars, first, "Households", width="stretch")  # same input: the cached spec
    common.chart(bars, second, "Households", width="stretch")  # another table: another spec
    st.altair_chart(bars(first, "direct"), width="stretch")


def _spec_and_data(element) -> tuple[dict, list[bytes]]:
    spec = json.loads(element.proto.spec)
    spec.pop("datasets", None)
    return spec, [d.data.data for d in element.proto.datasets]


def test_a_chart_is_converted_once_per_distinct_input_and_drawn_like_st_altair_chart():
    at = AppTest.from_function(_script, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4
    assert at.session_state["calls"] == ["Households", "Households", "direct"], "one build per distinct input"

    cached, repeated, other, direct = (_spec_and_data(c) for c in charts)
    assert cached == repeated
    assert other[1] != cached[1], "a different table must not reuse the first chart's data"
    direct_spec = direct[0]
    direct_spec["encoding"]["x"]["title"] = "Households"
    assert cached[0] == direct_spec and cached[1] == direct[1]
