# Sourced by the scripts that start fastport-server themselves
# (swap_transports.sh, swap_wine.sh): a work folder, the one server they
# run at a time ($server_pid), stopped by PID on every exit.

work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# fail WHY: says why, shows the ends of the server's outputs, exits 1.
fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.out "$work"/*.err; do
        [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 20 "$f" | tr -d '\r' >&2; }
    done
    exit 1
}

# True while process $1 runs (a zombie counts as gone).
alive() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "${state%% *}" != Z ]
}

# Wait up to $2 seconds for "listening on HOST:PORT" in file $1; prints HOST:PORT.
wait_listening() {
    local out=$1 limit=$2 i line
    for ((i = 0; i < limit * 10; i++)); do
        line=$(grep -m1 '^listening on ' "$out" 2>/dev/null | tr -d '\r' || true)
        if [ -n "$line" ]; then
            echo "${line#listening on }"
            return 0
        fi
        alive "$server_pid" || return 1
        sleep 0.1
    done
    return 1
}

# stop_server SIGNAL SECONDS: sends SIGNAL, waits; sets stop_status to the
# exit status, or "timeout" (then SIGKILL).
stop_server() {
    local signal=$1 limit=$2 i
    kill -"$signal" "$server_pid"
    for ((i = 0; i < limit * 10; i++)); do
        alive "$server_pid" || break
        sleep 0.1
    done
    if alive "$server_pid"; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        stop_status=timeout
    else
        stop_status=0
        wait "$server_pid" || stop_status=$?
    fi
    server_pid=
}
