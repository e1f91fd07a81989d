#!/usr/bin/env bash
# The hardening limits close attackers, on one transport, on loopback:
#   slowloris:  fastport-server --frame-timeout=1 and 50 fp-abuse connections
#               trickling a frame (a byte per 0.3 s): all 50 closed, counted
#               as frame_timeouts=50;
#   never-read: fastport-server --send-timeout=1 and 10 fp-abuse connections
#               writing echo frames and never reading: all 10 closed, counted
#               as send_timeouts=10 (skipped while the server has no
#               --send-timeout).
# After either attack an echo through a new connection still works. Counts
# only: the times are liveness bounds, never measurements.
# Usage: abuse_closes.sh MODE SERVER FP_ABUSE ECHO_PROBE TRANSPORT_PROBE TRANSPORT_DIR TRANSPORT
# Exit 77 when the transport's probe says this machine cannot run it.
set -uo pipefail

mode="$1" server="$2" abuse="$3" echo_probe="$4" probe="$5" transport_dir="$6" transport="$7"
work="$(mktemp -d)"
server_pid=""
client_pid=""

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

show_failure() { # NAME: what a failed check prints
    echo "FAIL [${mode}, ${transport}]: $1"
    show_files "${work}"/*.out "${work}"/*.err
}

why="$("${probe}" "${transport_dir}" "${transport}")"
status=$?
if [[ "${status}" == 77 ]]; then
    echo "skip ${transport}: this machine cannot run it: ${why}"
    exit 77
fi

case "${mode}" in
slowloris)
    attackers=50
    counter=frame_timeouts
    limit=(--frame-timeout=1)
    attack=(--slowloris="${attackers}" --interval=0.3)
    ;;
never-read)
    attackers=10
    counter=send_timeouts
    if ! "${server}" --help | grep -q -- '--send-timeout='; then
        echo "skip: this fastport-server has no --send-timeout yet"
        exit 77
    fi
    # No frame timeout: a reader paused mid-frame must be closed by the
    # send timeout alone.
    limit=(--send-timeout=1 --frame-timeout=0)
    attack=(--never-read="${attackers}")
    ;;
*)
    echo "abuse_closes.sh: unknown mode '${mode}'" >&2
    exit 2
    ;;
esac

"${server}" --transport="${transport}" --transport-dir="${transport_dir}" --plugin=echo --workers=1 \
    --listen=127.0.0.1:0 "${limit[@]}" >"${work}/server.out" 2>"${work}/server.err" &
server_pid=$!
check "the server starts" wait_for "${work}/server.out" '^listening on ' 20
addr="$(sed -n 's/^listening on //p' "${work}/server.out")"

# fp-abuse's own --duration bounds the attack.
timeout 90 "${abuse}" --connect="${addr:-127.0.0.1:1}" "${attack[@]}" --duration=60 \
    >"${work}/abuse.out" 2>"${work}/abuse.err"
check "fp-abuse runs (exit 0)" test $? -eq 0
check "the server closed all ${attackers}" \
    grep -qE "^${mode}: ${attackers} connections, ${attackers} closed by the server, 0 open at the end" \
    "${work}/abuse.out"

timeout 30 "${echo_probe}" --connect="${addr:-127.0.0.1:1}" --frames=20 --max-payload=1000 \
    >"${work}/probe.out" 2>"${work}/probe.err"
check "an echo works after the attack" test $? -eq 0

kill -TERM "${server_pid}"
check "the server stops" wait_exit "${server_pid}" 20
server_pid=""
check "the server exits 0" test "${exit_status:-1}" -eq 0
stats="$(grep '^stats:' "${work}/server.err" | tail -n 1)"
check "its stats line shows ${counter}" grep -qE " ${counter}=[0-9]+" <<<"${stats}"
check "${counter}=${attackers}" grep -qE " ${counter}=${attackers}( |\$)" <<<"${stats}"

echo "abuse_closes (${mode}, ${transport}): ${passes} passed, ${failures} failed"
[[ "${failures}" == 0 ]]
