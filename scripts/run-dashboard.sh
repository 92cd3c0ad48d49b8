#!/usr/bin/env bash
# Install the dashboard's packages and start it on the raw snapshot (../shared/data or EQUITY_SNAPSHOT).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
python3 -m equity build
exec python3 -m streamlit run app.py --server.headless true "$@"
