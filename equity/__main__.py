"""Command line: ``python -m equity build | fetch | update | export``.

Errors a person can fix are printed as one clear line and exit with status 2;
no traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import cache, config, geography, metrics, program_queries, queries
from .errors import EquityError


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m equity", description="Chicago digital-equity data pipeline")
    parser.add_argument("--snapshot", help="raw snapshot folder (default: EQUITY_SNAPSHOT or ../shared/data)")
    parser.add_argument("--cache", help="cache folder (default: EQUITY_CACHE or <repo>/.cache)")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="turn the raw snapshot into the cache")
    build.add_argument("--force", action="store_true", help="rebuild even if the cache is up to date")

    fetch = commands.add_parser("fetch", help="add an ACS 5-year period from the Census API (needs CENSUS_API_KEY)")
    fetch.add_argument("--year", type=int, required=True, help="last year of the 5-year period, e.g. 2023")

    update = commands.add_parser(
        "update", help="fetch every published ACS 5-year period not loaded yet (needs CENSUS_API_KEY), then "
        "rebuild; safe to run on a schedule and to interrupt")
    update.add_argument("--no-progress", action="store_true", help="no progress bar (it shows only on a terminal)")

    export = commands.add_parser("export", help="write a table of every measure with MOEs")
    export.add_argument("--geography", choices=geography.GEOGRAPHIES, required=True)
    export.add_argument("--year", type=int, action="append",
                        help="last year of the ACS period (repeatable; default: latest loaded)")
    export.add_argument("--metric", action="append", choices=list(metrics.METRICS),
                        help="measure to include (repeatable; default: all)")
    export.add_argument("--combine", metavar="IDS",
                        help="comma-separated area ids of --geography to combine into one custom area, e.g. 1,2,77")
    export.add_argument("--change-from", type=int, metavar="YEAR",
                        help="write the change from the ACS period ending in YEAR to the latest --year (default: "
                        "latest loaded) instead: both periods, the difference, its MOE, significance, overlap")
    export.add_argument("--format", choices=["csv", "geojson"], default="csv")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.add_argument("--dictionary", help="also write the data dictionary CSV here")
    export.add_argument("--acp", action="store_true",
                        help="the Affordable Connectivity Program's enrollment at every release instead (city, "
                             "community_area or ward; CSV)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    snapshot = config.snapshot_dir(args.snapshot)
    cache_root = config.cache_dir(args.cache)
    try:
        if args.command == "build":
            started = time.perf_counter()
            cache.build(snapshot, cache_root, _progress, force=args.force)
            _progress(f"done in {time.perf_counter() - started:.1f} s")
        elif args.command == "fetch":
            from . import census_api

            table = census_api.fetch_acs_tracts(args.year)
            cache.write_parquet_atomic(table, cache.api_year_path(cache_root, args.year))
            _progress(f"fetched {table['tract'].nunique()} tracts for {metrics.period_label(args.year)}")
            cache.build(snapshot, cache_root, _progress)
        elif args.command == "update":
            from . import periods

            report = periods.update_periods(snapshot, cache_root, progress=_progress,
                                            show_bar=False if args.no_progress else None)
            for line in report.lines():
                _progress(line)
            if report.failed:
                return 1
        else:
            data = cache.load(snapshot, cache_root, _progress)
            if args.acp:
                return _export_acp(data, args)
            combine = args.combine.split(",") if args.combine is not None else None
            if args.change_from is not None:
                if combine is not None:
                    raise ValueError("--change-from and --combine cannot be used together")
                later = max(args.year) if args.year else None

                def write(fmt: str) -> bytes:
                    return queries.change_bytes(data, args.geography, args.change_from, later, args.metric, fmt)
            else:
                def write(fmt: str) -> bytes:
                    return queries.export_bytes(data, args.geography, args.year, args.metric, fmt, combine)
            _write_export(write, args)
    except (EquityError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _export_acp(data, args) -> int:
    """``export --acp``: the ACP table of a geography, every release (measures and periods do not apply)."""
    ignored = [name for name, given in (("--year", args.year), ("--metric", args.metric), ("--combine", args.combine))
               if given]
    if ignored or args.format != "csv":
        raise ValueError(f"--acp writes every ACP release as CSV; drop {', '.join(ignored) or '--format'}")
    _write_export(lambda fmt: program_queries.export_bytes(data, args.geography, fmt), args)
    return 0


def _write_export(write, args) -> None:
    """``write(format)``'s bytes to ``--output`` (or standard output), and its dictionary to ``--dictionary``."""
    payload = write(args.format)
    if args.output:
        Path(args.output).write_bytes(payload)
        _progress(f"wrote {args.output}")
    else:
        sys.stdout.buffer.write(payload)
    if args.dictionary:
        Path(args.dictionary).write_bytes(write("dictionary"))


if __name__ == "__main__":
    sys.exit(main())
