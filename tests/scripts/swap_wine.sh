#!/usr/bin/env bash
# The same Windows fastport-server.exe under Wine, its transport chosen by
# flag only: --transport=iocp --plugin=echo answers the Linux echo probe over
# loopback and exits 0 on SIGINT (Wine hands the program CTRL_C_EVENT);
# --transport=rio, where Winsock has no Registered I/O (Wine), exits 2 with
# one line on stderr naming rio and iocp; and --transport=rio on the
# build's test RIO provider answers the probe as iocp did.
#   swap_wine.sh WINDOWS_BUILD_DIR ECHO_PROBE
# Skips (77, with the reason) while the build lacks the .exe, its Wine
# runner, iocp.dll, rio.dll or the provider. Every server it starts is
# stopped by PID, also on failure.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 WINDOWS_BUILD_DIR ECHO_PROBE" >&2
    exit 2
fi
build=$1 echo_probe=$2
source "$(dirname "$0")/wine_lib.sh"
source "$(dirname "$0")/server_lib.sh"
wine_build_ready swap_wine "$build" iocp
wine_build_ready swap_wine "$build" rio
wine_rio_provider swap_wine "$build"
provider=$FP_RIO_TEST_PROVIDER
unset FP_RIO_TEST_PROVIDER

# serve_and_probe NAME: the server on --transport=NAME serves the echo
# plugin, answers the probe and stops cleanly on SIGINT. A background job
# of a script starts with SIGINT ignored; env gives it back its default.
serve_and_probe() {
    local name=$1
    local out=$work/$name.out err=$work/$name.err
    env --default-signal=INT "$launcher" "$server" --transport="$name" --plugin=echo \
        --listen=127.0.0.1:0 --workers=2 >"$out" 2>"$err" &
    server_pid=$!
    local addr first said
    addr=$(wait_listening "$out" 60) || fail "$name: server printed no 'listening on HOST:PORT' within 60 s"
    first=$(head -n1 "$out" | tr -d '\r')
    [ "$first" = "transport: $name" ] || fail "$name: first stdout line is '$first', expected 'transport: $name'"
    "$echo_probe" --connect="$addr" --frames=200 --max-payload=16384 --seed=7 --timeout-ms=30000 \
        >"$work/probe.out" 2>"$work/probe.err" ||
        fail "$name: echo probe against $addr failed: $(cat "$work/probe.err")"
    pid=$server_pid
    stop_server INT 60 # wine-run execs wine64, so $! is the Wine process
    [ "$stop_status" = "0" ] ||
        fail "$name: server (PID $pid) exited with status $stop_status after SIGINT (expected 0)"
    said=$(grep -m1 'shutting down' "$err" | tr -d '\r' || true)
    [ -n "$said" ] || fail "$name: the server never said it was shutting down after SIGINT"
    echo "ok $name: echoed 200 frames on $addr; SIGINT to PID $pid -> \"$said\", exit 0"
}

serve_and_probe iocp

# rio where Winsock has none (Wine): refused before listening, one line
# naming rio and the way out.
status=0
timeout --kill-after=5 60 "$launcher" "$server" --transport=rio --plugin=echo \
    --listen=127.0.0.1:0 >"$work/rio.out" 2>"$work/rio.err" || status=$?
[ "$status" -eq 2 ] || fail "--transport=rio exited with status $status (expected 2)"
reason=$(tr -d '\r' <"$work/rio.err" | grep '^fastport-server: ' || true)
echo "server says: $reason"
[ "$(printf '%s\n' "$reason" | grep -c .)" -eq 1 ] ||
    fail "--transport=rio: expected one 'fastport-server:' line on stderr"
case $reason in *rio*) ;; *) fail "--transport=rio: the reason does not name rio" ;; esac
case $reason in *iocp*) ;; *) fail "--transport=rio: the reason does not name the available iocp" ;; esac
others=$(tr -d '\r' <"$work/rio.err" | grep -v '^fastport-server: ' | grep -c . || true)
[ "$others" -eq 0 ] || echo "note: $others more stderr line(s), not from fastport-server (Wine?)"
[ ! -s "$work/rio.out" ] || fail "--transport=rio printed on stdout: $(cat "$work/rio.out")"
case $reason in *"Registered I/O is not available"*) ;; *) fail "--transport=rio: the reason does not say RIO is unavailable" ;; esac
echo "ok rio without RIO: exit 2, one line naming rio and iocp"

# rio on the test provider: the same executable, only the flag differs.
export FP_RIO_TEST_PROVIDER=$provider
serve_and_probe rio
unset FP_RIO_TEST_PROVIDER
echo "swap_wine: passed"
