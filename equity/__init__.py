"""Chicago digital-equity library: ACS broadband data from raw files to extracts.

Data flows one way:

    sources    raw snapshot / Census API  -> one tidy tract table
    geography  boundaries and crosswalks  (tract -> community area, ward)
    estimates  ACS handbook ch. 8 arithmetic with margins of error
    metrics    what "unconnected", "no computer", ... mean, defined once
    targets    plan targets and progress against them
    exports    CSV / GeoJSON extracts with a data dictionary

The tidy tract table (``sources.TRACT_COLUMNS``) has one row per tract, ACS
year and Census variable: ``tract`` (11-digit GEOID, str), ``year`` (int, last
year of the 5-year period), ``variable`` (e.g. ``"B28002_013"``), ``estimate``
(float, NaN when missing), ``moe`` (float, 90% margin of error, NaN when
missing) and ``note`` (str, why a value is missing; empty otherwise).

No module here imports Streamlit.
"""
