"""Build the derived-data cache from the raw snapshot, and load it.

Layout under the cache directory (git-ignored; see ``config.cache_dir``)::

    CURRENT                 name of the build in use (replaced atomically)
    builds/<fingerprint>/   one complete build: Parquet / GeoParquet + manifest.json
    api/acs5_<year>.parquet tract tables fetched from the Census API (inputs)
    .lock                   held while building, so two builds never interleave

A build is written to a temporary folder and renamed into place only when
complete; ``CURRENT`` is then swapped with ``os.replace``. A build killed
midway leaves the previous build in use. The fingerprint hashes the input
files' checksums and the library's own source, so a changed input or a
changed formula makes the cache stale and it is rebuilt on next use.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import geopandas as gpd
import pandas as pd

from . import config, geography, libraries, metrics, sources
from .errors import CacheError, EquityError, SnapshotError

Progress = Callable[[str], None]

SNAPSHOT_INPUTS = [sources.SOCIAL_EXPLORER_FILE, geography.COMMUNITY_AREAS_FILE, geography.WARDS_FILE,
                   geography.TRACTS_FILE, geography.BLOCK_GROUPS_FILE, geography.BLOCK_GROUP_HOUSEHOLDS_FILE,
                   *geography.TRACT_CROSSWALK_FILES.values(), *libraries.SNAPSHOT_FILES]

API_FOLDER = "api"


def _quiet(_: str) -> None:
    pass


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _code_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _input_files(snapshot: Path, cache_root: Path) -> dict[str, Path]:
    files = {str(rel): snapshot / rel for rel in SNAPSHOT_INPUTS}
    for path in sorted((cache_root / API_FOLDER).glob("acs5_*.parquet")):
        files[f"{API_FOLDER}/{path.name}"] = path
    return files


def _stat_key(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def input_checksums(snapshot: Path, cache_root: Path) -> dict[str, str]:
    """SHA-256 of every input file (snapshot files and fetched API years)."""
    out = {}
    for name, path in _input_files(snapshot, cache_root).items():
        if not path.exists():
            raise SnapshotError(f"Snapshot file missing: {path}. The snapshot directory is {snapshot} "
                                "(set EQUITY_SNAPSHOT or --snapshot to point elsewhere).")
        out[name] = _sha256(path)
    return out


def fingerprint(checksums: dict[str, str]) -> str:
    digest = hashlib.sha256(_code_digest().encode())
    for name in sorted(checksums):
        digest.update(f"{name}={checksums[name]}".encode())
    return digest.hexdigest()[:16]


@contextmanager
def _build_lock(cache_root: Path):
    cache_root.mkdir(parents=True, exist_ok=True)
    with (cache_root / ".lock").open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomic_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    """Write a Parquet file so that readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def api_year_path(cache_root: Path, year: int) -> Path:
    return cache_root / API_FOLDER / f"acs5_{year}.parquet"


def _tract_tables(snapshot: Path, cache_root: Path) -> tuple[pd.DataFrame, dict[int, str]]:
    tables = [sources.snapshot_tract_table(snapshot)]
    origin = {sources.SOCIAL_EXPLORER_YEAR: {"kind": "snapshot", "note": "raw snapshot"}}
    for path in sorted((cache_root / API_FOLDER).glob("acs5_*.parquet")):
        fetched = pd.read_parquet(path)
        table = sources.tidy(fetched)
        table = table[~table["year"].isin(origin)]
        for year in table["year"].unique():
            origin[int(year)] = fetched.attrs.get("source") or _live_api_source(int(year))
        tables.append(table)
    return pd.concat(tables, ignore_index=True), origin


def _live_api_source(year: int) -> dict[str, str]:
    """``census_api.reply_source`` for the live API (imported here only when needed: the app never fetches)."""
    from .census_api import reply_source

    return reply_source(None, year)


def build(snapshot: Path | None = None, cache_root: Path | None = None, progress: Progress = _quiet,
          force: bool = False) -> Path:
    """Build the cache if it is missing or stale; return the folder of the build in use."""
    snapshot = config.snapshot_dir(snapshot)
    cache_root = config.cache_dir(cache_root)
    if not snapshot.is_dir():
        raise SnapshotError(f"Snapshot directory not found: {snapshot}. Point EQUITY_SNAPSHOT or "
                            "--snapshot at the folder holding acs/, geo/ and crosswalk/.")
    with _build_lock(cache_root):
        checksums = input_checksums(snapshot, cache_root)
        name = fingerprint(checksums)
        final = cache_root / "builds" / name
        if final.is_dir() and not force and current_build(cache_root) == final:
            progress(f"cache is up to date ({final})")
            return final
        (cache_root / "builds").mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=cache_root / "builds", prefix=".building-"))
        try:
            _build_into(work, snapshot, cache_root, checksums, progress)
            if final.exists():
                shutil.rmtree(final)
            os.rename(work, final)
        except EquityError:
            shutil.rmtree(work, ignore_errors=True)
            raise
        except Exception as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise CacheError(f"Building the cache failed: {type(exc).__name__}: {exc}") from exc
        _write_atomic_text(cache_root / "CURRENT", name)
        _remove_old_builds(cache_root, keep=name)
        progress(f"cache ready ({final})")
        return final


