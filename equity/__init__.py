"""Chicago digital-equity library: ACS broadband data from raw files to extracts.

Data flows one way. Each module imports only modules listed above it (a test,
tests/test_architecture.py, keeps the library free of import cycles):

    errors, config, columns  error types; where files live; ``Column``, the
               key, label, meaning and formula of a downloadable table's column
    loaded     the loaded data: one build's tables in memory (``DashboardData``)
    sources    raw snapshot -> one tidy tract table (``census_api``: the same
               from the Census Data API); ``library_files``: the library
               branches and their computer sessions, branch names matched
    estimates  ACS handbook ch. 7-8 arithmetic with margins of error; the
               confidence interval; reliability labels and cut-offs
    geography  boundaries and crosswalks (tract -> community area, ward, city);
               ``apportion``; the columns naming an area
    metrics    what "unconnected", "no computer", ... mean, defined once; the
               columns of a table of figures
    exports    the writer: CSV / GeoJSON extracts, data dictionary, provenance;
               imports nothing above ``metrics``
    target_files   plan targets and milestones files (the project's own or
               an upload): read, checked row by row, written back
    maps, libraries, compare, targets   analyses: map classes, layers and
               symbols, library access, comparisons and rankings (where the
               gap is), progress against plan targets
    pipeline   the pure build: raw snapshot (and fetched periods) -> every
               table of a build
    cache      the store: fingerprint, lock, atomic writes; ``load`` gives a
               ``loaded.DashboardData``
    periods    ``update``: fetch and build every published ACS period not loaded
    queries    what a page (or the command line) asks of the loaded data,
               each answered once per build
    __main__   ``python -m equity build | fetch | update | export``

Above the library, ``dashboard/`` holds the pages' shared Streamlit helpers
and ``pages/`` the page scripts: they ask ``queries``, format and draw.

The tidy tract table (``sources.TRACT_COLUMNS``) has one row per tract, ACS
year and Census variable: ``tract`` (11-digit GEOID, str), ``year`` (int, last
year of the 5-year period), ``variable`` (e.g. ``"B28002_013"``), ``estimate``
(float, NaN when missing), ``moe`` (float, 90% margin of error, NaN when
missing) and ``note`` (str, why a value is missing; empty otherwise).

No module here imports Streamlit.
"""
