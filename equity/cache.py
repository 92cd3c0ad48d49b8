"""The store: the derived-data cache on disk (fingerprint, lock, atomic writes) and loading it.

``build`` makes the tables with ``pipeline.make_tables`` (the pure build) and
stores them; ``load`` gives back a ``loaded.DashboardData``.

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
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from . import config, pipeline
from .errors import CacheError, EquityError, SnapshotError
from .loaded import DashboardData

Progress = pipeline.Progress

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
    files = {str(rel): snapshot / rel for rel in pipeline.snapshot_inputs(snapshot)}
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
    started = time.perf_counter()
    tables, facts = pipeline.make_tables(snapshot, sorted((cache_root / API_FOLDER).glob("acs5_*.parquet")), progress)
    progress(f"[{pipeline.STEPS + 1}/{pipeline.STEPS + 2}] writing tables ({time.perf_counter() - started:.1f} s)")
    for name, frame in tables.items():
        frame.to_parquet(work / f"{name}.parquet", index=False)
    progress(f"[{pipeline.STEPS + 2}/{pipeline.STEPS + 2}] writing manifest ({time.perf_counter() - started:.1f} s)")
    manifest = {
        "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "snapshot": str(snapshot),
        "input_sha256": checksums,
        **facts,
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    (work / "manifest.json").write_text(json.dumps(manifest, indent=2))


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
