#!/usr/bin/env bash
# fastport-server's command line: usage errors exit 2 with one line naming
# what was wrong, engine refusals exit 2 naming what is available, --help
# and --version exit 0. Usage: server_cli.sh SERVER_BINARY EXPECTED_VERSION
set -uo pipefail

server="$1"
version="$2"
work="$(mktemp -d)"
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

show_failure() { # NAME: what a failed check prints
    local name="$1"
    echo "FAIL: ${name}"
    echo "  status=${status}"
    sed 's/^/  stdout: /' "${work}/out"
    sed 's/^/  stderr: /' "${work}/err"
}

# Runs the server (bounded: a server that wrongly starts is killed) and
# keeps its exit status and output.
run() {
    timeout 20 "${server}" "$@" >"${work}/out" 2>"${work}/err"
    status=$?
}

status_is() { [[ "${status}" == "$1" ]]; }
err_has() { grep -qF -- "$1" "${work}/err"; }
out_has() { grep -qF -- "$1" "${work}/out"; }

expect_usage_error() { # expect_usage_error NAME TEXT ARGS...
    local name="$1" text="$2"
    shift 2
    run --listen=127.0.0.1:0 "$@"
    check "${name}: exit 2" status_is 2
    check "${name}: names '${text}'" err_has "${text}"
    check "${name}: one line, the program's name first" grep -qx "fastport-server: .*; try --help" "${work}/err"
    check "${name}: nothing else on stderr" test "$(wc -l <"${work}/err")" -eq 1
    check "${name}: prints nothing on stdout" test ! -s "${work}/out"
}

expect_usage_error "unknown option" "--bogus" --plugin=echo --bogus=1
expect_usage_error "unknown flag" "--frobnicate" --plugin=echo --frobnicate
expect_usage_error "malformed number" "--workers=abc" --plugin=echo --workers=abc
expect_usage_error "negative number" "--workers=-1" --plugin=echo --workers=-1
expect_usage_error "number out of range" "--workers=99999" --plugin=echo --workers=99999
expect_usage_error "missing value" "--workers" --plugin=echo --workers
expect_usage_error "empty value" "--max-sessions=" --plugin=echo --max-sessions=
expect_usage_error "value on a flag" "--version" --version=2
expect_usage_error "frame too small" "--max-packet=3" --plugin=echo --max-packet=3
expect_usage_error "frame too large" "--max-packet=65536" --plugin=echo --max-packet=65536
expect_usage_error "bad seconds" "--idle-timeout=soon" --plugin=echo --idle-timeout=soon
expect_usage_error "too many decimals" "--drain-timeout=1.2345" --plugin=echo --drain-timeout=1.2345
expect_usage_error "bad log level" "--log-level=loud" --plugin=echo --log-level=loud
expect_usage_error "bad listen address" "--listen=nohost" --plugin=echo --listen=nohost
expect_usage_error "bad listen port" "--listen=127.0.0.1:70000" --plugin=echo --listen=127.0.0.1:70000
expect_usage_error "positional argument" "stray" --plugin=echo stray
expect_usage_error "single option twice" "--workers" --plugin=echo --workers=1 --workers=2
expect_usage_error "no plugin" "--plugin" --workers=1
expect_usage_error "empty plugin name" "--plugin=echo," --plugin=echo,
expect_usage_error "transport option without =" "--transport-opt=batch" --plugin=echo --transport-opt=batch
expect_usage_error "plugin option without a plugin" "--plugin-opt=x=1" --plugin=echo --plugin-opt=x=1
expect_usage_error "plugin option for a plugin not loaded" "'other'" --plugin=echo --plugin-opt=other.key=1
expect_usage_error "send queue under one frame" "--send-queue-limit=100" --plugin=echo --send-queue-limit=100

# The engine refuses: still exit 2, and the message says what exists.
run --listen=127.0.0.1:0 --transport=nosuch --plugin=echo
check "unknown transport: exit 2" status_is 2
check "unknown transport: named" err_has "nosuch"
check "unknown transport: lists epoll" err_has "epoll"

