#!/usr/bin/env bash
# fastport-bench --connect against a fastport-server this script starts on
# one transport (client on the same): a fixed number of measured replies
# with large random payloads, all back intact; exit 0 and one CSV row.
# Usage: bench_connect.sh BENCH SERVER TRANSPORT_PROBE TRANSPORT_DIR NAME
set -uo pipefail

bench=$1 server=$2 probe=$3 transport_dir=$4 name=$5
work=$(mktemp -d)
server_pid=""
cleanup() {
    [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

status=0
why=$("$probe" "$transport_dir" "$name") || status=$?
if [ "$status" -eq 77 ]; then
    echo "skipping $name: $why"
    exit 77
fi
[ "$status" -eq 0 ] || { echo "FAIL: $name: fp-transport-probe exit $status"; exit 1; }

"$server" --transport="$name" --transport-dir="$transport_dir" --plugin=fastport \
    --listen=127.0.0.1:0 --workers=1 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 200); do
    grep -q '^listening on ' "$work/server.out" && break
    sleep 0.05
done
addr=$(sed -n 's/^listening on //p' "$work/server.out")
[ -n "$addr" ] || { echo "FAIL: the server did not start"; cat "$work/server.err"; exit 1; }

timeout 120 "$bench" --connect="$addr" --transport="$name" --transport-dir="$transport_dir" \
    --iterations=2000 --sessions=10 --depth=2 --payload=4096-16384 --csv="$work/out.csv" \
    >"$work/out.txt" 2>"$work/err.txt"
status=$?
[ "$status" -eq 0 ] || fail "fastport-bench exited $status"

csv="$work/out.csv"
header=$(head -n 1 "$csv" 2>/dev/null)
column() { echo "$header" | tr ',' '\n' | grep -nx "$1" | cut -d: -f1; }
rows=$(($(wc -l <"$csv" 2>/dev/null || echo 1) - 1))
[ "$rows" -eq 1 ] || fail "CSV has $rows rows, expected 1"
row=$(sed -n 2p "$csv" 2>/dev/null)
cell() { echo "$row" | cut -d, -f"$(column "$1")"; }
[ "$(cell measured_responses)" = 2000 ] || fail "measured_responses $(cell measured_responses), expected 2000"
[ "$(cell lost_replies)" = 0 ] || fail "lost replies: $(cell lost_replies)"
[ "$(cell sequence_errors)" = 0 ] || fail "sequence errors: $(cell sequence_errors)"
[ "$(cell connected_sessions)" = 10 ] || fail "connected sessions: $(cell connected_sessions)"
[ "$(cell payload_min_bytes)-$(cell payload_max_bytes)" = 4096-16384 ] || fail "payload range in CSV"
[ "$(cell io_mode)" = "client=$name;server=unknown" ] || fail "io_mode '$(cell io_mode)'"
[ -z "$(cell server_cpu_ns_per_msg)" ] || fail "server CPU given for a server it did not start"

kill -TERM "$server_pid"
for _ in $(seq 200); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
done
wait "$server_pid"
server_status=$?
server_pid=""
[ "$server_status" -eq 0 ] || fail "the server exited $server_status"

if [ "$failures" -ne 0 ]; then
    sed 's/^/  stdout: /' "$work/out.txt" | tail -n 40
    sed 's/^/  stderr: /' "$work/err.txt" | tail -n 20
    exit 1
fi
echo "bench_connect ($name): ok"
