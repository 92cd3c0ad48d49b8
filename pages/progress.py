"""Progress page: the Digital Equity Plan's targets against each loaded ACS period, program milestones,
where the remaining gap is, and uploading one's own targets or milestones for the session."""

import altair as alt
import pandas as pd
import streamlit as st

from equity import change, compare, metrics, queries, target_files, targets
from equity.errors import ValidationError
from dashboard import acp_sections, change_view, common, tables

data = common.load_or_stop()


# ---- what every reader sees alike, made once per build (and project file version) and shared -----------
# ``st.cache_resource``: the tables are shared by every session, so the page never changes them. A file
# that fails validation raises, and an exception is never cached.

def _version(path) -> int:
    """Changes when the project's file is edited, so an edited file is read again."""
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


@st.cache_resource(show_spinner=False, max_entries=4)
def project_milestones(version: int) -> pd.DataFrame:
    return target_files.load_milestones()


@st.cache_resource(show_spinner=False, max_entries=4)
def project_milestone_progress(version: int) -> pd.DataFrame:
    return targets.milestone_progress(project_milestones(version))


areas = queries.known_areas(data)

STATUS_BADGES = {targets.ON_TRACK: ":green-badge[On track]", targets.BEHIND: ":red-badge[Behind]",
                 targets.CANNOT_TELL: ":gray-badge[Cannot tell yet]", targets.BASELINE: ":gray-badge[Baseline]"}
GAP_GEOGRAPHIES = {"community_area": "Community areas", "ward": "Wards"}
GAP_METRICS = {key: m.label for key, m in metrics.METRICS.items() if not m.higher_is_better and m.denominator}
YEARS = {str(year): common.period(year) for year in data.years}
FETCH_COMMAND = "CENSUS_API_KEY=<your key> python -m equity fetch --year 2023"


def seed(key: str, value) -> None:
    """Start a widget at the URL's value the first time it is drawn in this session."""
    if key not in st.session_state:
        st.session_state[key] = value


seed("gap-geography", common.url_choice("gap", GAP_GEOGRAPHIES, "community_area"))
seed("gap-metric", common.url_choice("gap_metric", GAP_METRICS, "unconnected"))
seed("gap-year", common.url_choice("gap_year", YEARS, str(data.latest_year)))
seed("areas-geography", common.url_choice("areas", GAP_GEOGRAPHIES, "community_area"))


# ---- formatting (presentation only) ---------------------------------------------------------------

def with_moe(value: float, moe: float, measure: str, signed: bool = False) -> str:
    """'171,879 ± 3,436', '69.8% ± 0.4 pts', or signed: '-25,390 ± 2,966', '+2.3 pts ± 0.3 pts'."""
    if pd.isna(value):
        return "no estimate"
    if measure == "share":
        text = f"{value * 100:+.1f} pts" if signed else f"{value * 100:.1f}%"
        return text if pd.isna(moe) else f"{text} ± {moe * 100:.1f} pts"
    text = f"{value:+,.0f}" if signed else f"{value:,.0f}"
    return text if pd.isna(moe) else f"{text} ± {moe:,.0f}"


def plain(value: float, measure: str, signed: bool = False) -> str:
    if pd.isna(value):
        return "—"
    if measure == "share":
        return f"{value * 100:+.1f} pts" if signed else f"{value * 100:.3g}%"
    return f"{value:+,.0f}" if signed else f"{value:,.0f}"


def day(value) -> str:
    return f"{value.day} {value:%B %Y}"


def unit(measure: str) -> str:
    return "share of households" if measure == "share" else "households"


# ---- charts -------------------------------------------------------------------------------------------

