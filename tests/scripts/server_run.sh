#!/usr/bin/env bash
# fastport-server end to end, on loopback: start-up lines, echo under load
# verified byte for byte by fp-echo-load (small and near-maximal frames),
# idle sessions, periodic stats, and a graceful SIGINT/SIGTERM stop that
# closes open sessions and exits 0.
# Usage: server_run.sh SERVER_BINARY FP_ECHO_LOAD_BINARY
set -uo pipefail

server="$1"
load="$2"
work="$(mktemp -d)"
server_pid=""
client_pid=""

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

show_failure() { # NAME: what a failed check prints
    local name="$1"
    echo "FAIL: ${name}"
    show_files "${work}"/*.out "${work}"/*.err
}

start_server() { # start_server NAME ARGS...
    local name="$1"
    shift
    "${server}" --plugin=echo "$@" >"${work}/${name}.out" 2>"${work}/${name}.err" &
    server_pid=$!
    wait_for "${work}/${name}.out" '^listening on ' 20
}

stop_server() { # stop_server SIGNAL SECONDS
    kill -"$1" "${server_pid}"
    wait_exit "${server_pid}" "$2"
    local rc=$?
    server_pid=""
    return "${rc}"
}

# --- echo under load ------------------------------------------------------
start_server load --listen=127.0.0.1:0 --listen=127.0.0.1:0 --workers=2 --stats-interval=0.2
check "server starts" test $? -eq 0
check "first line names the transport" grep -qE '^transport: [a-z]+$' <(head -n 1 "${work}/load.out")
check "one listening line per listener" test "$(grep -c '^listening on 127\.0\.0\.1:[0-9]\+$' "${work}/load.out")" -eq 2
ports=($(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/load.out"))
check "port 0 resolved to a real port" test "${ports[0]:-0}" -gt 0

"${load}" --connect="127.0.0.1:${ports[0]}" --sessions=20 --depth=4 --payload=64 \
    --duration=1 --warmup=0.2 --server-pid="${server_pid}" --csv \
    >"${work}/small.out" 2>"${work}/small.err"
check "small frames echo byte-exact" test $? -eq 0
check "load reports replies" grep -qE 'replies=[1-9][0-9]*, errors=0' "${work}/small.out"
check "load reports server CPU" grep -q 'server CPU' "${work}/small.out"

"${load}" --connect="127.0.0.1:${ports[1]}" --sessions=4 --depth=2 --payload=65531 \
    --duration=0.5 --warmup=0 >"${work}/large.out" 2>"${work}/large.err"
check "largest frames echo byte-exact on the second listener" test $? -eq 0

"${load}" --connect="127.0.0.1:${ports[0]}" --idle --sessions=200 --hold=0.5 \
    >"${work}/idle.out" 2>"${work}/idle.err"
check "idle sessions stay open" test $? -eq 0
check "idle client reports its sessions" grep -qx 'connected 200' "${work}/idle.out"

check "stats lines are printed" wait_for "${work}/load.err" '^stats: sessions_open=[0-9]+ .*rx_packets=[1-9]' 5
stop_server TERM 20
check "SIGTERM: exits in time" test $? -eq 0
check "SIGTERM: exit status 0" test "${exit_status:-x}" -eq 0

# --- SIGINT with sessions open: they are closed, the server exits 0 --------
start_server drain --listen=127.0.0.1:0 --workers=1 --drain-timeout=2
check "server starts again" test $? -eq 0
port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/drain.out")"
"${load}" --connect="127.0.0.1:${port}" --idle --sessions=50 --hold=30 \
    >"${work}/held.out" 2>"${work}/held.err" &
client_pid=$!
check "idle client connects" wait_for "${work}/held.out" '^connected 50$' 20
stop_server INT 20
check "SIGINT: exits in time" test $? -eq 0
check "SIGINT: exit status 0" test "${exit_status:-x}" -eq 0
check "SIGINT: the open sessions were closed by the server" \
    wait_for "${work}/held.err" 'closed by the server' 5
kill "${client_pid}" 2>/dev/null
wait "${client_pid}" 2>/dev/null
client_pid=""

echo "server_echo_run: ${passes} passed, ${failures} failed"
[[ "${failures}" == 0 ]]
