#!/usr/bin/env bash
# Install everything the tests need from the lock (Python packages; Debian's haproxy for the serving tests and
# chromium for the browser tests) and run the whole suite. Arguments go to pytest: the quick lane for everyday
# work is `bash scripts/run-tests.sh -m "not browser and not slow"` (markers in pytest.ini). pytest's "no tests collected" (exit 5) is a failure here.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh tests
set +e
python3 -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing on purpose" >&2
    exit 1
fi
exit "$status"
