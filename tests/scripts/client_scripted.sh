#!/usr/bin/env bash
# fastport-client against a real fastport-server (--plugin=fastport) on one
# transport, on loopback: scripted echoes verified byte for byte, the
# interactive mode with piped lines, a server that answers with something
# else (exit 1), and bad options (exit 2).
# Usage: client_scripted.sh SERVER CLIENT TRANSPORT [TRANSPORT_PROBE TRANSPORT_DIR]
# Exit 77 when the transport's probe says this machine cannot run it.
set -uo pipefail

server="$1"
client="$2"
transport="$3"
probe="${4:-}"
transport_dir="${5:-}"
work="$(mktemp -d)"
server_pid=""

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

show_failure() { # NAME: what a failed check prints
    local name="$1"
    echo "FAIL [${transport}]: ${name}"
    show_files "${work}"/*.out "${work}"/*.err
}

if [[ -n "${probe}" ]]; then
    why="$("${probe}" "${transport_dir}" "${transport}")"
    status=$?
    if [[ "${status}" == 77 ]]; then
        echo "skip ${transport}: this machine cannot run it: ${why}"
        exit 77
    fi
fi

start_server() { # start_server NAME PLUGIN: sets server_pid and port
    "${server}" --transport="${transport}" --plugin="$2" --listen=127.0.0.1:0 --workers=2 \
        >"${work}/$1.out" 2>"${work}/$1.err" &
    server_pid=$!
    wait_for "${work}/$1.out" '^listening on ' 20 || return 1
    port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/$1.out")"
    [[ -n "${port}" ]]
}

stop_server() { # SIGTERM, then reap within 20 s
    local i
    kill -TERM "${server_pid}"
    for ((i = 0; i < 400; i++)); do
        if ! kill -0 "${server_pid}" 2>/dev/null; then
            wait "${server_pid}"
            local rc=$?
            server_pid=""
            return "${rc}"
        fi
        sleep 0.05
    done
    return 1
}

# --- against the fastport plugin ---------------------------------------
start_server fastport fastport
check "server with the fastport plugin starts" test $? -eq 0

name=scripted
timeout 60 "${client}" --transport="${transport}" --connect="127.0.0.1:${port}" \
    --count=200 --size=1000 </dev/null >"${work}/${name}.out" 2>"${work}/${name}.err"
check "scripted: 200 echoes of 1000 bytes exit 0" test $? -eq 0
check "scripted: summary counts 200 intact" \
    grep -qE '^echoes: 200 requested, 200 sent, 200 intact, 0 damaged, 0 lost$' "${work}/${name}.out"

name=interactive
printf 'alpha\nbeta gamma\n  delta  \n' | timeout 60 "${client}" --transport="${transport}" \
    --connect="127.0.0.1:${port}" >"${work}/${name}.out" 2>"${work}/${name}.err"
check "interactive: exit 0 at end of input" test $? -eq 0
check "interactive: three replies" test "$(wc -l <"${work}/${name}.out")" -eq 3
check "interactive: reply 1" grep -qxE 'reply #1: alpha \(rtt [0-9]+\.[0-9] us\)' "${work}/${name}.out"
check "interactive: reply 2" grep -qxE 'reply #2: beta gamma \(rtt [0-9]+\.[0-9] us\)' "${work}/${name}.out"
check "interactive: reply 3 keeps spaces" \
    grep -qxE 'reply #3:   delta   \(rtt [0-9]+\.[0-9] us\)' "${work}/${name}.out"

name=bigger
timeout 60 "${client}" --transport="${transport}" --connect="127.0.0.1:${port}" \
    --count=20 --size=65000 </dev/null >"${work}/${name}.out" 2>"${work}/${name}.err"
check "scripted: largest size echoes intact" test $? -eq 0

stop_server
check "server stops on SIGTERM with status 0" test $? -eq 0

# --- against the plain echo plugin: replies are not EchoResponses --------
start_server plain echo
check "server with the echo plugin starts" test $? -eq 0
name=mismatch
timeout 60 "${client}" --transport="${transport}" --connect="127.0.0.1:${port}" \
    --count=3 --size=16 </dev/null >"${work}/${name}.out" 2>"${work}/${name}.err"
check "scripted: damaged echoes exit 1" test $? -eq 1
check "scripted: damage is reported" grep -q 'echo 1: ' "${work}/${name}.err"
check "scripted: summary counts no intact echo" grep -q ' 0 intact, 3 damaged' "${work}/${name}.out"
stop_server
check "echo server stops" test $? -eq 0

# --- failures that need no server ----------------------------------------
# Port 1, not the stopped server's: under ctest -j a parallel test may be
# handed that ephemeral port again; nobody listens on port 1.
name=refused
timeout 60 "${client}" --transport="${transport}" --connect="127.0.0.1:1" --count=1 \
    </dev/null >"${work}/${name}.out" 2>"${work}/${name}.err"
check "nothing listening: exit 1" test $? -eq 1
check "nothing listening: says it cannot connect" grep -q 'cannot connect to 127.0.0.1:' "${work}/${name}.err"

name=badtransport
timeout 60 "${client}" --transport=no-such-transport --connect=127.0.0.1:1 \
    </dev/null >"${work}/${name}.out" 2>"${work}/${name}.err"
check "unknown transport: exit 2" test $? -eq 2
check "unknown transport: lists the available ones" grep -q "available.*${transport}" "${work}/${name}.err"

# Another platform's transport: the engine's one line, as the server says it.
name=elsewhere
mkdir -p "${work}/two-linux"
touch "${work}/two-linux/epoll.so" "${work}/two-linux/uring.so"
timeout 60 "${client}" --transport=iocp --transport-dir="${work}/two-linux" --connect=127.0.0.1:1 \
    </dev/null >"${work}/${name}.out" 2>"${work}/${name}.err"
check "other platform's transport: exit 2" test $? -eq 2
check "other platform's transport: names its platform and ours" test "$(cat "${work}/${name}.err")" = \
    "fastport-client: iocp: a Windows transport (I/O completion ports); on this machine: epoll, uring"

name=badoption
timeout 60 "${client}" --connect=127.0.0.1:1 --count=0 </dev/null >"${work}/${name}.out" 2>"${work}/${name}.err"
check "--count=0: exit 2" test $? -eq 2
check "--count=0: names the option" grep -q -- '--count=0' "${work}/${name}.err"
timeout 60 "${client}" --count=1 </dev/null >"${work}/${name}.out" 2>"${work}/${name}.err"
check "no --connect: exit 2" test $? -eq 2
check "no --connect: says it is required" grep -q -- '--connect=HOST:PORT is required' "${work}/${name}.err"

echo "client_scripted [${transport}]: ${passes} passed, ${failures} failed"
[[ "${failures}" == 0 ]]
