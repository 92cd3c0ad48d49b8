#!/usr/bin/env bash
# Install the dashboard's packages and start it on the raw snapshot (../shared/data or EQUITY_SNAPSHOT):
# one Streamlit process per core (at most 4; --workers N or EQUITY_WORKERS) behind scripts/serve.py's
# sticky-session proxy on port 8501. Other options (e.g. --theme.base dark) go to every Streamlit process.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
python3 -m equity build
exec python3 scripts/serve.py "$@"
