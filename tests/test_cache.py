"""Cache behaviour: atomic builds, staleness, and clear messages for bad snapshot files."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import threading

import pandas as pd
import pytest

from equity import cache, config, pipeline
from equity.errors import CacheError, SnapshotError

ACS = "acs/R13395758_SL140.csv"
XWALK = "crosswalk/xwalk_tract2cca.csv"


@pytest.mark.slow  # builds whole caches: out of the quick lane (pytest.ini)
def test_a_crashed_build_leaves_the_previous_cache_in_use(snapshot_copy, tmp_path, monkeypatch):
    root = tmp_path / "cache"
    first = cache.build(snapshot_copy.path, root)
    snapshot_copy.replace(XWALK, snapshot_copy.read(XWALK) + b"\n")  # a new input -> stale

    def crash(*_args, **_kwargs):
        raise RuntimeError("killed midway")

    monkeypatch.setattr(pipeline.geography, "ward_crosswalk", crash)
    with pytest.raises(CacheError, match="killed midway"):
        cache.build(snapshot_copy.path, root)
    assert cache.current_build(root) == first
    assert not [p for p in (root / "builds").iterdir() if p.name.startswith(".building-")]
    assert (first / "metrics.parquet").exists()


@pytest.mark.slow  # builds whole caches: out of the quick lane (pytest.ini)
def test_a_changed_input_makes_the_cache_stale_and_it_rebuilds(snapshot_copy, tmp_path):
    root = tmp_path / "cache"
    first = cache.build(snapshot_copy.path, root)
    assert cache.build(snapshot_copy.path, root) == first
    snapshot_copy.replace(XWALK, snapshot_copy.read(XWALK) + b"\n")
    second = cache.build(snapshot_copy.path, root)
    assert second != first and cache.current_build(root) == second
    assert first.exists(), "the replaced build is kept for readers still using it"
    snapshot_copy.replace(XWALK, snapshot_copy.read(XWALK) + b"\n\n")
    third = cache.build(snapshot_copy.path, root)
    assert cache.current_build(root) == third and second.exists() and not first.exists()


@pytest.mark.slow  # builds whole caches: out of the quick lane (pytest.ini)
def test_two_builds_at_once_both_finish_on_one_complete_cache(snapshot_copy, tmp_path):
    root = tmp_path / "cache"
    results, errors = [], []

    def run():
        try:
            results.append(cache.build(snapshot_copy.path, root, force=True))
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    current = cache.current_build(root)
    assert current is not None and (current / "metrics.parquet").exists()
    areas = pd.read_parquet(current / "metrics.parquet").groupby("geography")["area_id"].nunique()
    assert areas["community_area"] == 77 and areas["ward"] == 50


@pytest.mark.parametrize("relative,content,expected", [
    (ACS, None, r"Snapshot file missing: .*R13395758_SL140\.csv"),
    (ACS, b"", r"empty or truncated"),
    (ACS, "Geo_FIPS,x\n".encode("utf-16"), r"Geo_FIPS|latin-1|truncated"),
    (XWALK, None, r"Snapshot file missing: .*xwalk_tract2cca\.csv"),
    (XWALK, b"tract,cca,hh\n17031010100,1,1\n", r"missing column\(s\) geoid_tract, cca_num, hh_pct"),
    ("geo/wards_2023.geojson", None, r"Snapshot file missing: .*wards_2023\.geojson"),
    ("geo/community_areas.geojson", b'{"type": "FeatureCollection", "features": [', r"community area"),
])
def test_bad_snapshot_files_get_a_message_naming_the_file(snapshot_copy, tmp_path, relative, content, expected):
    snapshot_copy.replace(relative, content)
    with pytest.raises(SnapshotError, match=expected):
        cache.build(snapshot_copy.path, tmp_path / "cache")
    assert cache.current_build(tmp_path / "cache") is None


def _edit_acs(snapshot_copy, edit) -> None:
    lines = snapshot_copy.read(ACS).decode("latin-1").splitlines(keepends=True)
    snapshot_copy.replace(ACS, "".join(edit(lines)).encode("latin-1"))


def test_a_renamed_estimate_column_is_named(snapshot_copy, tmp_path):
    _edit_acs(snapshot_copy, lambda lines: [lines[0], lines[1].replace("ACS21_5yr_B28002013s", "B28002013_se")]
              + lines[2:])
    with pytest.raises(SnapshotError, match="ACS21_5yr_B28002013s"):
        cache.build(snapshot_copy.path, tmp_path / "cache")


def test_a_non_numeric_cell_names_column_and_tract(snapshot_copy, tmp_path):
    def edit(lines):
        codes, cells = next(csv.reader([lines[1]])), next(csv.reader([lines[2]]))
        cells[codes.index("ACS21_5yr_B28002013")] = "n/a"
        out = io.StringIO()
        csv.writer(out, quoting=csv.QUOTE_ALL).writerow(cells)
        return lines[:2] + [out.getvalue()] + lines[3:]

    _edit_acs(snapshot_copy, edit)
    with pytest.raises(SnapshotError, match=r"ACS21_5yr_B28002013 has a non-numeric value 'n/a' for tract 17031010100"):
        cache.build(snapshot_copy.path, tmp_path / "cache")


def test_a_duplicate_tract_is_named(snapshot_copy, tmp_path):
    _edit_acs(snapshot_copy, lambda lines: lines + [lines[2]])
    with pytest.raises(SnapshotError, match="tract 17031010100 appears more than once"):
        cache.build(snapshot_copy.path, tmp_path / "cache")


def test_a_chicago_tract_missing_from_the_acs_file_is_named(snapshot_copy, tmp_path):
    _edit_acs(snapshot_copy, lambda lines: [l for l in lines if not l.startswith('"17031010100"')
                                            and not l.startswith("17031010100")])
    with pytest.raises(SnapshotError, match=r"no ACS estimates, e\.g\. 17031010100"):
        cache.build(snapshot_copy.path, tmp_path / "cache")


def test_cli_export_writes_the_city_row_and_bad_input_exits_with_one_line(tmp_path):
    env_cache = str(config.cache_dir())
    done = subprocess.run([sys.executable, "-m", "equity", "--cache", env_cache, "export", "--geography", "city",
                           "--year", "2021"], capture_output=True, cwd=config.REPO_ROOT, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    table = pd.read_csv(pd.io.common.BytesIO(done.stdout), encoding="utf-8-sig")
    assert "Households without an internet subscription" in set(table["Measure"])
    missing = subprocess.run([sys.executable, "-m", "equity", "--snapshot", str(tmp_path / "nowhere"),
                              "--cache", str(tmp_path / "c"), "build"], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
    assert "Snapshot directory not found" in missing.stderr and "Traceback" not in missing.stderr
    wrong_year = subprocess.run([sys.executable, "-m", "equity", "--cache", env_cache, "export", "--geography",
                                 "ward", "--year", "2015"], capture_output=True, text=True, timeout=120)
    assert wrong_year.returncode == 2 and "ACS year 2015 is not loaded" in wrong_year.stderr


@pytest.mark.parametrize("read", [lambda d: d.tract_estimates(), lambda d: d.library_table("sessions")],
                         ids=["tract estimates", "library sessions"])
def test_a_page_changing_a_shared_table_does_not_change_it_for_the_next_reader(data, read):
    """The loaded build is shared by every session; tables are read once and handed out as copies."""
    first = read(data)
    column, columns = first.columns[0], list(first.columns)
    before = read(data)[column].copy()
    first[column] = None
    del first[columns[-1]]  # changed in place: a column dropped
    again = read(data)
    assert len(again) == len(before) and list(again.columns) == columns
    pd.testing.assert_series_equal(again[column], before)
