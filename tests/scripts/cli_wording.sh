#!/usr/bin/env bash
# The four programs refuse a bad command line alike, since they share one
# parser (apps/common): exit 2, nothing on stdout, and exactly one line on
# stderr, "PROGRAM: what was wrong; try --help", worded the same for an
# unknown option, a stray argument, a value on a flag, a missing, malformed
# or out-of-range value, an option given twice, a missing required option,
# and an option that needs another.
# Usage: cli_wording.sh SERVER CLIENT BENCH LOAD
set -uo pipefail

server="$1" client="$2" bench="$3" load="$4"
work="$(mktemp -d)"
source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

show_failure() {
    echo "FAIL: $1"
    echo "  status=${status}"
    show_files "${work}/out" "${work}/err"
}

# refused PROGRAM BINARY MESSAGE ARGS...: exit 2 with exactly the line
# "PROGRAM: MESSAGE; try --help".
refused() {
    local program="$1" binary="$2" message="$3"
    shift 3
    timeout 20 "${binary}" "$@" </dev/null >"${work}/out" 2>"${work}/err"
    status=$?
    local want="${program}: ${message}; try --help"
    check "${program} $*: exit 2" test "${status}" -eq 2
    check "${program} $*: nothing on stdout" test ! -s "${work}/out"
    check "${program} $*: '${want}'" test "$(cat "${work}/err")" == "${want}"
}

# common PROGRAM BINARY NUMBER_OPTION PLACEHOLDER BOUNDS REQUIRED_MESSAGE:
# the refusals every program words the same, on one of its number options.
common() {
    local p="$1" b="$2" opt="$3" placeholder="$4" bounds="$5" required="$6"
    refused "$p" "$b" "unknown option '--bogus'" --bogus=1
    refused "$p" "$b" "unknown option '--frobnicate'" --frobnicate
    refused "$p" "$b" "unexpected argument 'stray': options are --NAME=VALUE" stray
    refused "$p" "$b" "option '--help' takes no value" --help=1
    refused "$p" "$b" "option '--${opt}' needs a value: --${opt}=${placeholder}" "--${opt}"
    refused "$p" "$b" "--${opt}=-1: expected a whole number in ${bounds}" "--${opt}=-1"
    refused "$p" "$b" "--${opt}=1x: expected a whole number in ${bounds}" "--${opt}=1x"
    refused "$p" "$b" "--${opt}=99999999999999999999: out of range (${bounds})" "--${opt}=99999999999999999999"
    refused "$p" "$b" "option '--${opt}' given more than once" "--${opt}=1" "--${opt}=1"
    refused "$p" "$b" "${required}"
}

common fastport-server "${server}" workers N 0..256 "--plugin=NAME[,NAME] is required"
common fastport-client "${client}" count N 1..100000000 "--connect=HOST:PORT is required"
common fastport-bench "${bench}" sessions N 1..100000 "--connect=HOST:PORT or --compare=T1,T2,... is required"
common fp-echo-load "${load}" sessions N 1..100000 "--connect=HOST:PORT is required"

# Each program's own checks across options, in the parser's wording.
refused fastport-server "${server}" \
    "--send-queue-limit=100: smaller than the largest frame (--max-packet=65535)" \
    --plugin=echo --send-queue-limit=100
refused fastport-client "${client}" "--size needs --count (it sizes the scripted echoes)" \
    --connect=127.0.0.1:1 --size=3
refused fastport-bench "${bench}" "--server-bin needs --compare (it configures the servers --compare starts)" \
    --connect=127.0.0.1:1 --server-bin=/bin/true
refused fastport-bench "${bench}" "--connect and --compare exclude each other: --compare starts its own servers" \
    --connect=127.0.0.1:1 --compare=x
refused fp-echo-load "${load}" "--hold needs --idle (it is how long idle sessions are held)" \
    --connect=127.0.0.1:1 --hold=1

echo "cli_wording: ${passes} passed, ${failures} failed"
[[ "${failures}" == 0 ]]
