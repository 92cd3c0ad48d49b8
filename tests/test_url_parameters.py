"""Catalogue of bad input in links: every query parameter every page reads, fed hostile values (AppTest).

The parameters are found by reading the pages' source (``parameters_read``),
so a parameter added to a page without an entry in ``CATALOGUE`` fails
``test_the_catalogue_covers_every_parameter_every_page_reads``.

For each page, and each kind of bad value in ``BAD_VALUES`` (unknown words,
script/SQL/spreadsheet/template injection, path traversal, NUL and
right-to-left characters, emoji, markdown, backticks, line breaks, 10,000 and
100,000 characters, empty, repeated), every parameter the page reads gets that
value at once. The page must then raise nothing; show, for each parameter, one
warning naming it, of bounded length, quoting the value literally (one
CommonMark code span, no markup outside it); draw exactly what it draws with
no such parameters; and leave the same valid state in the URL.

``test_a_bad_parameter_keeps_the_valid_ones_given_beside_it`` then gives one
bad parameter among valid values for all the others: only that parameter
falls back, nothing else the link held is lost.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import frame
from equity import compare, config, libraries
from tests.conftest import app_test, html_tables

TIMEOUT = 180
NOTICE_LIMIT = 400
"""Longest a notice may be: the sentence, a label and at most 40 characters of the value, escaped."""
SHOWN_LIMIT = 40
"""Characters of a bad value quoted in its notice (dashboard.common._shown)."""
MARKUP = set("*[]<>$\\~|{}:`#!")
"""Characters that could start markdown, HTML, LaTeX or Streamlit directives: none may appear outside code."""
URL_READERS = ("url_choice", "url_list")
STREAMLIT_QUERY_LIMIT = 500_000
"""Under the query-string length above which Streamlit drops the whole query (524,288 in Streamlit 1.67)."""


@dataclass(frozen=True)
class Parameter:
    """A query parameter a page reads: how to make a valid value, and which other values it needs to be read."""

    valid: object
    """A valid value (a string, or a function of the dashboard data giving one) kept when given beside a bad one."""
    needs: dict = field(default_factory=dict)
    """Valid parameters this one's valid value depends on: ``of`` is read only for a custom area, the
    explorer's threshold only counts with a measure to apply it to, tract numbers only with ``cunit=tract``."""
    empty_is_valid: bool = False
    """``?name=`` is a value the page knows (the map's ``area``: no area selected)."""
    in_url: bool = True
    """The page writes the valid value back to the URL (the explorer leaves out the latest ACS year)."""


def latest(data) -> str:
    return str(data.latest_year)


def community_areas_in_ward_3(data) -> list[str]:
    links = data.ward_community_areas
    return sorted(links.loc[links["ward"] == "3", "community_area"], key=int)[:2]


def side_of_ward_3(data) -> str:
    return compare.read_sides().set_index("community_area").loc[community_areas_in_ward_3(data)[0], "side"]


def two_tracts(data) -> str:
    tracts = data.metrics[(data.metrics["geography"] == "tract") & (data.metrics["year"] == data.latest_year)]
    return ",".join(sorted(tracts["area_id"].unique())[:2])


def earliest_full_sessions_year(data) -> str:
    return str(libraries.full_years(libraries.annual_sessions(data.library_table("sessions")))[0])


def second_branch(data) -> str:
    return str(data.library_table("branches")["branch_key"].iloc[1])


def first_acp_release(data) -> str:
    return str(data.acp()["release"].min().date())


