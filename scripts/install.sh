#!/usr/bin/env bash
# Install what the dashboard needs, from the lock: install.sh dashboard | tests
#   dashboard: the locked Python packages (requirements.txt) and Debian's haproxy (serving several processes);
#   tests:     the same, and Debian's chromium for the real-browser tests.
# Without apt-get, haproxy is left out (the dashboard then serves one process, run-dashboard.sh says so);
# chromium cannot be, so the tests stop here with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-dashboard}"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -r requirements.txt

missing=()
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
if [ "$what" = tests ] && ! command -v chromium >/dev/null 2>&1; then
    missing+=(chromium)
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
fi
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
elif [ "$what" = tests ]; then
    echo "cannot install ${missing[*]}: apt-get (as root or with sudo) is needed for the real-browser tests" >&2
    exit 1
fi
