#!/usr/bin/env bash
# fp-echo-load catches a wrong echo. The server runs the faulty_echo fixture
# plugin, which gets one frame in ten wrong on purpose; fp-echo-load must
# fail every faulted run naming the problem, and pass the fault-free control,
# so its verification is shown to be able to fail. The server's final stats
# show that each faulted run really had faults injected.
# Usage: load_verifies.sh SERVER_BINARY FP_ECHO_LOAD_BINARY FIXTURE_PLUGIN_DIR
set -uo pipefail

server="$1"
load="$2"
plugin_dir="$3"
work="$(mktemp -d)"
server_pid=""
every=10 # small, so a fault lands in the first frames however slow the host
current="" # the run whose outputs a failed check shows

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

show_failure() { # NAME: what a failed check prints
    local name="$1"
    echo "FAIL: ${name}"
    show_files "${work}/${current}".*
}

not() { ! "$@"; }

# start_server NAME PLUGIN_OPTS...: sets port; 1 if it did not come up.
start_server() {
    local name="$1"
    shift
    current="${name}"
    "${server}" --plugin=faulty_echo --plugin-dir="${plugin_dir}" --transport=epoll --workers=1 \
        --listen=127.0.0.1:0 "$@" >"${work}/${name}.server.out" 2>"${work}/${name}.server.err" &
    server_pid=$!
    wait_for "${work}/${name}.server.out" '^listening on ' 20 || return 1
    port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/${name}.server.out")"
    [[ -n "${port}" ]]
}

stop_server() { # SIGTERM, then reap; 1 if it did not exit 0 in time
    kill -TERM "${server_pid}"
    wait_exit "${server_pid}" 20
    local rc=$?
    server_pid=""
    [[ "${rc}" == 0 && "${exit_status}" == 0 ]]
}

# run_mode NAME FAULT PAYLOAD DEPTH: one server, one client run; sets load_status.
run_mode() {
    local name="$1" fault="$2" payload="$3" depth="$4"
    start_server "${name}" --plugin-opt=faulty_echo.fault="${fault}" \
        --plugin-opt=faulty_echo.every="${every}"
    check "${name}: server starts" test $? -eq 0
    "${load}" --connect="127.0.0.1:${port:-0}" --sessions=4 --depth="${depth}" \
        --payload="${payload}" --duration=1 --warmup=0 \
        >"${work}/${name}.load.out" 2>"${work}/${name}.load.err"
    load_status=$?
    stop_server
    check "${name}: server stops cleanly" test $? -eq 0
}

# expect_caught NAME FAULT PAYLOAD DEPTH STDERR_PATTERN
expect_caught() {
    local name="$1" pattern="$5"
    run_mode "$1" "$2" "$3" "$4"
    check "${name}: the client fails" test "${load_status}" -ne 0
    check "${name}: the client names the problem" grep -qE -- "${pattern}" "${work}/${name}.load.err"
    check "${name}: faults were injected" \
        grep -qE 'plugin\.faults_injected=[1-9]' "${work}/${name}.server.err"
}

# --- the control: a pure echo passes ------------------------------------------
run_mode none none 64 2
check "none: the client passes" test "${load_status}" -eq 0
check "none: replies verified, no errors" grep -qE 'replies=[1-9][0-9]*, errors=0' "${work}/none.load.out"
check "none: no fault injected" not grep -qE 'plugin\.faults_injected=[1-9]' "${work}/none.server.err"

# --- every fault is caught ----------------------------------------------------
# flip touches byte len/2, so the client must point at exactly that byte.
expect_caught flip64 flip 64 2 'reply [0-9]+ differs at payload byte 32: '
expect_caught flip16k flip 16384 2 'reply [0-9]+ differs at payload byte 8192: '
# stale: the right size and id, another frame's (maybe another session's) bytes.
expect_caught stale64 stale 64 2 'reply [0-9]+ differs at payload byte [0-9]+: '
expect_caught stale16k stale 16384 2 'reply [0-9]+ differs at payload byte [0-9]+: '
expect_caught id id 64 2 'reply [0-9]+ has packet id 0x[0-9a-f]+, sent 0x'
# A dropped reply with another frame in flight: the next reply arrives in its
# place, and is not the one owed.
expect_caught drop drop 64 2 'reply [0-9]+ has packet id'
# A dropped reply with nothing else in flight on that session: only the stall
# timeout (5 s) can notice it, after the window.
expect_caught drop_last drop 64 1 'replies still missing after the window'

# --- bad options are refused at start-up ----------------------------------------
bad_option() { # bad_option NAME STDERR_PATTERN PLUGIN_OPTS...
    local name="$1" pattern="$2"
    shift 2
    current="${name}"
    "${server}" --plugin=faulty_echo --plugin-dir="${plugin_dir}" --transport=epoll \
        --listen=127.0.0.1:0 "$@" >"${work}/${name}.out" 2>"${work}/${name}.err" &
    server_pid=$!
    wait_exit "${server_pid}" 20
    check "${name}: the server exits at once" test $? -eq 0
    server_pid=""
    check "${name}: with a failure status" test "${exit_status}" -ne 0
    check "${name}: naming the option" grep -qF -- "${pattern}" "${work}/${name}.err"
}
bad_option no_fault "faulty_echo needs --plugin-opt=faulty_echo.fault=MODE"
bad_option bad_fault "faulty_echo.fault='bogus': expected" --plugin-opt=faulty_echo.fault=bogus
bad_option every_zero "faulty_echo.every='0': expected a whole number >= 1" \
    --plugin-opt=faulty_echo.fault=flip --plugin-opt=faulty_echo.every=0
bad_option every_text "faulty_echo.every='-3': expected" \
    --plugin-opt=faulty_echo.fault=flip --plugin-opt=faulty_echo.every=-3
bad_option unknown_key "faulty_echo: unknown option 'often'" --plugin-opt=faulty_echo.often=1

echo "load_verifies: ${passes} passed, ${failures} failed"
[[ "${failures}" == 0 ]]
