#!/usr/bin/env bash
# Memory held by idle sessions: the server's resident set per idle
# connection, and the kernel's TCP socket memory, on loopback.
#
#   benchmarks/idle-rss.sh [--sessions=N] [--transport=T] [--workers=N]
#                          [--server-build=DIR] BUILD_DIR
#
# Starts fastport-server --plugin=echo on a free 127.0.0.1 port, reads its
# VmRSS and RssAnon (its private memory), has fp-echo-load --idle open N
# connections (default 10000) and hold them, waits until the server reports
# them all open, reads them and /proc/net/sockstat again, prints
# (after - before) / N, then stops both. --server-build=DIR takes the server
# from another build; a Windows build (bin/fastport-server.exe and wine-run,
# the mingw preset) runs it under Wine, and the wineserver's private memory
# is reported too, since Wine keeps part of each socket's state there.
set -euo pipefail

sessions=10000
transport=""
workers=1
build=""
server_build=""
for arg in "$@"; do
    case "${arg}" in
    --sessions=*) sessions="${arg#*=}" ;;
    --transport=*) transport="${arg#*=}" ;;
    --workers=*) workers="${arg#*=}" ;;
    --server-build=*) server_build="${arg#*=}" ;;
    --help)
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "idle-rss.sh: unknown option '${arg}'" >&2
        exit 2
        ;;
    *) build="${arg}" ;;
    esac
done
if [[ -z "${build}" ]]; then
    echo "usage: idle-rss.sh [--sessions=N] [--transport=T] [--workers=N] BUILD_DIR" >&2
    exit 2
fi
server_build="${server_build:-${build}}"
server_cmd=("${server_build}/bin/fastport-server")
wine_hosted=""
if [[ -x "${server_build}/bin/fastport-server.exe" && -x "${server_build}/wine-run" ]]; then
    server_cmd=("${server_build}/wine-run" "${server_build}/bin/fastport-server.exe")
    wine_hosted=1
fi
load_bin="${build}/bin/fp-echo-load"
for bin in "${server_cmd[-1]}" "${load_bin}"; do
    [[ -x "${bin}" ]] || { echo "idle-rss.sh: ${bin} not found; build first" >&2; exit 2; }
done

source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"

# Each side holds one descriptor per session.
hard_nofile="$(raise_nofile)"
if ((hard_nofile < sessions + 64)); then
    echo "idle-rss.sh: ${sessions} sessions need a descriptor limit over $((sessions + 64)); the hard limit is ${hard_nofile}" >&2
    exit 2
fi

work="$(mktemp -d)"
server_pid=""
client_pid=""
trap 'stop_pid "${client_pid}"; stop_pid "${server_pid}"; rm -rf "${work}"' EXIT

wineserver_pid() { pgrep -n -x 'wineserver(64)?' || true; }
tcp_mem_pages() { awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat; }

transport_arg=()
[[ -n "${transport}" ]] && transport_arg=(--transport="${transport}")
"${server_cmd[@]}" "${transport_arg[@]}" --plugin=echo --workers="${workers}" --listen=127.0.0.1:0 \
    --stats-interval=0.5 --log-level=warn >"${work}/server.out" 2>"${work}/server.err" &
server_pid=$!
if ! wait_for "${work}/server.out" '^listening on ' 60; then
    echo "idle-rss.sh: server did not start:" >&2
    cat "${work}/server.err" >&2
    exit 1
fi
port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/server.out")"
used_transport="$(sed -n 's/^transport: //p' "${work}/server.out")"
sleep 1
rss_before="$(rss_kb "${server_pid}")"
private_before="$(private_kb "${server_pid}")"
ws_pid="" ws_before=""
if [[ -n "${wine_hosted}" ]]; then
    ws_pid="$(wineserver_pid)"
    [[ -n "${ws_pid}" ]] && ws_before="$(private_kb "${ws_pid}")"
fi
tcp_before="$(tcp_mem_pages)"

"${load_bin}" --connect="127.0.0.1:${port}" --idle --sessions="${sessions}" --hold=300 \
    >"${work}/client.out" 2>"${work}/client.err" &
client_pid=$!
if ! wait_for "${work}/client.out" "^connected ${sessions}\$" 120; then
    echo "idle-rss.sh: the client did not open ${sessions} sessions:" >&2
    cat "${work}/client.err" >&2
    exit 1
fi
# The client is done when its connects complete; the server when it has
# accepted them all.
if ! wait_for "${work}/server.err" "^stats: sessions_open=${sessions} " 60; then
    echo "idle-rss.sh: the server did not report ${sessions} open sessions:" >&2
    tail -n 2 "${work}/server.err" >&2
    exit 1
fi
sleep 1
rss_after="$(rss_kb "${server_pid}")"
private_after="$(private_kb "${server_pid}")"
tcp_after="$(tcp_mem_pages)"
sockstat="$(grep '^TCP:' /proc/net/sockstat)"

page="$(getconf PAGESIZE)"
echo "transport:               ${used_transport} (${workers} worker(s))"
echo "idle sessions:           ${sessions}"
echo "server VmRSS:            ${rss_before} kB before, ${rss_after} kB after"
per_session() { awk -v b="$1" -v a="$2" -v n="${sessions}" 'BEGIN { printf "%.0f bytes", (a - b) * 1024 / n }'; }
echo "server RSS per session:  $(per_session "${rss_before}" "${rss_after}")"
echo "server private memory:   ${private_before} kB before, ${private_after} kB after: $(per_session "${private_before}" "${private_after}") per session"
if [[ -n "${ws_before}" ]]; then
    ws_after="$(private_kb "${ws_pid}")"
    echo "wineserver private:      ${ws_before} kB before, ${ws_after} kB after: $(per_session "${ws_before}" "${ws_after}") per session"
fi
echo "kernel TCP memory:       ${tcp_before} pages before, ${tcp_after} pages after (page ${page} B; both ends of each loopback connection)"
echo "sockstat:                ${sockstat}"

stop_pid "${client_pid}"
client_pid=""
stop_pid "${server_pid}"
server_pid=""