def _remove_old_builds(cache_root: Path, keep: str) -> None:
    """Delete superseded builds, but keep the one just replaced.

    A running app (or test session) may still read boundaries or tract
    tables on demand from the build it loaded; keeping the previous build
    lets it finish before its next load picks up the new one.
    """
    builds = [p for p in (cache_root / "builds").iterdir()
              if p.name != keep and not p.name.startswith(".building-")]
    builds.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for path in builds[1:]:
        shutil.rmtree(path, ignore_errors=True)


def current_build(cache_root: Path) -> Path | None:
    pointer = cache_root / "CURRENT"
    if not pointer.exists():
        return None
    path = cache_root / "builds" / pointer.read_text().strip()
    return path if (path / "manifest.json").exists() else None


def _build_into(work: Path, snapshot: Path, cache_root: Path, checksums: dict[str, str],
                progress: Progress) -> None:
    steps = 7
    started = time.perf_counter()

    def step(number: int, message: str) -> None:
        progress(f"[{number}/{steps}] {message} ({time.perf_counter() - started:.1f} s)")

    step(1, "reading ACS tract tables")
    tract_table, origin = _tract_tables(snapshot, cache_root)
    context = sources.snapshot_context_table(snapshot)

    step(2, "reading boundaries")
    areas = {"community_area": geography.read_community_areas(snapshot),
             "ward": geography.read_wards(snapshot)}
    community_xwalk = {v: geography.read_community_area_crosswalk(snapshot, v) for v in (2020, 2010)}
    areas["tract"] = geography.chicago_tracts(geography.read_tracts(snapshot), community_xwalk[2020])
    block_groups = geography.read_block_groups(snapshot)

    step(3, "building the tract to ward crosswalk from block-group households")
    ward_xwalk = geography.ward_crosswalk(block_groups, areas["ward"])
    overlap = geography.ward_community_area_overlap(block_groups, areas["ward"], areas["community_area"])

    step(4, "carrying estimates to community areas, wards and the city")
    crosswalks, coverage = _crosswalks_by_vintage(community_xwalk, ward_xwalk, tract_table)
    names = {g: frame.set_index("area_id")["area_name"] for g, frame in areas.items()}
    names["city"] = pd.Series({geography.CITY_ID: geography.CITY_NAME})
    metric_frames, context_frames = [], []
    for year in sorted(tract_table["year"].unique()):
        vintage = geography.tract_vintage(int(year))
        year_table = tract_table[tract_table["year"] == year]
        for geo in geography.GEOGRAPHIES:
            xwalk = crosswalks[(vintage, geo)]
            geography.check_coverage(year_table, xwalk, f"{geography.GEOGRAPHY_LABELS[geo].lower()} ({vintage} tracts)")
            frame = metrics.compute_metrics(geography.apportion(year_table, xwalk))
            frame.insert(0, "geography", geo)
            metric_frames.append(frame)
    for geo in geography.GEOGRAPHIES:
        xwalk = crosswalks[(2020, geo)]
        joined = context.merge(xwalk, on="tract")
        counts = joined.drop(columns=["tract", "target", "weight"] + (["method"] if "method" in joined else []))
        summed = counts.mul(joined["weight"], axis=0).groupby(joined["target"]).sum().reset_index()
        frame = metrics.compute_context(summed)
        frame.insert(0, "geography", geo)
        context_frames.append(frame)
    all_metrics = pd.concat(metric_frames, ignore_index=True)
    all_metrics["area_name"] = [names[g].get(a, a) for g, a in zip(all_metrics["geography"], all_metrics["area_id"])]
    all_metrics["period"] = all_metrics["year"].map(metrics.period_label)
    all_metrics["source"] = all_metrics["year"].map({year: source["kind"] for year, source in origin.items()})

    step(5, "writing tables")
    all_metrics.to_parquet(work / "metrics.parquet", index=False)
    pd.concat(context_frames, ignore_index=True).to_parquet(work / "context.parquet", index=False)
    tract_table.to_parquet(work / "tract_estimates.parquet", index=False)
    xwalk_rows = [frame.assign(vintage=v, geography=g) for (v, g), frame in crosswalks.items()]
    pd.concat(xwalk_rows, ignore_index=True).to_parquet(work / "crosswalks.parquet", index=False)
    overlap.to_parquet(work / "ward_community_areas.parquet", index=False)
    for name, frame in libraries.dashboard_tables(snapshot, areas, block_groups, all_metrics).items():
        frame.to_parquet(work / f"libraries_{name}.parquet", index=False)

    step(6, "writing boundaries (full and simplified for the browser)")
    for geo, frame in areas.items():
        frame.to_parquet(work / f"boundaries_{geo}.parquet", index=False)
        geography.simplify_for_web(frame, geography.WEB_TOLERANCE_FEET[geo]).to_parquet(
            work / f"boundaries_{geo}_web.parquet", index=False)

    step(7, "writing manifest")
    manifest = {
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "snapshot": str(snapshot),
        "input_sha256": checksums,
        "years": {str(y): {"period": metrics.period_label(y), "source": origin[y]["kind"],
                           "source_note": origin[y]["note"], "tract_vintage": geography.tract_vintage(y)}
                  for y in sorted(origin)},
        "ward_crosswalk": {"method": "block-group households split by land-area share, EPSG:3435",
                           "tracts_household_weighted": int((ward_xwalk["method"] == "households").sum()),
                           "tracts_area_weighted": int((ward_xwalk["method"] == "area").sum())},
        "coverage": coverage,
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2))


