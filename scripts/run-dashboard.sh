#!/usr/bin/env bash
# Install the dashboard's packages from the lock and start it on the raw snapshot (../shared/data or
# EQUITY_SNAPSHOT): one Streamlit process per core (at most 4; --workers N or EQUITY_WORKERS) under supervisord
# behind HAProxy on port 8501 (--port P). Other options (e.g. --theme.base dark) go to every Streamlit process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh dashboard
python3 -m equity build
if ! command -v haproxy >/dev/null 2>&1; then
    echo "HAProxy could not be installed here (no apt-get): serving one Streamlit process" >&2
    set -- "$@" --workers 1
fi
exec python3 scripts/launch.py "$@"