def progress_chart(history: pd.DataFrame) -> alt.Chart:
    """Each loaded period's estimate with its 90% interval, the straight path from baseline to target."""
    first = history.iloc[0]
    share = first["measure"] == "share"
    number = ".1%" if share else ",.0f"
    points = history.dropna(subset=["value"]).assign(period_label=history["period"])
    path = pd.DataFrame({"year": [first["baseline_year"], first["target_year"]],
                         "value": [first["baseline_value"], first["target_value"]],
                         "what": ["Baseline", "Target"]})
    x = alt.X("year:Q", title="Last year of the ACS 5-year period", axis=alt.Axis(format="d", tickMinStep=1),
              scale=alt.Scale(domain=[int(first["baseline_year"]) - 1, int(first["target_year"]) + 1]))
    y_title = "Share of households" if share else "Households"
    line = alt.Chart(path).mark_line(strokeDash=[6, 4], color="#555").encode(
        x=x, y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=number)))
    goal = alt.Chart(path.tail(1)).mark_point(shape="diamond", size=140, filled=True, color="#555").encode(
        x=x, y="value:Q", tooltip=[alt.Tooltip("what:N", title=" "), alt.Tooltip("value:Q", title="Target", format=number)])
    bars = alt.Chart(points).mark_rule(strokeWidth=2, color="#1f5fa8").encode(x=x, y="value_low:Q", y2="value_high:Q")
    dots = alt.Chart(points).mark_point(filled=True, size=90, color="#1f5fa8").encode(
        x=x, y="value:Q",
        tooltip=[alt.Tooltip("period_label:N", title="ACS period"),
                 alt.Tooltip("value:Q", title="Estimate", format=number),
                 alt.Tooltip("moe:Q", title="Margin of error (90%)", format=number),
                 alt.Tooltip("status:N", title="Status")])
    return (line + bars + dots + goal).properties(height=280)


def pareto_chart(gap: pd.DataFrame, area_title: str) -> alt.LayerChart:
    """Areas by households (bars, most first, with 90% error bars) and the running share of the total (line)."""
    shown = gap.assign(group=gap["holds_first_half"].map({True: "Together hold half", False: "The rest"}))
    x = alt.X("area_name:N", sort=None, title=area_title,
              axis=alt.Axis(labelAngle=-90, labelLimit=150, labelOverlap=False, labelFontSize=10))
    colour = alt.Color("group:N", title=None, scale=alt.Scale(domain=["Together hold half", "The rest"],
                                                              range=["#1f5fa8", "#9db7d5"]),
                       legend=alt.Legend(orient="top"))
    tooltip = [alt.Tooltip("area_name:N", title="Area"), alt.Tooltip("count:Q", title="Households", format=",.0f"),
               alt.Tooltip("count_moe:Q", title="Margin of error (90%)", format=",.0f"),
               alt.Tooltip("cumulative_share:Q", title="Running share of total", format=".1%")]
    bars = alt.Chart(shown).mark_bar().encode(x=x, y=alt.Y("count:Q", title="Households"), color=colour,
                                              tooltip=tooltip)
    errors = alt.Chart(shown).mark_rule(color="#333").encode(x=x, y="count_low:Q", y2="count_high:Q")
    # The split is also drawn and written, so the two bar colours are never the only way to tell the groups apart.
    edge = alt.X("area_name:N", sort=None, bandPosition=1)
    boundary = alt.Chart(shown[shown["holds_first_half"]].tail(1))
    split = boundary.mark_rule(strokeDash=[2, 2], color="#333", strokeWidth=1.5).encode(x=edge)
    split_labels = [boundary.mark_text(align=align, dx=dx, fontSize=11, color="#333").encode(
                        x=edge, y=alt.value(6), text=alt.value(words))
                    for align, dx, words in (("right", -4, "← together hold half"), ("left", 4, "the rest →"))]
    share_axis = alt.Y("cumulative_share:Q", title="Running share of the total", scale=alt.Scale(domain=[0, 1]),
                       axis=alt.Axis(format="%", orient="right", titleColor="#b03a0b"))
    running = alt.Chart(shown).mark_line(color="#b03a0b", point=alt.OverlayMarkDef(color="#b03a0b", size=20)).encode(
        x=x, y=share_axis, tooltip=tooltip)
    half = alt.Chart(shown).mark_rule(strokeDash=[4, 4], color="#b03a0b", aria=False).encode(y=alt.datum(0.5))
    return alt.layer(alt.layer(bars, errors, split, *split_labels), running + half).resolve_scale(
        y="independent").properties(height=460)


# ---- uploads: validated in equity.targets; a good file is used for this session only ------------------