def _crosswalks_by_vintage(community_xwalk: dict[int, pd.DataFrame], ward_xwalk: pd.DataFrame,
                           tract_table: pd.DataFrame) -> tuple[dict, dict]:
    """Crosswalks per (tract vintage, geography), and notes on what 2010-tract years miss.

    Wards have a 2020-tract crosswalk only (no 2010 tract boundaries in the
    snapshot): for periods on 2010 tracts, tracts whose GEOID is unchanged
    keep their 2020 ward shares; the households of changed tracts are left
    out and the share left out is recorded in ``coverage``.
    """
    crosswalks, coverage = {}, {}
    for vintage, cca in community_xwalk.items():
        crosswalks[(vintage, "community_area")] = cca
        crosswalks[(vintage, "city")] = geography.city_crosswalk(cca)
        crosswalks[(vintage, "tract")] = geography.tract_crosswalk(cca)
    crosswalks[(2020, "ward")] = ward_xwalk
    kept = ward_xwalk[ward_xwalk["tract"].isin(set(community_xwalk[2010]["tract"]))]
    crosswalks[(2010, "ward")] = kept
    households = tract_table[tract_table["variable"] == metrics.HOUSEHOLDS_B28002]
    city_weights = crosswalks[(2010, "city")].set_index("tract")["weight"]
    for year in sorted(households["year"].unique()):
        if geography.tract_vintage(int(year)) == 2010:
            hh = households[households["year"] == year].set_index("tract")["estimate"]
            total = (city_weights * hh).sum()
            covered = (kept.groupby("tract")["weight"].sum() * hh).sum()
            coverage[str(year)] = {"ward_household_coverage": round(float(covered / total), 4) if total else None}
    return crosswalks, coverage


@dataclass
class DashboardData:
    """A loaded build: tables in memory, boundaries read on demand."""

    folder: Path
    manifest: dict
    metrics: pd.DataFrame
    context: pd.DataFrame
    crosswalks: pd.DataFrame
    ward_community_areas: pd.DataFrame
    _boundaries: dict = field(default_factory=dict, repr=False)
    _tables: dict = field(default_factory=dict, repr=False)
    answers: dict = field(default_factory=dict, repr=False)
    """Answers of ``queries`` about this build, each computed once (see ``queries._once``)."""

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.metrics["year"].unique())

    @property
    def latest_year(self) -> int:
        return self.years[-1]

    def boundaries(self, geography_name: str, web: bool = True) -> gpd.GeoDataFrame:
        """Boundaries for a geography: simplified WGS84 for the browser, or full resolution."""
        key = (geography_name, web)
        if key not in self._boundaries:
            suffix = "_web" if web else ""
            self._boundaries[key] = gpd.read_parquet(self.folder / f"boundaries_{geography_name}{suffix}.parquet")
        return self._boundaries[key]

    def tract_estimates(self) -> pd.DataFrame:
        return self._table("tract_estimates")

    def library_table(self, name: str) -> pd.DataFrame:
        """A library table of the build (``libraries.dashboard_tables``): branches, sessions,
        unmatched, access, surrounding_tracts or surrounding_need."""
        return self._table(f"libraries_{name}")

    def _table(self, stem: str) -> pd.DataFrame:
        """A table of the build, read from disk once and then served from memory.

        The loaded build is shared by every session of the app, so each caller gets
        a shallow copy: under pandas' copy-on-write a caller changing its copy never
        changes what the next caller reads, and no data is copied unless it does.
        """
        if stem not in self._tables:
            self._tables[stem] = pd.read_parquet(self.folder / f"{stem}.parquet")
        return self._tables[stem].copy(deep=False)


def load(snapshot: Path | None = None, cache_root: Path | None = None, progress: Progress = _quiet) -> DashboardData:
    """Load the cache, building it first if it is missing or stale."""
    folder = build(snapshot, cache_root, progress)
    try:
        return DashboardData(
            folder=folder,
            manifest=json.loads((folder / "manifest.json").read_text()),
            metrics=pd.read_parquet(folder / "metrics.parquet"),
            context=pd.read_parquet(folder / "context.parquet"),
            crosswalks=pd.read_parquet(folder / "crosswalks.parquet"),
            ward_community_areas=pd.read_parquet(folder / "ward_community_areas.parquet"),
        )
    except (OSError, ValueError) as exc:
        raise CacheError(f"The cache at {folder} could not be read ({exc}); run `python -m equity build --force`.") from exc
