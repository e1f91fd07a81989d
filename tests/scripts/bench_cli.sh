#!/usr/bin/env bash
# fastport-bench's command line and failure exits: a bad option exits 2
# with a message naming it; a server that is not there, and one that never
# answers a BenchmarkRequest (the echo plugin sends 0x1001 straight back),
# exit 1 with the lost replies counted.
# Usage: bench_cli.sh BENCH SERVER TRANSPORT_DIR
set -uo pipefail

bench=$1 server=$2 transport_dir=$3
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

usage_error() { # usage_error WORD ARGS...: exits 2 naming WORD in one line on stderr
    local word=$1
    shift
    "$bench" "$@" >"$work/out" 2>"$work/err"
    local status=$?
    [ "$status" -eq 2 ] || fail "$*: exit $status, expected 2"
    grep -qF -- "$word" "$work/err" || fail "$*: message does not name '$word': $(cat "$work/err")"
    grep -qx -- "fastport-bench: .*; try --help" "$work/err" && [ "$(wc -l <"$work/err")" -eq 1 ] ||
        fail "$*: not one line 'fastport-bench: ...; try --help': $(cat "$work/err")"
    [ -s "$work/out" ] && fail "$*: printed on stdout"
}

usage_error "--bogus" --connect=127.0.0.1:1 --bogus=1
usage_error "--nonsense" --nonsense
usage_error "--sessions" --connect=127.0.0.1:1 --sessions=0
usage_error "--payload" --connect=127.0.0.1:1 --payload=100-10
usage_error "--payload" --connect=127.0.0.1:1 --payload=70000
usage_error "--connect" --connect=nowhere
usage_error "--duration" --connect=127.0.0.1:1 --duration=1 --iterations=5
usage_error "--compare" --connect=127.0.0.1:1 --compare=a,b
usage_error "--compare" --sessions=1
usage_error "--compare" --compare=a,,b
usage_error "--server-bin" --connect=127.0.0.1:1 --server-bin=/bin/true
usage_error "--warmup" --connect=127.0.0.1:1 --warmup=abc
usage_error "--plot" --connect=127.0.0.1:1 --plot=out.png
usage_error "--depth" --connect=127.0.0.1:1 --depth
usage_error "--runs" --connect=127.0.0.1:1 --runs=1 --runs=2
usage_error "--server-cpu needs --compare" --connect=127.0.0.1:1 --server-cpu=0
usage_error "--seed=0x" --connect=127.0.0.1:1 --seed=0x

"$bench" --help >"$work/help" 2>&1 || fail "--help exit status"
grep -q -- '--compare=' "$work/help" || fail "--help does not list --compare"

# Nobody listens on port 1: no session connects, exit 1.
timeout 60 "$bench" --connect=127.0.0.1:1 --transport-dir="$transport_dir" --sessions=2 \
    --iterations=10 >"$work/refused.out" 2>"$work/refused.err"
status=$?
[ "$status" -eq 1 ] || fail "unreachable server: exit $status, expected 1"
grep -q '0 of 2 sessions connected' "$work/refused.err" || fail "unreachable server not reported"

# Another platform's transport: the engine's refusal, word for word.
mkdir -p "$work/two-linux"
touch "$work/two-linux/epoll.so" "$work/two-linux/uring.so"
timeout 60 "$bench" --connect=127.0.0.1:1 --transport=rio --transport-dir="$work/two-linux" --sessions=1 \
    --iterations=10 >"$work/elsewhere.out" 2>"$work/elsewhere.err"
status=$?
[ "$status" -ne 0 ] || fail "--transport=rio on Linux: exit 0"
grep -qF 'rio: a Windows transport (Registered I/O); on this machine: epoll, uring' "$work/elsewhere.err" ||
    fail "--transport=rio on Linux: refusal not given: $(cat "$work/elsewhere.err")"

# An echo server bounces 0x1001 back: no BenchmarkResponse ever comes.
"$server" --plugin=echo --transport-dir="$transport_dir" --listen=127.0.0.1:0 --workers=1 \
    >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 200); do
    grep -q '^listening on ' "$work/server.out" && break
    sleep 0.05
done
addr=$(sed -n 's/^listening on //p' "$work/server.out")
[ -n "$addr" ] || { echo "FAIL: the echo server did not start: $(cat "$work/server.err")"; exit 1; }
timeout 60 "$bench" --connect="$addr" --transport-dir="$transport_dir" --sessions=2 --depth=2 \
    --warmup=0 --duration=0.3 --csv="$work/lost.csv" >"$work/lost.out" 2>"$work/lost.err"
status=$?
[ "$status" -eq 1 ] || fail "no replies: exit $status, expected 1"
grep -q '4 replies lost' "$work/lost.err" || fail "lost replies not reported: $(cat "$work/lost.err")"
kill -TERM "$server_pid"
wait "$server_pid"
server_pid=""

if [ "$failures" -ne 0 ]; then exit 1; fi
echo "bench_cli: ok"