# A transport of another platform: one line naming its platform and what
# this machine has, whether asked for by flag or by FP_TRANSPORT. In a
# transport dir holding epoll.so and uring.so the line is exactly the
# issue's; in the build's own, "on this machine" lists what was built.
two_linux="${work}/two-linux"
mkdir -p "${two_linux}"
touch "${two_linux}/epoll.so" "${two_linux}/uring.so"
built_dir="$(dirname "${server}")/../lib/fastport/transports"
built="$(cd "${built_dir}" && printf '%s\n' *.so | sed 's/\.so$//' | LC_ALL=C sort | paste -sd, - | sed 's/,/, /g')"

stderr_is() { [[ "$(cat "${work}/err")" == "$1" ]]; }

expect_elsewhere() { # expect_elsewhere NAME LINE ARGS...: exit 2, stderr exactly LINE
    local name="$1" line="$2"
    shift 2
    run --listen=127.0.0.1:0 --plugin=echo "$@"
    check "${name}: exit 2" status_is 2
    check "${name}: stderr is '${line}'" stderr_is "${line}"
    check "${name}: prints nothing on stdout" test ! -s "${work}/out"
}

expect_elsewhere "rio on Linux" \
    "fastport-server: rio: a Windows transport (Registered I/O); on this machine: epoll, uring" \
    --transport=rio --transport-dir="${two_linux}"
expect_elsewhere "iocp on Linux" \
    "fastport-server: iocp: a Windows transport (I/O completion ports); on this machine: epoll, uring" \
    --transport=iocp --transport-dir="${two_linux}"
expect_elsewhere "rio on Linux, built transports" \
    "fastport-server: rio: a Windows transport (Registered I/O); on this machine: ${built}" \
    --transport=rio
expect_elsewhere "iocp on Linux, built transports" \
    "fastport-server: iocp: a Windows transport (I/O completion ports); on this machine: ${built}" \
    --transport=iocp
FP_TRANSPORT=rio expect_elsewhere "FP_TRANSPORT=rio on Linux" \
    "fastport-server: rio: a Windows transport (Registered I/O); on this machine: ${built}"

run --listen=127.0.0.1:0 --plugin=nosuch
check "unknown plugin: exit 2" status_is 2
check "unknown plugin: named" err_has "nosuch"
check "unknown plugin: lists echo" err_has "echo"

run --listen=127.0.0.1:0 --plugin=echo --plugin-opt=echo.colour=blue
check "option the plugin refuses: exit 2" status_is 2
check "option the plugin refuses: named" err_has "colour"

run --listen=127.0.0.1:0 --transport=epoll --plugin=echo --transport-opt=bogus=1
check "option the transport refuses: exit 2" status_is 2
check "option the transport refuses: named" err_has "bogus"

run --listen=127.0.0.1:0 --plugin=echo --transport-dir="${work}/empty"
check "empty transport dir: exit 2" status_is 2

# --help: exit 0 and one line for every option.
run --help
check "--help: exit 0" status_is 0
for opt in transport plugin listen workers transport-dir plugin-dir transport-opt plugin-opt \
    idle-timeout max-sessions max-packet compress-threshold send-queue-limit drain-timeout \
    stats-interval log-level help version; do
    check "--help mentions --${opt}" grep -qE -- "^  --${opt}([= ]|$)" "${work}/out"
done
check "--help lists the transports" grep -qE "^Transports in .*epoll" "${work}/out"
check "--help lists the plugins" grep -qE "^Plugins in .*echo" "${work}/out"

run --transport-dir="${work}" --help
check "--help with --transport-dir: exit 0" status_is 0
check "--help with --transport-dir: names it" out_has "Transports in ${work}: (none)"

run --version
check "--version: exit 0" status_is 0
check "--version: prints the version" grep -qx "fastport-server ${version}" "${work}/out"

echo "server_cli: ${passes} passed, ${failures} failed"
[[ "${failures}" == 0 ]]