CATALOGUE: dict[str, dict[str, Parameter]] = {
    "pages/overview.py": {},
    "pages/explorer.py": {
        "geo": Parameter("community_area"),
        "year": Parameter(latest, in_url=False),
        "metric": Parameter("no_computer"),
        "value": Parameter("count"),
        "areas": Parameter(lambda data: ",".join(community_areas_in_ward_3(data))),
        "sides": Parameter(side_of_ward_3),
        "wards": Parameter("3"),
        "tmetric": Parameter("no_computer"),
        "tmin": Parameter("1", needs={"tmetric": "no_computer"}),
        "tmax": Parameter("99", needs={"tmetric": "no_computer"}),
        "sort": Parameter("name"),
        "compare": Parameter("1,2"),
        "cunit": Parameter("tract"),
        "custom": Parameter(two_tracts, needs={"cunit": "tract"}),
        "since": Parameter(latest, in_url=False),
        "change": Parameter("cannot tell"),
        "csort": Parameter("name"),
    },
    "pages/map.py": {
        "geography": Parameter("ward"),
        "metric": Parameter("no_computer"),
        "mode": Parameter("count"),
        "year": Parameter(latest),
        "classes": Parameter("natural_breaks"),
        "area": Parameter("3", empty_is_valid=True),
        "order": Parameter("name"),
        "view": Parameter("change"),
        "since": Parameter(latest, needs={"view": "change"}),
    },
    "pages/ward.py": {
        "ward": Parameter("20"),
        "year": Parameter(latest),
    },
    "pages/progress.py": {
        "gap": Parameter("ward"),
        "gap_metric": Parameter("no_computer"),
        "gap_year": Parameter(latest),
        "areas": Parameter("ward"),
        "areas_target": Parameter("2"),
    },
    "pages/libraries.py": {
        "geography": Parameter("ward"),
        "year": Parameter(latest),
        "sessions": Parameter(earliest_full_sessions_year),
        "branch": Parameter(second_branch),
    },
    "pages/programs.py": {
        "geo": Parameter("ward"),
        "measure": Parameter("uptake"),
        "release": Parameter(first_acp_release),
        "area": Parameter("3", empty_is_valid=True),
    },
    "pages/downloads.py": {
        "geo": Parameter("custom"),
        "of": Parameter("ward", needs={"geo": "custom"}),
        "areas": Parameter("3,5", needs={"geo": "custom"}),
        "metrics": Parameter("no_computer,unconnected"),
        "years": Parameter(latest),
    },
    "pages/methodology.py": {},
}

BAD_VALUES: dict[str, str | list[str]] = {
    "unknown": "no-such-value",
    "script_tag": "<script>alert(1)</script>",
    "sql": "'; DROP TABLE x;--",
    "spreadsheet_formula": '=HYPERLINK("http://x")',
    "template": "{{7*7}}",
    "path_traversal": "../../etc/passwd",
    "percent_00": "%00",
    "nul_character": "a\x00b",
    "right_to_left_override": "\u202eevil.exe",
    "emoji": "📶🙂",
    "markdown": "**bold** [link](http://x) :red[x] $x$",
    "backticks": "`` a ``` b `",
    "line_breaks": "x\n\n# heading\n- item",
    "long_10000": "x" * 10_000,
    "long_100000": "<b>" * 33_334,
    "empty": "",
    "repeated": ["bad-one", "bad-two"],
}
HOSTILE = "<script>alert(1)</script>" + "x" * 10_000
"""The bad value given among valid ones in the keep-the-rest test."""


# ---- reading the pages ----------------------------------------------------------------------------------

def _reader(call: ast.Call) -> str | None:
    func = call.func
    if (isinstance(func, ast.Attribute) and func.attr in URL_READERS and isinstance(func.value, ast.Name)
            and func.value.id == "common"):
        return func.attr
    return None


def parameters_read(source: str) -> dict[str, str]:
    """Query parameters a page's source reads, each with its reader (``url_choice`` or ``url_list``).

    Follows the page's own wrappers (a function passing its first argument on
    to ``common.url_choice``, like the libraries page's ``url_index``).
    Raises ``AssertionError`` for a name that is not a string literal or for
    a direct read of ``st.query_params`` (removing a parameter with ``pop`` is
    allowed), since the catalogue could not follow those.
    """
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    wrappers, forwarding = {}, set()
    for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
        arguments = [a.arg for a in function.args.args]
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call) and _reader(n)):
            if call.args and isinstance(call.args[0], ast.Name) and call.args[0].id in arguments:
                wrappers[function.name] = (arguments.index(call.args[0].id), _reader(call))
                forwarding.add(call)
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node not in forwarding:
            if _reader(node):
                position, reader = 0, _reader(node)
            elif isinstance(node.func, ast.Name) and node.func.id in wrappers:
                position, reader = wrappers[node.func.id]
            else:
                continue
            name = node.args[position] if len(node.args) > position else None
            assert isinstance(name, ast.Constant) and isinstance(name.value, str), (
                f"line {node.lineno}: a query parameter name that is not a string literal")
            found[name.value] = reader
        elif isinstance(node, ast.Attribute) and node.attr == "query_params" and isinstance(node.value, ast.Name) \
                and node.value.id == "st":
            parent = parents.get(node)
            assert isinstance(parent, ast.Attribute) and parent.attr == "pop", (
                f"line {node.lineno}: reads st.query_params directly; use common.url_choice / url_list")
    return found


