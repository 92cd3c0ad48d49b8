"""Where the raw snapshot and the derived-data cache live.

The snapshot is read in place (never copied): ``--snapshot DIR`` on the
command line, else ``EQUITY_SNAPSHOT``, else ``../shared/data`` beside the
repository. The cache is git-ignored: ``EQUITY_CACHE`` or ``<repo>/.cache``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_DATA = REPO_ROOT / "data"


def snapshot_dir(override: str | os.PathLike | None = None) -> Path:
    """The raw snapshot directory chosen by argument, environment or default."""
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("EQUITY_SNAPSHOT")
    if env:
        return Path(env).expanduser().resolve()
    return (REPO_ROOT.parent / "shared" / "data").resolve()


def cache_dir(override: str | os.PathLike | None = None) -> Path:
    """The derived-data cache directory (created on demand by the build)."""
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get("EQUITY_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    return REPO_ROOT / ".cache"
