"""Keeping the ACS periods current: fetch every published period not loaded yet, then rebuild.

``python -m equity update`` runs :func:`update_periods`. The Census Bureau
releases an ACS 5-year period each December; run it then (deploy/ has a
systemd timer and a Kubernetes CronJob that do) and every running page picks
up the new build on its next run.

What makes it safe to run unattended:
- it asks the API which periods carry B28002 (``census_api.published_periods``)
  and fetches only those not in the cache, so a second run fetches nothing;
- busy answers (429, 5xx) are retried with back-off (``census_api.api_session``);
- each county's table is kept as soon as it arrives and each finished period
  is written atomically, so an interrupted run loses nothing it had fetched and
  the next run goes on from there;
- one period failing does not stop the others; the report names it.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from . import cache, census_api, config
from .errors import CensusAPIError, EquityError
from .metrics import period_label

PARTS_FOLDER = "partial"
REJECTED_FOLDER = "rejected"


@dataclass
class UpdateReport:
    """What an update found, fetched and skipped (periods by their last year)."""

    found: list[int] = field(default_factory=list)
    fetched: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        def named(years):
            return ", ".join(period_label(year) for year in years) or "none"

        lines = [f"published with B28002: {named(self.found)}",
                 f"fetched: {named(self.fetched)}",
                 f"skipped (already loaded): {named(self.skipped)}"]
        lines += [f"failed: {period_label(year)}: {reason}" for year, reason in self.failed.items()]
        return lines


def loaded_periods(cache_root: Path) -> set[int]:
    """Periods in the build in use (the snapshot's and every fetched one)."""
    folder = cache.current_build(cache_root)
    if folder is None:
        return set()
    return {int(year) for year in json.loads((folder / "manifest.json").read_text())["years"]}


def update_periods(snapshot: Path | None = None, cache_root: Path | None = None, session=None,
                   api_key: str | None = None, progress=None, show_bar: bool | None = None) -> UpdateReport:
    """Fetch every published ACS 5-year period that is not loaded yet, then rebuild the cache once.

    ``session`` as in :func:`census_api.fetch_acs_tracts` (default: the live API with retries, or
    recorded replies under ``EQUITY_CENSUS_REPLAY``). ``show_bar``: a progress bar on standard
    error (default: only when it is a terminal)."""
    progress = progress or (lambda message: None)
    snapshot = config.snapshot_dir(snapshot)
    cache_root = config.cache_dir(cache_root)
    session = session if session is not None else census_api.default_session()
    census_api.require_key(api_key, session)
    cache.build(snapshot, cache_root, progress)
    loaded = loaded_periods(cache_root)
    report = UpdateReport(found=census_api.published_periods(session))
    report.skipped = [year for year in report.found if year in loaded]
    wanted = [year for year in report.found if year not in loaded]
    parts = cache_root / cache.API_FOLDER / PARTS_FOLDER
    with tqdm(total=len(wanted) * len(census_api.COUNTIES), unit="county", file=sys.stderr,
              disable=None if show_bar is None else not show_bar, desc="fetching ACS periods") as bar:
        for year in wanted:
            bar.set_postfix_str(period_label(year))
            try:
                table = census_api.fetch_acs_tracts(year, api_key, session, parts=parts,
                                                    on_county=lambda _: bar.update())
            except CensusAPIError as error:
                report.failed[year] = str(error)
                continue
            for kept in parts.glob(f"{year}-*.parquet"):
                kept.unlink()
            problem = _add_period(table, year, snapshot, cache_root, progress)
            if problem:
                report.failed[year] = problem
            else:
                report.fetched.append(year)
    if parts.is_dir() and not any(parts.iterdir()):
        shutil.rmtree(parts)
    return report


def _add_period(table, year: int, snapshot: Path, cache_root: Path, progress) -> str | None:
    """Put a fetched period into the cache and rebuild; None, or why it could not be built.

    A period the build refuses (tracts it cannot carry, say) is moved to ``api/rejected/`` for a
    person to look at, so the cache keeps building with the periods it had."""
    target = cache.api_year_path(cache_root, year)
    cache.write_parquet_atomic(table, target)
    try:
        cache.build(snapshot, cache_root, progress)
    except EquityError as error:
        rejected = target.parent / REJECTED_FOLDER / target.name
        rejected.parent.mkdir(parents=True, exist_ok=True)
        target.replace(rejected)
        return f"fetched, but the build refused it ({error}); kept in {rejected}"
    return None