def page_source(page: str) -> str:
    return (config.REPO_ROOT / page).read_text(encoding="utf-8")


# ---- running the pages --------------------------------------------------------------------------------

def run_page(page: str, params: dict) -> AppTest:
    """Run app.py, then ``page``, with ``params`` in the URL (a list value repeats the parameter)."""
    at = app_test(TIMEOUT)
    for name, value in params.items():
        at.query_params[name] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def content(at: AppTest) -> dict:
    """What the page draws, apart from its notices: headings, text, figures and tables."""
    return {"titles": [e.value for e in at.title], "headers": [e.value for e in at.header],
            "subheaders": [e.value for e in at.subheader], "markdown": [e.value for e in at.markdown],
            "captions": [e.value for e in at.caption], "metrics": [(e.label, e.value) for e in at.metric],
            "dataframes": [e.value.to_csv() for e in at.dataframe],
            "tables": [e.value.to_csv() for e in at.table] + [frame.to_csv() for frame in html_tables(at)],
            "info": [e.value for e in at.info]}


def url(at: AppTest) -> dict:
    return dict(at.query_params)


def notices(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def naming(at: AppTest, name: str) -> list[str]:
    return [text for text in notices(at) if f"`{name}`" in text]


_reference_runs: dict = {}


def reference(page: str, params: dict) -> AppTest:
    """The page run with only valid ``params`` (cached: several tests compare against the same run)."""
    key = (page, tuple(sorted((k, str(v)) for k, v in params.items())))
    if key not in _reference_runs:
        _reference_runs[key] = run_page(page, params)
    return _reference_runs[key]


def resolve(parameter: Parameter, data) -> str:
    return parameter.valid(data) if callable(parameter.valid) else parameter.valid


# ---- what a notice must look like ------------------------------------------------------------------------

def code_spans(markdown: str) -> tuple[list[str], str]:
    """CommonMark code spans of ``markdown`` (their contents as a renderer shows them) and the text outside them.

    A run of n backticks opens a span closed by the next run of exactly n;
    a run with no such partner is literal text. Inside, line endings become
    spaces and one space is stripped from each end if both ends have one
    (CommonMark 0.31, section 6.1).
    """
    runs = [(m.start(), m.end()) for m in re.finditer("`+", markdown)]
    spans, outside, last, k = [], [], 0, 0
    while k < len(runs):
        start, end = runs[k]
        close = next((j for j in range(k + 1, len(runs)) if runs[j][1] - runs[j][0] == end - start), None)
        if close is None:
            k += 1
            continue
        outside.append(markdown[last:start])
        inner = markdown[end:runs[close][0]].replace("\n", " ")
        if inner.startswith(" ") and inner.endswith(" ") and inner.strip(" "):
            inner = inner[1:-1]
        spans.append(inner)
        last, k = runs[close][1], close + 1
    outside.append(markdown[last:])
    return spans, "".join(outside)


def quoted(value: str | list[str], reader: str) -> str:
    """The part of a bad value the notice quotes: the last of a repeated choice, every unknown item of a list."""
    values = value if isinstance(value, list) else [value]
    if reader == "url_list":
        return ",".join(item.strip() for v in values for item in v.split(",") if item.strip())
    return values[-1]


def visible(raw: str) -> str:
    """``raw`` as a reader should see it: its first 40 characters, unprintable ones as Python escapes."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in raw[:SHOWN_LIMIT])
    return text + ("…" if len(raw) > SHOWN_LIMIT else "")


def assert_literal_bounded_notice(notice: str, name: str, raw: str) -> None:
    assert len(notice) <= NOTICE_LIMIT, f"{len(notice)} characters: {notice[:200]}"
    spans, outside = code_spans(notice)
    assert spans[0] == name, notice
    if raw == "":
        assert spans == [name] and "is empty" in outside, notice
    else:
        assert spans[1:] == [visible(raw)], notice
        if len(raw) > SHOWN_LIMIT:
            assert raw not in notice
    assert not MARKUP & set(outside), f"markup outside the quoted value: {outside!r}"
    assert "showing" in outside, notice


# ---- the catalogue is complete --------------------------------------------------------------------------

def test_the_catalogue_covers_every_parameter_every_page_reads():
    pages = [script for script, _, _ in frame.PAGES]
    assert sorted(pages) == sorted(CATALOGUE), "a page in app.py's navigation has no catalogue entry (or vice versa)"
    for page in pages:
        assert sorted(parameters_read(page_source(page))) == sorted(CATALOGUE[page]), page
    for page, parameters in CATALOGUE.items():
        for name, parameter in parameters.items():
            assert set(parameter.needs) <= set(parameters) - {name}, (page, name)


def test_the_page_reader_finds_new_parameters_wrappers_and_direct_reads():
    source = ('def pick(name, options):\n    return common.url_choice(name, options, "a")\n'
              'x = pick("shade", ["a"])\ny = common.url_list("extra", [])\nst.query_params.pop("old", None)\n')
    assert parameters_read(source) == {"shade": "url_choice", "extra": "url_list"}
    with pytest.raises(AssertionError, match="directly"):
        parameters_read('z = st.query_params.get("sneaky")\n')
    with pytest.raises(AssertionError, match="not a string literal"):
        parameters_read('name = "x"\nz = common.url_choice(name, [], "a")\n')


def test_the_notice_checks_catch_rendered_markup():
    """The checks this catalogue relies on fail for the notice format the pages used before (a bare repr)."""
    old = "The link's `geo` value '[link](http://x)' is not one this page knows; showing 'Wards' instead."
    with pytest.raises(AssertionError):
        assert_literal_bounded_notice(old, "geo", "[link](http://x)")
    spans, outside = code_spans("a ``b`c`` d `` e")
    assert spans == ["b`c"] and outside == "a  d `` e"


# ---- every parameter of a page, bad at once ------------------------------------------------------------

def groups():
    """(page, valid context, parameters made bad): one group per set of ``needs`` on each page."""
    for page, parameters in CATALOGUE.items():
        contexts = {tuple(sorted(p.needs.items())) for p in parameters.values()}
        for context in sorted(contexts):
            bad = [name for name, p in parameters.items()
                   if name not in dict(context) and (not p.needs or tuple(sorted(p.needs.items())) == context)]
            if bad:
                yield page, dict(context), bad


GROUPS = list(groups())


def within_query_limit(names: list[str], value) -> list[list[str]]:
    """``names`` in runs whose query string stays under Streamlit's limit (longer ones are dropped whole).

    Streamlit ignores a query string of more than ``STREAMLIT_QUERY_LIMIT``
    characters, so fourteen 100,000-character values cannot reach a page in
    one link; they are given in turns.
    """
    chunks, size = [[]], 0
    for name in names:
        length = len(urlencode({name: value}, doseq=True)) + 1
        if chunks[-1] and size + length > STREAMLIT_QUERY_LIMIT:
            chunks.append([])
            size = 0
        chunks[-1].append(name)
        size += length
    return chunks


@pytest.mark.parametrize("kind", list(BAD_VALUES))
@pytest.mark.parametrize("page, context, bad", GROUPS,
                         ids=[page.split("/")[1] + "".join(f"[{k}={v}]" for k, v in c.items()) for page, c, _ in GROUPS])
def test_every_parameter_falls_back_with_a_literal_bounded_notice(data, page, context, bad, kind):
    value = BAD_VALUES[kind]
    readers = parameters_read(page_source(page))
    expected = reference(page, context)
    for chunk in within_query_limit(bad, value):
        at = run_page(page, {**context, **{name: value for name in chunk}})
        named = []
        for name in chunk:
            texts = naming(at, name)
            if value == "" and CATALOGUE[page][name].empty_is_valid:
                assert texts == [], texts
                continue
            assert len(texts) == 1, f"{name}: {notices(at)}"
            assert_literal_bounded_notice(texts[0], name, quoted(value, readers[name]))
            named += texts
        assert sorted(notices(at)) == sorted(notices(expected) + named), "a notice not about the bad parameters"
        assert content(at) == content(expected), "the page did not fall back to what it shows without the bad values"
        assert url(at) == url(expected)


def test_the_groups_reach_every_parameter():
    reached = {(page, name) for page, _, bad in GROUPS for name in bad}
    assert reached == {(page, name) for page, parameters in CATALOGUE.items() for name in parameters}


def test_pages_with_main_content_draw_it_in_the_reference_runs(data):
    """The fall-back comparison above is only worth something if the pages draw their figures."""
    for page, context, _ in GROUPS:
        drawn = content(reference(page, context))
        assert drawn["titles"], page
        assert drawn["dataframes"] or drawn["metrics"] or drawn["tables"] or drawn["info"], page


@pytest.mark.parametrize("page", [page for page, parameters in CATALOGUE.items() if not parameters])
def test_pages_reading_no_parameters_ignore_a_hostile_link(data, page):
    hostile = {f"p{i}": value for i, value in enumerate(BAD_VALUES.values())}
    at = run_page(page, hostile)
    assert notices(at) == []
    assert content(at) == content(reference(page, {}))
    assert content(at)["titles"]


# ---- one bad parameter among valid ones --------------------------------------------------------------

ONE_BAD = [(page, name) for page, parameters in CATALOGUE.items() for name in parameters]


@pytest.mark.parametrize("page, name", ONE_BAD, ids=[f"{p.split('/')[1]}-{n}" for p, n in ONE_BAD])
def test_a_bad_parameter_keeps_the_valid_ones_given_beside_it(data, page, name):
    parameters = CATALOGUE[page]
    valid = {other: resolve(p, data) for other, p in parameters.items()}
    others = {other: v for other, v in valid.items() if other != name}
    expected = reference(page, others)
    at = run_page(page, {**others, name: HOSTILE})

    assert len(naming(at, name)) == 1, notices(at)
    assert_literal_bounded_notice(naming(at, name)[0], name, HOSTILE)
    assert sorted(notices(at)) == sorted(notices(expected) + naming(at, name))
    assert content(at) == content(expected)
    assert url(at) == url(expected)
    # The valid values are not merely dropped the same way twice: the page keeps them in the URL
    # (apart from those that depend on the bad parameter, and any the page leaves out of its URL).
    dependents = [other for other, p in parameters.items() if name in p.needs]
    assert all(any(f"`{d}`" in n for d in dependents) for n in notices(expected) if "`" in n), notices(expected)
    for other, given in others.items():
        if name in parameters[other].needs or not parameters[other].in_url:
            continue
        assert url(expected).get(other) == given, (other, url(expected))


# ---- repeated, duplicated and long lists, and too many choices ----------------------------------------------

def test_a_choice_given_twice_uses_the_last_value_the_page_knows_and_says_so(data):
    at = run_page("pages/map.py", {"geography": ["tract", "ward"]})
    assert at.radio(key="map-geography").value == "ward"
    assert len(naming(at, "geography")) == 1 and "'Wards'" in naming(at, "geography")[0]
    assert at.query_params["geography"] == "ward"

    at = run_page("pages/map.py", {"geography": ["ward", "moon"]})
    assert at.radio(key="map-geography").value == "ward"
    assert_literal_bounded_notice(naming(at, "geography")[0], "geography", "moon")
    assert at.query_params["geography"] == "ward"


def test_a_list_given_twice_is_read_as_one_list(data):
    at = run_page("pages/explorer.py", {"areas": ["1", "2"]})
    assert at.multiselect(key="explorer-areas-community_area").value == ["1", "2"]
    assert naming(at, "areas") == []
    assert at.query_params["areas"] == "1,2"


def test_an_item_given_twice_counts_once(data):
    at = run_page("pages/explorer.py", {"compare": "1,1,2", "custom": "1,1"})
    assert at.multiselect(key="explorer-compare-community_area").value == ["1", "2"]
    assert at.multiselect(key="explorer-custom-community_area").value == ["1"]
    assert any(m.value.startswith("**Combined area: 1 community areas**") for m in at.markdown)
    assert at.query_params["compare"] == "1,2" and at.query_params["custom"] == "1"


def test_more_areas_to_compare_than_the_page_takes_keeps_the_first_eight_with_a_notice(data):
    names = data.metrics.loc[data.metrics["geography"] == "community_area", "area_id"].unique()
    given = sorted(names, key=int)[:10]
    at = run_page("pages/explorer.py", {"compare": ",".join(given)})
    kept = at.multiselect(key="explorer-compare-community_area").value
    assert kept == given[:8]
    notice = naming(at, "compare")
    assert len(notice) == 1 and str(len(given)) in notice[0] and "8" in notice[0]
    assert at.query_params["compare"] == ",".join(given[:8])


def test_a_long_list_of_valid_areas_is_not_cut_short(data):
    tracts = sorted(data.metrics.loc[(data.metrics["geography"] == "tract")
                                     & (data.metrics["year"] == data.latest_year), "area_id"].unique())[:300]
    given = ",".join(tracts)
    assert len(given) > 2_000
    at = run_page("pages/downloads.py", {"geo": "custom", "of": "tract", "areas": given, "metrics": "unconnected"})
    assert at.multiselect(key="downloads-areas-tract").value == tracts
    assert naming(at, "areas") == []
    assert at.query_params["areas"] == given
