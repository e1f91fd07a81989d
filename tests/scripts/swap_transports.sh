#!/usr/bin/env bash
# One fastport-server binary, every transport library in the transport
# directory: each is started with --transport=NAME, answers an echo probe,
# and exits 0 on SIGTERM. An unknown transport exits 2 and lists the
# available ones.
#   swap_transports.sh SERVER ECHO_PROBE TRANSPORT_PROBE TRANSPORT_DIR
set -euo pipefail

if [ $# -ne 4 ]; then
    echo "usage: $0 SERVER ECHO_PROBE TRANSPORT_PROBE TRANSPORT_DIR" >&2
    exit 2
fi
server=$1 echo_probe=$2 transport_probe=$3 transport_dir=$4

source "$(dirname "$0")/server_lib.sh"

shopt -s nullglob
libraries=("$transport_dir"/*.so)
shopt -u nullglob
[ ${#libraries[@]} -gt 0 ] || fail "no transport library (*.so) in $transport_dir"

names=()
tested=0
for lib in "${libraries[@]}"; do
    name=$(basename "$lib" .so)
    names+=("$name")
    probe_status=0
    why=$("$transport_probe" "$transport_dir" "$name") || probe_status=$?
    if [ "$probe_status" -eq 77 ]; then
        echo "skip $name: this machine cannot run it: $why"
        continue
    fi
    [ "$probe_status" -eq 0 ] || fail "$name: cannot load $lib (fp-transport-probe exit $probe_status)"

    out="$work/$name.out" err="$work/$name.err"
    "$server" --transport="$name" --plugin=echo --listen=127.0.0.1:0 --workers=2 \
        >"$out" 2>"$err" &
    server_pid=$!
    addr=$(wait_listening "$out" 20) || fail "$name: server printed no 'listening on HOST:PORT' within 20 s"
    "$echo_probe" --connect="$addr" --frames=200 --max-payload=16384 --seed=7 \
        >"$work/$name.probe.out" 2>"$work/$name.probe.err" ||
        fail "$name: echo probe against $addr failed: $(cat "$work/$name.probe.err")"
    stop_server TERM 20
    [ "$stop_status" = "0" ] || fail "$name: server exited with status $stop_status after SIGTERM (expected 0)"
    echo "ok $name: echoed 200 frames on $addr, exited 0 on SIGTERM"
    tested=$((tested + 1))
done
[ "$tested" -gt 0 ] || fail "no transport in $transport_dir can run on this machine"

# An unknown transport: usage error (2), and the message lists what exists.
status=0
timeout --kill-after=5 20 "$server" --transport=nosuch --plugin=echo --listen=127.0.0.1:0 \
    >"$work/nosuch.out" 2>"$work/nosuch.err" || status=$?
[ "$status" -eq 2 ] || fail "--transport=nosuch exited with status $status (expected 2)"
for name in "${names[@]}"; do
    grep -q -- "$name" "$work/nosuch.err" ||
        fail "--transport=nosuch: stderr does not name the available transport '$name': $(cat "$work/nosuch.err")"
done
echo "ok nosuch: exit 2, stderr names: ${names[*]}"
echo "swap_transports: $tested transport(s) passed"
