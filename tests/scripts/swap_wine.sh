#!/usr/bin/env bash
# The Windows fastport-server.exe under Wine, its transport chosen by name:
# --transport=iocp --plugin=echo answers the Linux echo probe over loopback
# and exits 0 on SIGINT (Wine hands the program CTRL_C_EVENT); --transport=rio,
# which the build does not have, exits 2 with one line on stderr naming rio
# and the available iocp.
#   swap_wine.sh WINDOWS_BUILD_DIR ECHO_PROBE
# Skips (77, with the reason) while the build lacks the .exe, its Wine runner
# or iocp.dll. Every server it starts is stopped by PID, also on failure.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 WINDOWS_BUILD_DIR ECHO_PROBE" >&2
    exit 2
fi
build=$1 echo_probe=$2
source "$(dirname "$0")/wine_lib.sh"
source "$(dirname "$0")/server_lib.sh"
wine_build_ready swap_wine "$build" iocp

# iocp: serves the echo plugin, stops cleanly on SIGINT. A background job
# of a script starts with SIGINT ignored; env gives it back its default.
out=$work/iocp.out err=$work/iocp.err
env --default-signal=INT "$launcher" "$server" --transport=iocp --plugin=echo \
    --listen=127.0.0.1:0 --workers=2 >"$out" 2>"$err" &
server_pid=$!
addr=$(wait_listening "$out" 60) || fail "iocp: server printed no 'listening on HOST:PORT' within 60 s"
first=$(head -n1 "$out" | tr -d '\r')
[ "$first" = "transport: iocp" ] || fail "iocp: first stdout line is '$first', expected 'transport: iocp'"
"$echo_probe" --connect="$addr" --frames=200 --max-payload=16384 --seed=7 --timeout-ms=30000 \
    >"$work/probe.out" 2>"$work/probe.err" ||
    fail "iocp: echo probe against $addr failed: $(cat "$work/probe.err")"
pid=$server_pid
stop_server INT 60 # wine-run execs wine64, so $! is the Wine process
[ "$stop_status" = "0" ] || fail "iocp: server (PID $pid) exited with status $stop_status after SIGINT (expected 0)"
said=$(grep -m1 'shutting down' "$err" | tr -d '\r' || true)
[ -n "$said" ] || fail "iocp: the server never said it was shutting down after SIGINT"
echo "ok iocp: echoed 200 frames on $addr; SIGINT to PID $pid -> \"$said\", exit 0"

# rio: not in the build; refused before listening, naming what is there.
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
echo "ok rio: exit 2, one line naming rio and iocp"
echo "swap_wine: passed"
