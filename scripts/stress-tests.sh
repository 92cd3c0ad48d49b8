#!/usr/bin/env bash
# Run the whole suite (scripts/run-tests.sh, with this script's arguments) on a busy machine: two CPU-bound
# processes run beside it the whole time, as on a loaded CI runner or a laptop doing something else. They are
# stopped however the suite ends; this script exits with the suite's status.
#   bash scripts/stress-tests.sh                 # everything
#   bash scripts/stress-tests.sh tests/browser   # only the real-browser tests
set -uo pipefail
cd "$(dirname "$0")/.."

burners=()
stop_burners() {
    for pid in "${burners[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${burners[@]}"; do
        wait "$pid" 2>/dev/null
    done
    burners=()
}
trap stop_burners EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for _ in 1 2; do
    python3 -c 'while True: pass' &
    burners+=("$!")
done
echo "stress: CPU burners ${burners[*]} running beside the suite" >&2

start=$(date +%s)
bash scripts/run-tests.sh "$@"
status=$?
echo "stress: suite exited $status after $(( $(date +%s) - start )) s with ${#burners[@]} CPU burners beside it" >&2
exit "$status"
