"""Keeping the periods current: ``python -m equity update`` on recorded replies and a loopback API stand-in."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading

import pytest

from equity import cache, census_api, config, periods
from equity.errors import CensusAPIError

from .conftest import SNAPSHOT

# Fetches recorded periods and rebuilds whole caches: out of the quick lane (pytest.ini).
pytestmark = pytest.mark.slow

REPLAY = config.REPO_ROOT / "tests" / "fixtures" / "census_api"


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "equity", *args], capture_output=True, text=True,
                          cwd=config.REPO_ROOT, env={**os.environ, **(env or {})}, timeout=300)


def test_update_fetches_each_published_period_once_and_sets_aside_one_the_build_refuses(tmp_path):
    """The recorded replies publish 2015–2019 (seven tracts only: the build cannot carry it) and the
    synthetic 2019–2023. The first run adds 2019–2023 and keeps the cache building; the second fetches nothing new."""
    root = tmp_path / "cache"
    first = _cli("--cache", str(root), "update", env={"EQUITY_CENSUS_REPLAY": str(REPLAY)})
    assert first.returncode == 1  # a period failed, and the run says so
    assert "published with B28002: 2015–2019 ACS 5-year, 2019–2023 ACS 5-year" in first.stderr
    assert "fetched: 2019–2023 ACS 5-year" in first.stderr
    assert "failed: 2015–2019 ACS 5-year: fetched, but the build refused it" in first.stderr
    assert (root / "api" / "rejected" / "acs5_2019.parquet").exists()
    assert cache.load(SNAPSHOT, root).years == [2021, 2023]
    built = cache.current_build(root)

    second = _cli("--cache", str(root), "update", env={"EQUITY_CENSUS_REPLAY": str(REPLAY)})
    assert "fetched: none" in second.stderr and "skipped (already loaded): 2019–2023 ACS 5-year" in second.stderr
    assert cache.current_build(root) == built


class _FailingOn(census_api.ReplaySession):
    """Recorded replies, except that requests for one county fail as a dropped connection would."""

    def __init__(self, directory, county: str):
        super().__init__(directory)
        self.county = county
        self.asked: list[str] = []

    def get(self, url, params=None, **kwargs):
        where = str((params or {}).get("in", ""))
        if "variables" not in url:
            self.asked.append(where)
        if f"county:{self.county}" in where:
            raise census_api.requests.ConnectionError("connection dropped")
        return super().get(url, params, **kwargs)


def test_an_interrupted_update_keeps_what_arrived_and_the_next_run_fetches_only_the_rest(tmp_path):
    root = tmp_path / "cache"
    broken = _FailingOn(REPLAY, county="043")
    report = periods.update_periods(SNAPSHOT, root, session=broken, show_bar=False)
    assert 2023 in report.failed and "Could not reach the Census API" in report.failed[2023]
    kept = root / "api" / periods.PARTS_FOLDER / "2023-17031.parquet"
    assert kept.exists()  # Cook County had arrived

    again = _FailingOn(REPLAY, county="none")
    report = periods.update_periods(SNAPSHOT, root, session=again, show_bar=False)
    assert report.fetched == [2023]
    assert not any("county:031" in where for where in again.asked)  # not asked twice
    assert any("county:043" in where for where in again.asked)
    assert not kept.exists()
    assert 2023 in cache.load(SNAPSHOT, root).years


def test_update_without_a_key_says_how_to_set_one_before_asking_anything(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("CENSUS_API_KEY", "EQUITY_CENSUS_REPLAY")}
    done = subprocess.run([sys.executable, "-m", "equity", "--cache", str(tmp_path), "update"], capture_output=True,
                          text=True, cwd=config.REPO_ROOT, env=env, timeout=120)
    assert done.returncode == 2 and "No Census API key: set CENSUS_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr


class _BusyAPI(http.server.BaseHTTPRequestHandler):
    """Answers ``busy`` requests with the given status (and Retry-After: 0), then 200."""

    script: list[int] = []
    seen: list[str] = []

    def do_GET(self):
        _BusyAPI.seen.append(self.path)
        status = _BusyAPI.script.pop(0) if _BusyAPI.script else 200
        body = b'{"name": "B28002_001E"}' if status == 200 else b"error: busy"
        self.send_response(status)
        if status == 429:
            self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def busy_api():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BusyAPI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _BusyAPI.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("statuses", [[429, 429], [503], [500, 502, 504]])
def test_the_api_session_asks_again_when_the_api_is_busy(busy_api, statuses):
    _BusyAPI.script = list(statuses)
    reply = census_api.api_session(retries=3, backoff=0).get(f"{busy_api}/data/2023/acs/acs5")
    assert reply.status_code == 200 and len(_BusyAPI.seen) == len(statuses) + 1


def test_the_api_session_gives_the_last_busy_answer_after_its_retries(busy_api):
    _BusyAPI.script = [503] * 5
    reply = census_api.api_session(retries=2, backoff=0).get(f"{busy_api}/data/2023/acs/acs5")
    assert reply.status_code == 503 and len(_BusyAPI.seen) == 3


def test_published_periods_are_those_whose_b28002_the_api_defines():
    assert census_api.published_periods(census_api.ReplaySession(REPLAY)) == [2019, 2023]
    assert census_api.published_periods(census_api.ReplaySession(REPLAY), through=2022) == [2019]


def test_a_failed_question_about_a_period_names_the_status():
    class ServerError:
        headers: dict = {}

        def get(self, url, **_):
            return census_api.ReplayResponse(500, "internal error", url)

    with pytest.raises(CensusAPIError, match="HTTP 500 asking whether ACS 5-year 2017 is published"):
        census_api.published_periods(ServerError(), years=(2017,), through=2020)


def test_a_running_dashboard_shows_a_period_added_by_update_without_a_restart(tmp_path, monkeypatch):
    """The pages of a running server (one process: the shared st.cache_resource survives between these runs)
    pick up the build that ``update`` made on their next run."""
    from dashboard import common
    from tests.conftest import open_app_page

    monkeypatch.setenv("EQUITY_CACHE", str(tmp_path / "cache"))
    common.dashboard_data.clear()
    try:
        before = open_app_page("pages/map.py")
        assert before.selectbox(key="map-year").options == ["2017–2021 ACS 5-year"]
        periods.update_periods(SNAPSHOT, tmp_path / "cache", session=_FailingOn(REPLAY, county="none"),
                               show_bar=False)
        after = open_app_page("pages/map.py")
        assert "2019–2023 ACS 5-year" in after.selectbox(key="map-year").options
    finally:
        monkeypatch.undo()
        common.dashboard_data.clear()
