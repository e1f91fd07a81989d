#!/usr/bin/env bash
# A fault test against fastport-server (echo plugin) on one transport:
#   faults.sh MODE SERVER FAULT_CLIENT TRANSPORT_PROBE TRANSPORT_DIR TRANSPORT
# MODE is one of fp-fault-client's (emfile, halfclose, sigpipe, storm): the
# client provokes the fault and checks what it sees; this script checks the
# server lived through it, exits 0 on SIGTERM, and that its final stats
# line counts what happened. Exit 77 when the transport cannot run here.
# FP_FAULT_STORM_CYCLES sets the storm's cycles (default 100000).
set -euo pipefail

if [ $# -ne 6 ]; then
    echo "usage: $0 MODE SERVER FAULT_CLIENT TRANSPORT_PROBE TRANSPORT_DIR TRANSPORT" >&2
    exit 2
fi
mode=$1 server=$2 client=$3 transport_probe=$4 transport_dir=$5 transport=$6

source "$(dirname "$0")/server_lib.sh"

probe_status=0
why=$("$transport_probe" "$transport_dir" "$transport") || probe_status=$?
if [ "$probe_status" -eq 77 ]; then
    echo "skip $transport: this machine cannot run it: $why"
    exit 77
fi
[ "$probe_status" -eq 0 ] || fail "$transport: cannot load it (fp-transport-probe exit $probe_status)"

out="$work/server.out" err="$work/server.err"

# start_server FD_LIMIT ARGS...: fastport-server on 127.0.0.1, port 0, under
# `ulimit -n FD_LIMIT` (soft and hard, so it cannot raise it); sets $addr.
start_server() {
    local limit=$1
    shift
    (ulimit -n "$limit" && exec "$server" --transport="$transport" --plugin=echo --listen=127.0.0.1:0 "$@") \
        >"$out" 2>"$err" &
    server_pid=$!
    addr=$(wait_listening "$out" 20) || fail "no 'listening on HOST:PORT' within 20 s"
}

# Runs the client; its report goes to stdout and $work/client.out.
run_client() {
    "$client" "$mode" --connect="$addr" "$@" >"$work/client.out" 2>"$work/client.err" || {
        cat "$work/client.out"
        alive "$server_pid" || fail "the server died (client: $(cat "$work/client.err"))"
        fail "fp-fault-client $mode: $(cat "$work/client.err")"
    }
    cat "$work/client.out"
    alive "$server_pid" || fail "the server died during $mode"
}

stop_and_read_stats() {
    stop_server TERM 30
    [ "$stop_status" = 0 ] || fail "exit status $stop_status after SIGTERM (expected 0)"
    stats=$(grep '^stats:' "$err" | tail -n 1 || true)
    [ -n "$stats" ] || fail "no final stats line"
}

# stat NAME: NAME's value in the final stats line (fails when absent).
stat() {
    local v
    v=$(grep -o " $1=[0-9]*" <<<"$stats" | head -n 1) || fail "the stats line has no $1: $stats"
    echo "${v#*=}"
}

expect_stat() {
    local got
    got=$(stat "$1")
    [ "$got" -eq "$2" ] || fail "$1=$got, expected $2 ($3)"
}

# Every connection became one session and was closed exactly once.
expect_sessions() {
    expect_stat sessions_accepted "$1" "one session per connection"
    expect_stat sessions_closed "$1" "each session closed once"
    expect_stat sessions_open 0 "none left open"
}

case "$mode" in
emfile)
    # Room for about 150 sessions: 200 connections run out, the 100 left
    # after the close plus 10 new ones fit again.
    limit=160 conns=200 close=100 fresh=10
    start_server "$limit" --workers=1
    at_start=$(ls "/proc/$server_pid/fd" | wc -l)
    room=$((limit - at_start))
    [ "$room" -lt "$conns" ] && [ "$room" -gt $((conns - close + fresh + 10)) ] ||
        fail "the server holds $at_start descriptors at start: $limit leaves room for $room sessions"
    echo "emfile: ulimit -n $limit, $at_start descriptors at start: room for $room sessions"
    run_client --server-pid="$server_pid" --server-log="$err" --conns=$conns --close=$close --fresh=$fresh
    stop_and_read_stats
    emfile=$(stat transport.accept_emfile)
    [ "$emfile" -ge 1 ] || fail "transport.accept_emfile=$emfile: running out of descriptors was not counted"
    expect_sessions $((conns + fresh))
    echo "emfile: transport.accept_emfile=$emfile; $(grep -c 'accepting paused' "$err") accept-failure lines in all"
    grep 'accepting paused' "$err" | tail -n 2
    ;;
halfclose)
    conns=20 frames=50
    start_server 4096 --workers=2
    run_client --conns=$conns --frames=$frames
    stop_and_read_stats
    expect_sessions $conns
    expect_stat protocol_errors 0 "only whole frames were sent"
    ;;
sigpipe)
    rounds=200
    start_server 4096 --workers=2
    run_client --rounds=$rounds --frames=32
    stop_and_read_stats
    expect_sessions $((rounds + 1))
    ;;
storm)
    cycles=${FP_FAULT_STORM_CYCLES:-100000}
    start_server 4096 --workers=2
    run_client --cycles="$cycles" --parallel=32 --seed=$RANDOM
    stop_and_read_stats
    expect_sessions "$cycles"
    server_closes=$(grep -o 'server-close=[0-9]*' "$work/client.out")
    expect_stat protocol_errors "${server_closes#*=}" "one per server-close cycle"
    echo "storm: transport.stale_completions=$(stat transport.stale_completions) (counted and dropped)"
    ;;
*)
    fail "unknown mode $mode"
    ;;
esac
echo "$mode on $transport: passed"