def upload_box(kind: str, validate, shipped: pd.DataFrame, shipped_name: str) -> pd.DataFrame:
    """File uploader for one kind of file; returns the table in use (the upload if good, else as before)."""
    state = f"progress-{kind}"
    file = st.file_uploader(f"Your {kind} file (CSV, at most {target_files.MAX_FILE_BYTES // 1_000_000} MB)",
                            type=["csv"], key=f"{state}-upload",
                            max_upload_size=max(1, target_files.MAX_FILE_BYTES // 1_000_000))
    if file is not None and st.session_state.get(f"{state}-seen") != file.file_id:
        st.session_state[f"{state}-seen"] = file.file_id
        frame, problems = validate(file.getvalue())
        st.session_state[f"{state}-problems"] = (file.name, problems)
        if not problems:
            st.session_state[state] = (file.name, frame)
    if file is not None and st.session_state.get(f"{state}-problems", (None, []))[1]:
        name, problems = st.session_state[f"{state}-problems"]
        listed = "\n".join(f"- {p}" for p in problems[:30])
        more = f"\n- … and {len(problems) - 30} more" if len(problems) > 30 else ""
        st.error(f"**{name}** was not used: {len(problems)} problem(s). Nothing changed; the {kind} shown are "
                 f"still the ones from before.\n\n{listed}{more}", icon=":material/block:")
    in_use = st.session_state.get(state)
    if in_use is None:
        st.caption(f"In use: the project's file `{shipped_name}`.")
        table = shipped
    else:
        st.success(f"In use for this session: your file **{in_use[0]}** ({len(in_use[1])} rows). "
                   "The project's file is unchanged.", icon=":material/check_circle:")
        if st.button(f"Go back to the project's {kind}", key=f"{state}-reset"):
            del st.session_state[state]
            st.rerun()
        table = in_use[1]
    st.download_button(f"Download the {kind} in use (CSV)", lambda: target_files.to_csv(table), file_name=f"{kind}.csv",
                       mime="text/csv", key=f"{state}-download", on_click="ignore")
    return table


def column_guide(meanings: dict[str, str], kind: str) -> None:
    with st.expander(f"Columns of a {kind} file"):
        st.dataframe(pd.DataFrame({"Column": list(meanings), "Meaning": list(meanings.values())}),
                     hide_index=True, width="stretch", key=f"progress-{kind}-columns")


def shipped(loader, *args) -> pd.DataFrame:
    try:
        return loader(*args)
    except ValidationError as exc:
        st.error(f"The project's file could not be used: {exc}")
        return pd.DataFrame()


# ---- the page ---------------------------------------------------------------------------------------

st.title("Progress to the Digital Equity Plan's targets")
st.caption("Each target's measure from the American Community Survey (ACS), with 90% margins of error, "
           "compared with its baseline period; program milestones the ACS cannot measure; and where the "
           "remaining gap is. Statuses follow the Census Bureau's test of statistical significance.")

targets_section, areas_section, milestones_section, gap_section = (st.container(), st.container(), st.container(),
                                                                   st.container())
st.header("Use your own targets or milestones")
st.write("Upload a CSV in the same layout as the project's file (download it below as a template). It is "
         "checked row by row; a file with any problem is not used. A good file is used for your session "
         "only — the project's files are never changed from the browser.")
upload_columns = st.columns(2)
with upload_columns[0]:
    st.subheader("Targets")
    project_target_table = shipped(queries.project_targets, data)
    target_table = upload_box("targets", lambda raw: target_files.validate_targets(raw, areas), project_target_table,
                              "data/targets.csv")
    column_guide(target_files.TARGET_COLUMN_MEANINGS, "targets")
with upload_columns[1]:
    st.subheader("Milestones")
    milestones_version = _version(target_files.MILESTONES_FILE)
    project_milestone_table = shipped(project_milestones, milestones_version)
    milestone_table = upload_box("milestones", target_files.validate_milestones, project_milestone_table,
                                 "data/milestones.csv")
    column_guide(target_files.MILESTONE_COLUMN_MEANINGS, "milestones")

# ---- targets ------------------------------------------------------------------------------------------

with targets_section:
    st.header("Targets measured by the ACS")
    if len(target_table) and target_table is project_target_table:
        table, headlines = queries.project_progress(data)
    elif len(target_table):
        table = targets.progress(target_table, data.metrics)
        headlines = targets.headline(table)
    else:
        table = headlines = pd.DataFrame()
    later = [y for y in data.years if len(target_table) and y > target_table["baseline_year"].min()]
    if not later:
        baseline_years = sorted(set(target_table["baseline_year"])) if len(target_table) else [data.latest_year]
        st.info(
            f"**Only the baseline period is loaded** ({', '.join(common.period(y) for y in baseline_years)}), so "
            "there is no change to measure yet: every status below is “cannot tell yet”.\n\n"
            "To add a later ACS 5-year period, get a free Census API key "
            "(https://api.census.gov/data/key_signup.html) and run, from the repository folder:\n\n"
            f"`{FETCH_COMMAND}`\n\nthen reload this page. The 2019–2023 period shares three of its five years "
            "with 2017–2021, so its comparison is flagged as overlapping; 2022–2026 is the first period that "
            "shares none.", icon=":material/info:")
    for baseline_period, period, shared, first_separate in targets.overlapping_comparisons(headlines).itertuples(
            index=False):
        st.warning(f"**Overlapping periods.** {baseline_period} and {period} share {shared} of their 5 years, so "
                   "a change between them reflects only the years they do not share (its margin of error below is "
                   "adjusted for the overlap). The Census Bureau advises comparing periods that do not overlap; "
                   f"for this baseline the first such period ends in {first_separate}.", icon=":material/warning:")
    for _, row in headlines.iterrows():
        measure = row["measure"]
        compared = row["years_elapsed"] > 0
        with st.container(border=True):
            st.markdown(f"### {row['target']}  {STATUS_BADGES[row['status']]}")
            cells = st.columns(3)
            cells[0].metric(f"Baseline, {row['baseline_period']}",
                            with_moe(row["baseline_value"], row["baseline_moe"], measure))
            if compared:
                cells[1].metric(f"Latest, {row['period']}", with_moe(row["value"], row["moe"], measure),
                                delta=f"{plain(row['change'], measure, signed=True)} since the baseline",
                                delta_color="normal" if metrics.METRICS[row["metric"]].higher_is_better
                                else "inverse")
            else:
                cells[1].metric("Latest period loaded", "the baseline")
            cells[2].metric(f"Target for {row['target_year']} ({unit(measure)})", plain(row["target_value"], measure))
            words, picture = st.columns([1.2, 1]) if compared else (st.container(), None)
            lines = [f"**Status: {row['status']}** — {row['reason']}."]
            if compared:
                significance = "statistically significant" if row["significant"] else "not statistically significant"
                lines.append(f"Change since {row['baseline_period']}: "
                             f"**{with_moe(row['change'], row['change_moe'], measure, signed=True)}**"
                             f"{'' if measure == 'share' else ' households'} ({significance} at the 90% level"
                             f"{'; overlapping periods' if row['overlap_years'] > 0 else ''}).")
                lines.append(f"Pace observed: **{with_moe(row['pace_observed'], row['pace_observed_moe'], measure, signed=True)}"
                             f"** a year; pace needed: **{plain(row['pace_needed'], measure, signed=True)}** a year "
                             "(a straight line from the baseline to the target).")
                if pd.notna(row["pace_needed_from_now"]):
                    lines.append(f"From {row['period']} on, {plain(row['pace_needed_from_now'], measure, signed=True)} "
                                 "a year would reach the target.")
            else:
                lines.append(f"Pace needed: **{plain(row['pace_needed'], measure, signed=True)}** a year "
                             "(a straight line from the baseline to the target).")
            words.markdown("\n\n".join(lines))
            if picture is not None:
                common.chart(progress_chart, targets.history(table, row["target_id"]), into=picture,
                             width="stretch")
                picture.caption("Dots: each ACS period's estimate with its 90% margin of error. Dashed line: the "
                                "straight path from the baseline to the target (diamond).")
            st.caption(f"Source of the target: {row['source']}")
    if len(table):
        with st.expander("Every comparison with the baseline (table and download)"):
            detail = targets.progress_table(table)
            st.dataframe(detail, hide_index=True, width="stretch",
                         column_config=tables.column_config(targets.PROGRESS_TABLE_COLUMNS))
            common.download_extract(detail, targets.PROGRESS_TABLE_COLUMNS, "progress-to-targets", key="progress-table")

# ---- community areas and wards against their part of the targets ------------------------------------------

with areas_section:
    st.header("Community areas and wards: their part of the targets")
    in_use = None if target_table is project_target_table else target_table
    citywide = queries.city_target_labels(data, in_use) if len(target_table) else {}
    if not citywide:
        st.info("The targets in use have no citywide target to split among community areas and wards.")
    else:
        controls = st.columns([1.2, 3.6])
        areas_geography = controls[0].radio("Areas", list(GAP_GEOGRAPHIES), format_func=GAP_GEOGRAPHIES.get,
                                            key="areas-geography", horizontal=True)
        first_target = str(next(iter(citywide)))
        seed("areas-target", int(common.url_choice("areas_target", [str(n) for n in citywide], first_target)))
        chosen_target = controls[1].selectbox("Citywide target", list(citywide), format_func=citywide.get,
                                              key="areas-target")
        common.set_url(areas=areas_geography, areas_target=chosen_target)
        area_word = GAP_GEOGRAPHIES[areas_geography].lower()
        goal = queries.citywide_target(data, chosen_target, in_use)
        counts = queries.area_status_counts(data, areas_geography, chosen_target, in_use)
        st.markdown(f"Each {area_word[:-1]}'s part of the target is its share of the citywide gap in the baseline "
                    f"period; its status follows the same rules as the city's. Of the {counts.sum()} {area_word}, "
                    f"**{counts[targets.ON_TRACK]} on track**, **{counts[targets.BEHIND]} behind**, "
                    f"**{counts[targets.CANNOT_TELL]} cannot tell yet**.")
        if len(data.years) < 2:
            change_view.one_period_notice(data, "change since the baseline")
        area_table, area_columns = queries.area_progress_table(data, areas_geography, in_use, chosen_target)
        st.dataframe(area_table, hide_index=True, width="stretch", key="areas-table",
                     column_config=tables.column_config(area_columns))
        common.download_extract(area_table, area_columns, f"{areas_geography}-part-of-target-{chosen_target}",
                                key="areas-table-download")

        st.subheader("Where the gap closed")
        earlier = int(goal["baseline_year"])
        if len(data.years) < 2:
            change_view.one_period_notice(data, "change to split among areas")
        elif earlier not in data.years or earlier >= data.latest_year:
            st.info(f"The target's baseline period ({common.period(earlier)}) is not loaded, or no later period is: "
                    f"add it with `python -m equity fetch --year {earlier}`.")
        else:
            later = data.latest_year
            city_moved = queries.city_change(data, goal["metric"], earlier, later)
            closed = queries.gap_closed(data, areas_geography, goal["metric"], earlier, later)
            label = metrics.METRICS[goal["metric"]].label
            moved = with_moe(city_moved["count_change"], city_moved["count_change_moe"], "count", signed=True)
            significance = "statistically significant" if city_moved["count_significant"] else "not significant"
            st.markdown(f"Citywide, the number of {label[0].lower()}{label[1:]} changed by **{moved}** from "
                        f"{common.period(earlier)} to {common.period(later)} ({significance} at the 90% level).")
            if not city_moved["count_significant"]:
                st.warning("The citywide change cannot be told from no change, so how it splits among areas is not "
                           "meaningful yet.", icon=":material/warning:")
            if closed.empty:
                st.info("The citywide count did not change, so there is nothing to split among areas.")
            else:
                half = int(closed["accounts_for_half"].sum())
                st.markdown(f"**{half} of {len(closed)} {area_word}** together account for half of the citywide "
                            "change; areas that moved against the city count negative.")
                caveat = change_view.overlap_caveat(city_moved)
                if caveat:
                    st.caption(caveat)
                closed_table, closed_columns = change.gap_closed_table(closed)
                st.dataframe(closed_table, hide_index=True, width="stretch", key="gap-closed-table",
                             column_config=tables.column_config(closed_columns))
                common.download_extract(closed_table, closed_columns,
                                        f"{goal['metric']}-{areas_geography}-{earlier}-{later}-where-the-gap-closed",
                                        key="gap-closed-download")

# ---- milestones -------------------------------------------------------------------------------------------

with milestones_section:
    st.header("Program milestones")
    st.write("Counts the ACS cannot measure, from the programs themselves, against their targets.")
    milestone_table = acp_sections.progress_section(data, milestone_table)
    if len(milestone_table):
        reached = (project_milestone_progress(milestones_version) if milestone_table is project_milestone_table
                   else targets.milestone_progress(milestone_table))
        for _, row in reached.iterrows():
            with st.container(border=True):
                label = f"**{row['name']}**"
                if row["illustrative"]:
                    label += "  :orange-badge[Illustrative values — replace with program data]"
                st.markdown(label)
                late = " — the target date has passed" if row["target_date_passed"] else ""
                st.progress(float(row["fraction"]),
                            text=f"{row['value']:,.0f} of {row['target']:,.0f} {row['unit']} "
                                 f"({row['fraction_uncapped'] * 100:.0f}%) as of {day(row['date'])}; "
                                 f"target date {day(row['target_date'])}{late}")
                reports = f" ({row['reports']} dated reports in the file; the latest is shown)" if row["reports"] > 1 else ""
                st.caption(f"Source: {row['source']}{reports}")

# ---- where the gap is ---------------------------------------------------------------------------------------

with gap_section:
    st.header("Where the gap is")
    controls = st.columns([1.2, 2.4, 1.4])
    gap_geography = controls[0].radio("Areas", list(GAP_GEOGRAPHIES), format_func=GAP_GEOGRAPHIES.get,
                                      key="gap-geography", horizontal=True)
    gap_metric = controls[1].selectbox("Measure", list(GAP_METRICS), format_func=GAP_METRICS.get, key="gap-metric")
    gap_year = int(controls[2].selectbox("ACS period", list(YEARS), format_func=YEARS.get, key="gap-year"))
    common.set_url(gap=gap_geography, gap_metric=gap_metric, gap_year=gap_year)

    gap, area_count, city = queries.gap(data, gap_geography, gap_metric, gap_year)
    area_word = GAP_GEOGRAPHIES[gap_geography].lower()
    if gap.empty:
        st.warning(f"No {area_word} has an estimate of this measure for {common.period(gap_year)}.")
    else:
        first_half = gap[gap["holds_first_half"]]
        last = first_half.iloc[-1]
        st.markdown(
            f"**{len(first_half)} of {area_count} {area_word}** together hold half of the city's "
            f"{with_moe(city['count'], city['count_moe'], 'count')} "
            f"{GAP_METRICS[gap_metric][0].lower()}{GAP_METRICS[gap_metric][1:]} ({common.period(gap_year)}): "
            f"{with_moe(last['cumulative_count'], last['cumulative_count_moe'], 'count')} households, "
            f"{last['cumulative_share'] * 100:.1f}% of the total.")
        if len(gap) < area_count:
            st.caption(f"{area_count - len(gap)} {area_word} have no published estimate and are left out.")
        common.chart(pareto_chart, gap, GAP_GEOGRAPHIES[gap_geography][:-1], width="stretch")
        st.caption("Bars: households in each area, most first, with their 90% margin of error; dark bars, left of "
                   "the dotted line, are the areas that together hold half. Line: the running share of the total "
                   "(right axis; the dashed line marks half). Areas whose error bars overlap cannot be told apart "
                   "statistically, so neighbouring ranks are approximate.")
        shown = compare.gap_table(gap)
        st.dataframe(shown, hide_index=True, width="stretch",
                     column_config=tables.column_config(compare.GAP_TABLE_COLUMNS))
        common.download_extract(shown, compare.GAP_TABLE_COLUMNS, f"{gap_metric}-{gap_geography}-{gap_year}-where-the-gap-is",
                                key="gap-table")
