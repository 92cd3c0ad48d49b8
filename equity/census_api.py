"""ACS 5-year broadband tables for Cook and DuPage tracts from the Census API.

``fetch_acs_tracts(year)`` asks the Census Data API (through the ``census``
package) for tables B28002, B28003 and B28011 and returns the project's tidy
tract table (see ``equity`` docstring): one row per tract, year and variable.

The API reports values it cannot give as negative annotation codes
(-666666666 and friends). Each is turned into NaN, or into 0 for a margin of
error the Census Bureau says "may be treated as zero", with a ``note`` saying
why, following "Notes on ACS Estimate and Annotation Values":
https://www.census.gov/data/developers/data-sets/acs-1year/notes-on-acs-estimate-and-annotation-values.html

Offline replay: with ``EQUITY_CENSUS_REPLAY=<dir>`` set (or a
``ReplaySession`` passed as ``session``), requests are answered from reply
files recorded in ``<dir>`` instead of the network, and no API key is needed.
This is for tests and offline demos; the layout is described in
``ReplaySession``.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import census
import numpy as np
import pandas as pd
import requests
from census.core import ACS5Client, APIKeyError, CensusException
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .errors import CensusAPIError
from .sources import BROADBAND_VARIABLES, TRACT_COLUMNS

API_FIELDS = [f"{variable}{suffix}" for variable in BROADBAND_VARIABLES for suffix in ("E", "M")]

# 2013-2017 is the first ACS 5-year release with the computer and internet tables.
FIRST_YEAR = 2017
SERVED_YEARS = tuple(sorted(year for year in ACS5Client.years if year >= FIRST_YEAR))

STATE = "17"
COUNTIES = {"031": "Cook", "043": "DuPage"}

KEY_ENV = "CENSUS_API_KEY"
REPLAY_ENV = "EQUITY_CENSUS_REPLAY"
#: A file in ``<replay dir>/<year>/`` that marks the recorded replies as made-up data.
SYNTHETIC_MARKER = "NOT_CENSUS_DATA.txt"
TIMEOUT_SECONDS = 60
#: The API's answers when it is busy or briefly down: asked again with exponential back-off.
RETRY_STATUSES = (429, 500, 502, 503, 504)
RETRIES = 5
BACKOFF_SECONDS = 2.0
#: The variable whose definition says a period is published.
PROBE_VARIABLE = "B28002_001E"

# The API appends the geography it was asked for to every row.
_GEOGRAPHY_FIELDS = ["state", "county", "tract"]

# Census annotation codes and what they mean, per the Census Bureau's notes.
# Estimates and MOEs share some codes; -555555555 is an MOE of zero.
_CODE_MEANINGS = {
    -666666666: "could not be computed: too few sample observations",
    -999999999: "cannot be displayed: too few sample cases in this tract",
    -888888888: "is not applicable or not available",
    -222222222: "could not be computed: too few sample observations",
    -333333333: "could not be computed: the median falls in an open-ended interval",
    -555555555: ("is 0: the estimate is controlled to an independent population or "
                 "housing estimate, so it has no sampling error"),
}
_ESTIMATE_CODES = (-666666666, -999999999, -888888888)
_MOE_CODES = (-999999999, -888888888, -222222222, -333333333, -555555555)
_MOE_ZERO_CODE = -555555555


def fetch_acs_tracts(year: int, api_key: str | None = None, session=None, parts: Path | None = None,
                     on_county=None) -> pd.DataFrame:
    """Broadband tables for every Cook and DuPage tract from the ACS 5-year ending in ``year``.

    The key comes from ``api_key`` or ``CENSUS_API_KEY``. ``session`` is any
    object with ``requests.Session``'s ``get`` and ``headers``; by default
    :func:`api_session` (timeout, retries with back-off), or a ``ReplaySession`` on the
    directory in ``EQUITY_CENSUS_REPLAY``. Every failure is a
    ``CensusAPIError`` naming the cause; the key never appears in it.

    ``parts``: a folder where each county's table is kept as soon as it has
    arrived (an atomic Parquet write) and taken from on the next try, so an
    interrupted fetch loses nothing it had received. ``on_county(name)`` is
    called after each county (a progress bar's tick).
    """
    if isinstance(year, bool) or not isinstance(year, int) or year not in SERVED_YEARS:
        raise CensusAPIError(
            f"ACS 5-year year {year!r} is not available from the Census API: the broadband "
            f"tables are served for {SERVED_YEARS[0]}–{SERVED_YEARS[-1]} (year = last year of "
            f"the 5-year period; {FIRST_YEAR} means 2013–{FIRST_YEAR}).")
    session = session if session is not None else default_session()
    key = require_key(api_key, session)

    log = _ReplyLog(session)
    # The census package insists on a key; recorded replies do not check it.
    client = census.Census(key or "replay-needs-no-key", session=log)
    tables = []
    for county, county_name in COUNTIES.items():
        where = f"{county_name} County ({STATE}{county}), ACS 5-year {year}"
        kept = parts / f"{year}-{STATE}{county}.parquet" if parts is not None else None
        if kept is not None and kept.exists():
            tables.append(pd.read_parquet(kept))
            if on_county:
                on_county(county_name)
            continue
        try:
            rows = client.acs5.state_county_tract(API_FIELDS, STATE, county, census.Census.ALL, year=year)
        except CensusAPIError:
            raise
        except APIKeyError:
            raise CensusAPIError(
                f"The Census API refused the API key (reply: 'Invalid Key') for {where}"
                f"{log.describe_request(key)}. Check "
                f"{KEY_ENV}: keys must be activated from the e-mail the Census Bureau sends.") from None
        except requests.Timeout:
            raise CensusAPIError(
                f"The Census API did not answer within {TIMEOUT_SECONDS} s for {where}"
                f"{log.describe_request(key)}. Try again later.") from None
        except requests.RequestException as error:
            raise CensusAPIError(
                f"Could not reach the Census API for {where}{log.describe_request(key)}: "
                f"{_scrub(type(error).__name__, key)}. Check the internet connection.") from None
        except CensusException:
            raise CensusAPIError(log.describe_failure(where, key)) from None
        except IndexError:
            raise CensusAPIError(
                f"The Census API sent an empty list for {where}{log.describe_request(key)}: "
                "expected a header row of column names, then one row per tract.") from None
        except ValueError:
            raise CensusAPIError(log.describe_unreadable(where, key)) from None
        county_table = tidy_tract_rows(rows, year, where)
        if kept is not None:
            _write_atomic(county_table, kept)
        tables.append(county_table)
        if on_county:
            on_county(county_name)
    table = pd.concat(tables, ignore_index=True).sort_values(["tract", "variable"], ignore_index=True)
    table.attrs["source"] = reply_source(session, year)
    return table


def require_key(api_key: str | None, session) -> str:
    """The API key (``api_key`` or ``CENSUS_API_KEY``); recorded replies need none. CensusAPIError if missing."""
    key = (api_key or os.environ.get(KEY_ENV) or "").strip()
    if not key and not isinstance(session, ReplaySession):
        raise CensusAPIError(
            f"No Census API key: set {KEY_ENV} in the environment (or pass api_key). "
            "Keys are free at https://api.census.gov/data/key_signup.html.")
    return key


def reply_source(session, year: int) -> dict[str, str]:
    """Where a fetched year came from, kept with the table (``attrs['source']``, saved in its Parquet file).

    ``kind`` is ``census_api`` for the live API, ``recorded_replies`` for a
    ``ReplaySession``, or ``synthetic`` when the replay directory marks that
    year as made-up data with a ``<year>/NOT_CENSUS_DATA.txt`` file (whose
    first line is the ``note``). The app and every extract say so. A table
    with no recorded source (written before sources were kept) is taken as the
    live API's: ``reply_source(None, year)``.
    """
    if not isinstance(session, ReplaySession):
        return {"kind": "census_api",
                "note": f"Census Data API, ACS 5-year {year} (api.census.gov/data/{year}/acs/acs5)"}
    marker = session.directory / str(year) / SYNTHETIC_MARKER
    if marker.is_file():
        first = marker.read_text(encoding="utf-8").strip().splitlines()
        return {"kind": "synthetic", "note": first[0] if first else "synthetic data, not from the Census Bureau"}
    return {"kind": "recorded_replies", "note": f"recorded Census API replies in {session.directory}"}


def tidy_tract_rows(rows: list[dict], year: int, where: str = "the Census API reply") -> pd.DataFrame:
    """The tidy tract table from the census package's merged rows (one dict per tract)."""
    if not rows:
        raise CensusAPIError(f"The Census API returned no tracts for {where}.")
    reply = pd.DataFrame(rows)
    missing = [column for column in API_FIELDS + _GEOGRAPHY_FIELDS if column not in reply.columns]
    if missing:
        raise CensusAPIError(
            f"The Census API reply for {where} lacks requested column(s) {', '.join(missing)}.")
    tract = reply["state"].astype(str) + reply["county"].astype(str) + reply["tract"].astype(str)
    bad = tract[~tract.str.fullmatch(r"\d{11}")]
    if not bad.empty:
        raise CensusAPIError(
            f"The Census API reply for {where} has tract id(s) {', '.join(bad.head(3))}; "
            "expected 11 digits (state + county + tract).")
    tables = []
    for variable in BROADBAND_VARIABLES:
        values = decode_annotation_values(reply[f"{variable}E"], reply[f"{variable}M"])
        values.insert(0, "variable", variable)
        values.insert(0, "year", year)
        values.insert(0, "tract", tract.to_numpy())
        tables.append(values)
    return pd.concat(tables, ignore_index=True)[TRACT_COLUMNS]


def decode_annotation_values(estimate: pd.Series, moe: pd.Series) -> pd.DataFrame:
    """Estimates and MOEs as floats, Census annotation codes replaced and explained.

    Follows the Census Bureau's "Notes on ACS Estimate and Annotation Values":
    -666666666, -999999999 and -888888888 in an estimate, and -999999999,
    -888888888, -222222222 and -333333333 in an MOE, mean no usable number
    (NaN). -555555555 in an MOE means the estimate is controlled and "the
    margin of error may be treated as zero" (0). A null means no data for the
    geography. Any other negative value is an unknown code, never a count.

    >>> decoded = decode_annotation_values(pd.Series(["0", "-666666666", "2996"]),
    ...                                    pd.Series(["12", "-222222222", "-555555555"]))
    >>> decoded[["estimate", "moe"]].to_numpy().tolist()
    [[0.0, 12.0], [nan, nan], [2996.0, 0.0]]
    >>> decoded["note"][1]
    'estimate could not be computed: too few sample observations (Census code -666666666); margin of error could not be computed: too few sample observations (Census code -222222222)'
    """
    estimate_values, estimate_notes = _decode(estimate, "estimate", _ESTIMATE_CODES)
    moe_values, moe_notes = _decode(moe, "margin of error", _MOE_CODES)
    moe_values = moe_values.mask(_as_number(moe) == _MOE_ZERO_CODE, 0.0)
    notes = [("; ".join(n for n in pair if n)) for pair in zip(estimate_notes, moe_notes)]
    return pd.DataFrame({"estimate": estimate_values.to_numpy(), "moe": moe_values.to_numpy(),
                         "note": pd.array(notes, dtype="str")})


def _as_number(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce").astype(float)


def _decode(values: pd.Series, label: str, codes: tuple[int, ...]) -> tuple[pd.Series, list[str]]:
    numbers = _as_number(values)
    notes = pd.Series("", index=values.index, dtype=object)
    is_null = values.isna()
    notes[is_null] = f"no {label} for this tract (null in the Census reply)"
    unreadable = numbers.isna() & ~is_null
    notes[unreadable] = [f"{label} {str(value)[:20]!r} in the Census reply is not a number"
                         for value in values[unreadable]]
    for code in codes:
        notes[numbers == code] = f"{label} {_CODE_MEANINGS[code]} (Census code {code})"
    unknown = (numbers < 0) & ~numbers.isin(codes)
    notes[unknown] = [f"{label} has unrecognised Census annotation value {value:.0f}"
                      for value in numbers[unknown]]
    return numbers.where(numbers >= 0, np.nan), notes.tolist()


class ReplaySession:
    """Answers the census package's requests from recorded reply files (tests, offline demos).

    Switched on by ``EQUITY_CENSUS_REPLAY=<dir>`` or by passing
    ``ReplaySession(dir)`` as ``fetch_acs_tracts(..., session=...)``. A data
    request ``https://api.census.gov/data/<year>/acs/acs5?get=F1,...,Fn&for=
    tract:*&in=state:SS county:CCC`` is answered from
    ``<dir>/<year>/acs/acs5/state-SS_county-CCC/<F1>--<Fn>--<n>.<ext>``
    (``json``, ``txt`` or ``html``): the reply body exactly as the API sent
    it, with HTTP status 200 unless a ``<same name>.status`` file holds
    another. Variable definitions (``.../variables/<name>.json``) come from
    ``<dir>/<year>/acs/acs5/variables.json`` in the API's ``variables.json``
    format, 404 when absent. A request with no recorded reply raises
    ``CensusAPIError`` naming the file it looked for.
    """

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise CensusAPIError(
                f"Census replay directory not found: {self.directory} (from {REPLAY_ENV} or "
                "ReplaySession). Expected recorded replies such as tests/fixtures/census_api.")
        self.headers: dict[str, str] = {}
        self._definitions: dict[Path, dict] = {}

    def get(self, url: str, params: dict | None = None, **_) -> ReplayResponse:
        params = dict(params or {})
        full_url = requests.Request("GET", url, params=params).prepare().url
        path = urlsplit(url).path.strip("/").split("/")
        if len(path) < 3 or path[0] != "data":
            return ReplayResponse(404, "error: not a Census data address", full_url)
        if "variables" in path:
            at = path.index("variables")
            definitions = self._variable_definitions(self.directory.joinpath(*path[1:at]))
            name = path[-1].removesuffix(".json")
            if name not in definitions:
                return ReplayResponse(404, f"error: unknown variable '{name}'", full_url)
            return ReplayResponse(200, json.dumps({"name": name, **definitions[name]}), full_url)
        reply = self.reply_path(url, params)
        candidates = [reply.with_suffix(ext) for ext in (".json", ".txt", ".html")]
        found = [candidate for candidate in candidates if candidate.exists()]
        if not found:
            raise CensusAPIError(
                f"No recorded Census reply for {_without_key(full_url)}: expected the file "
                f"{reply.with_suffix('.json')} in the replay directory {self.directory}.")
        status_file = reply.with_suffix(".status")
        status = int(status_file.read_text().strip()) if status_file.exists() else 200
        return ReplayResponse(status, found[0].read_text(encoding="utf-8"), full_url)

    def reply_path(self, url: str, params: dict) -> Path:
        """Where the reply to a data request is recorded (``.json``; ``.txt``/``.html`` also read)."""
        dataset_path = urlsplit(url).path.strip("/").split("/")[1:]
        # The census package appends GEO_ID again each time it retries a request.
        fields = list(dict.fromkeys(str(params.get("get", "")).split(",")))
        places = dict(part.split(":", 1) for part in str(params.get("in", "")).split() if ":" in part)
        place = "_".join(f"{level}-{code}" for level, code in places.items()) or "all"
        return self.directory.joinpath(*dataset_path, place,
                                       f"{fields[0]}--{fields[-1]}--{len(fields)}.json")

    def _variable_definitions(self, dataset_dir: Path) -> dict:
        if dataset_dir not in self._definitions:
            file = dataset_dir / "variables.json"
            self._definitions[dataset_dir] = (
                json.loads(file.read_text(encoding="utf-8"))["variables"] if file.exists() else {})
        return self._definitions[dataset_dir]


class ReplayResponse:
    """The parts of ``requests.Response`` the census package reads."""

    def __init__(self, status_code: int, text: str, url: str):
        self.status_code = status_code
        self.text = text
        self.url = url
        self.headers: dict[str, str] = {}

    def json(self):
        return json.loads(self.text)


class _TimeoutSession(requests.Session):
    """A requests session that gives up after ``TIMEOUT_SECONDS`` (requests waits forever by default)."""

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", TIMEOUT_SECONDS)
        return super().request(method, url, **kwargs)


def api_session(retries: int = RETRIES, backoff: float = BACKOFF_SECONDS) -> requests.Session:
    """A session for the live API: a timeout, and urllib3's ``Retry`` on the API's busy answers.

    429 (too many requests) and 500/502/503/504 are asked again up to
    ``retries`` times, waiting ``backoff`` × 2^n seconds between tries (or
    what the reply's ``Retry-After`` says); connection errors likewise. The
    last answer is then returned as it is, so its status reaches the message."""
    session = _TimeoutSession()
    policy = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
                   status_forcelist=RETRY_STATUSES, allowed_methods=["GET"], respect_retry_after_header=True,
                   raise_on_status=False)
    adapter = HTTPAdapter(max_retries=policy)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def default_session():
    """Recorded replies when ``EQUITY_CENSUS_REPLAY`` is set, else :func:`api_session`."""
    replay_dir = os.environ.get(REPLAY_ENV)
    return ReplaySession(replay_dir) if replay_dir else api_session()


def published_periods(session=None, years=SERVED_YEARS, through: int | None = None) -> list[int]:
    """The ACS 5-year periods (by last year) whose table B28002 the API serves now.

    Asks each year's definition of B28002_001E (``/data/<year>/acs/acs5/variables/B28002_001E.json``):
    200 means published, 404 not (yet). Years after ``through`` (default: last calendar year; a period
    ending in Y is released in December of Y+1) are not asked. Only years the ``census`` package knows
    can be fetched: a newer release needs the package upgraded (README: upgrading the lock)."""
    session = session if session is not None else default_session()
    through = through if through is not None else date.today().year - 1
    found = []
    for year in years:
        if year > through:
            continue
        url = f"https://api.census.gov/data/{year}/acs/acs5/variables/{PROBE_VARIABLE}.json"
        try:
            reply = session.get(url)
        except requests.RequestException as error:
            raise CensusAPIError(f"Could not reach the Census API asking whether ACS 5-year {year} is "
                                 f"published ({url}): {type(error).__name__}. Check the internet connection.") from None
        if reply.status_code == 200:
            found.append(year)
        elif reply.status_code != 404:
            raise CensusAPIError(f"The Census API answered HTTP {reply.status_code} asking whether ACS 5-year "
                                 f"{year} is published ({url}): {_excerpt(reply.text)}")
    return found


def _write_atomic(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    table.to_parquet(partial, index=False)
    partial.replace(path)


class _ReplyLog:
    """Passes requests to a session and keeps the last one, for error messages.

    The census package turns an HTTP error into an exception holding only the
    reply text; the status and address come from here.
    """

    def __init__(self, session):
        self._session = session
        self.url: str | None = None
        self.response = None

    @property
    def headers(self):
        return self._session.headers

    def get(self, url, params=None, **kwargs):
        self.url = requests.Request("GET", url, params=params).prepare().url
        self.response = None
        self.response = self._session.get(url, params=params, **kwargs)
        return self.response

    def describe_request(self, key: str) -> str:
        return f" (request: {_scrub(_without_key(self.url), key)})" if self.url else ""

    def describe_failure(self, where: str, key: str) -> str:
        status = getattr(self.response, "status_code", "?")
        body = _scrub(_excerpt(getattr(self.response, "text", "")), key)
        if status == 400:
            hint = " The request names a variable or geography this dataset does not have."
        elif status == 404:
            hint = " The API has no such dataset: is this ACS 5-year release out yet?"
        elif str(status).startswith("5"):
            hint = " The Census API had a server error; try again later."
        else:
            hint = ""
        return (f"The Census API answered HTTP {status} for {where}{self.describe_request(key)}: "
                f"{body.rstrip('.') or '(empty reply)'}.{hint}")

    def describe_unreadable(self, where: str, key: str) -> str:
        text = getattr(self.response, "text", "")
        if not text.strip():
            return (f"The Census API sent an empty reply (no body) for {where}"
                    f"{self.describe_request(key)}: expected JSON rows.")
        return (f"The Census API reply for {where}{self.describe_request(key)} is not JSON: it begins "
                f"{_scrub(_excerpt(text), key)!r}.")


def _without_key(url: str | None) -> str:
    """The request address without the API key, readable: unescaped, a long field list shortened."""
    if not url:
        return ""
    parts = urlsplit(url)
    query = "&".join(f"{name}={_shorten_fields(value) if name == 'get' else value}"
                     for name, value in parse_qsl(parts.query) if name != "key")
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    return f"{base}?{query}" if query else base


def _shorten_fields(fields: str) -> str:
    names = list(dict.fromkeys(fields.split(",")))  # without the package's repeated GEO_ID
    if len(names) <= 4:
        return ",".join(names)
    return f"{names[0]},{names[1]},…,{names[-1]} ({len(names)} fields)"


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _scrub(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text
