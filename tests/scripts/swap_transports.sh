#!/usr/bin/env bash
# One fastport-server binary, every transport library in the transport
# directory: each is started with --transport=NAME, answers an echo probe,
# and exits 0 on SIGTERM. An unknown transport exits 2 and lists the
# available ones.
#   swap_transports.sh SERVER ECHO_PROBE TRANSPORT_PROBE TRANSPORT_DIR
set -euo pipefail

if [ $# -ne 4 ]; then
    echo "usage: $0 SERVER ECHO_PROBE TRANSPORT_PROBE TRANSPORT_DIR" >&2
    exit 2
fi
server=$1 echo_probe=$2 transport_probe=$3 transport_dir=$4

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

fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.out "$work"/*.err; do
        [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 20 "$f" >&2; }
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
        line=$(grep -m1 '^listening on ' "$out" 2>/dev/null || true)
        if [ -n "$line" ]; then
            echo "${line#listening on }"
            return 0
        fi
        alive "$server_pid" || return 1
        sleep 0.1
    done
    return 1
}

# Send SIGTERM, wait up to $1 seconds; sets stop_status to the exit
# status, or "timeout" (after a SIGKILL).
stop_server() {
    local limit=$1 i
    kill -TERM "$server_pid"
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

shopt -s nullglob
libraries=("$transport_dir"/*.so)
shopt -u nullglob
[ ${#libraries[@]} -gt 0 ] || fail "no transport library (*.so) in $transport_dir"

names=()
tested=0
for lib in "${libraries[@]}"; do
    name=$(basename "$lib" .so)
    names+=("$name")
    probe_status=0
    why=$("$transport_probe" "$transport_dir" "$name") || probe_status=$?
    if [ "$probe_status" -eq 77 ]; then
        echo "skip $name: this machine cannot run it: $why"
        continue
    fi
    [ "$probe_status" -eq 0 ] || fail "$name: cannot load $lib (fp-transport-probe exit $probe_status)"

    out="$work/$name.out" err="$work/$name.err"
    "$server" --transport="$name" --plugin=echo --listen=127.0.0.1:0 --workers=2 \
        >"$out" 2>"$err" &
    server_pid=$!
    addr=$(wait_listening "$out" 20) || fail "$name: server printed no 'listening on HOST:PORT' within 20 s"
    "$echo_probe" --connect="$addr" --frames=200 --max-payload=16384 --seed=7 \
        >"$work/$name.probe.out" 2>"$work/$name.probe.err" ||
        fail "$name: echo probe against $addr failed: $(cat "$work/$name.probe.err")"
    stop_server 20
    [ "$stop_status" = "0" ] || fail "$name: server exited with status $stop_status after SIGTERM (expected 0)"
    echo "ok $name: echoed 200 frames on $addr, exited 0 on SIGTERM"
    tested=$((tested + 1))
done
[ "$tested" -gt 0 ] || fail "no transport in $transport_dir can run on this machine"

# An unknown transport: usage error (2), and the message lists what exists.
status=0
timeout --kill-after=5 20 "$server" --transport=nosuch --plugin=echo --listen=127.0.0.1:0 \
    >"$work/nosuch.out" 2>"$work/nosuch.err" || status=$?
[ "$status" -eq 2 ] || fail "--transport=nosuch exited with status $status (expected 2)"
for name in "${names[@]}"; do
    grep -q -- "$name" "$work/nosuch.err" ||
        fail "--transport=nosuch: stderr does not name the available transport '$name': $(cat "$work/nosuch.err")"
done
echo "ok nosuch: exit 2, stderr names: ${names[*]}"
echo "swap_transports: $tested transport(s) passed"
