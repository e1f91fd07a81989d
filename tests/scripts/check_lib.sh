# check_lib.sh - what the shell tests share: pass/fail counting, bounded
# waits and clean-up. Sourced after `work` is set; the sourcing script
# defines show_failure NAME, which prints what helps diagnose a failed check
# (its files, its status).

failures=0
passes=0

# On exit, whatever happened: the server and client the script started
# (server_pid, client_pid) are killed and its work directory removed.
cleanup() {
    [[ -n "${client_pid:-}" ]] && kill -KILL "${client_pid}" 2>/dev/null
    [[ -n "${server_pid:-}" ]] && kill -KILL "${server_pid}" 2>/dev/null
    [[ -n "${work:-}" ]] && rm -rf "${work}"
    return 0
}
trap cleanup EXIT

check() { # check NAME CONDITION...
    local name="$1"
    shift
    if "$@"; then
        passes=$((passes + 1))
    else
        failures=$((failures + 1))
        show_failure "${name}"
    fi
}

# show_files FILE...: the last lines of each non-empty FILE, named.
show_files() {
    local f
    for f in "$@"; do
        [[ -s "$f" ]] && sed "s|^|  $(basename "$f"): |" "$f" | tail -n 20
    done
    return 0
}

# wait_for FILE PATTERN SECONDS (the benchmarks' bounded wait).
# shellcheck source=../../benchmarks/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../benchmarks/bench_lib.sh"

# wait_exit PID SECONDS: reaps PID, sets exit_status; 1 if it did not end.
wait_exit() {
    local i
    for ((i = 0; i < $2 * 20; i++)); do
        if ! kill -0 "$1" 2>/dev/null; then
            wait "$1"
            exit_status=$?
            return 0
        fi
        sleep 0.05
    done
    return 1
}
