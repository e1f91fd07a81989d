# check_lib.sh - what the shell tests share: pass/fail counting and bounded
# waits. Sourced; the sourcing script defines show_failure NAME, which
# prints what helps diagnose a failed check (its files, its status).

failures=0
passes=0

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

# wait_for FILE PATTERN SECONDS: until a line of FILE matches.
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

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
