"""The loaded data: one build's tables in memory, boundaries read on demand, and the answers of its queries.

``cache.load`` makes one; every session of the app shares it. What a page
asks of it is answered in ``queries`` (each question once per build, the
answer kept in ``answers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd


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

    def acp(self) -> pd.DataFrame:
        """ACP enrollment of every release by city, community area and ward (``acp.AREA_COLUMNS``, ``area_name``)."""
        return self._table("acp")

    def acp_zip_crosswalks(self) -> pd.DataFrame:
        """The ZIP code crosswalks that carried the ACP counts: ``zip, target, weight, method, geography``."""
        return self._table("acp_zip_crosswalks")

    def _table(self, stem: str) -> pd.DataFrame:
        """A table of the build, read from disk once and then served from memory.

        The loaded build is shared by every session of the app, so each caller gets
        a shallow copy: under pandas' copy-on-write a caller changing its copy never
        changes what the next caller reads, and no data is copied unless it does.
        """
        if stem not in self._tables:
            self._tables[stem] = pd.read_parquet(self.folder / f"{stem}.parquet")
        return self._tables[stem].copy(deep=False)
