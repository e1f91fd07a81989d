#!/usr/bin/env bash
# Memory held by idle sessions: the server's resident set per idle
# connection, and the kernel's TCP socket memory, on loopback.
#
#   benchmarks/idle-rss.sh [--sessions=N] [--transport=T] [--workers=N] BUILD_DIR
#
# Starts fastport-server --plugin=echo on a free 127.0.0.1 port, reads its
# VmRSS, has fp-echo-load --idle open N connections (default 10000) and
# hold them, waits until the server reports them all open, reads VmRSS and
# /proc/net/sockstat again, prints (after - before) / N, then stops both.
set -euo pipefail

sessions=10000
transport=""
workers=1
build=""
for arg in "$@"; do
    case "${arg}" in
    --sessions=*) sessions="${arg#*=}" ;;
    --transport=*) transport="${arg#*=}" ;;
    --workers=*) workers="${arg#*=}" ;;
    --help)
        sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
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
server_bin="${build}/bin/fastport-server"
load_bin="${build}/bin/fp-echo-load"
for bin in "${server_bin}" "${load_bin}"; do
    [[ -x "${bin}" ]] || { echo "idle-rss.sh: ${bin} not found; build first" >&2; exit 2; }
done

# Each side holds one descriptor per session.
hard_nofile="$(ulimit -Hn)"
[[ "${hard_nofile}" == unlimited ]] && hard_nofile="$(cat /proc/sys/fs/nr_open)"
ulimit -n "${hard_nofile}"
if ((hard_nofile < sessions + 64)); then
    echo "idle-rss.sh: ${sessions} sessions need a descriptor limit over $((sessions + 64)); the hard limit is ${hard_nofile}" >&2
    exit 2
fi

work="$(mktemp -d)"
server_pid=""
client_pid=""
stop() { # stop PID: TERM, bounded wait, then KILL
    [[ -n "$1" ]] || return 0
    kill -TERM "$1" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}
trap 'stop "${client_pid}"; stop "${server_pid}"; rm -rf "${work}"' EXIT

wait_for() { # wait_for FILE PATTERN SECONDS
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
tcp_mem_pages() { awk '$1 == "TCP:" { for (i = 2; i < NF; i++) if ($i == "mem") print $(i + 1) }' /proc/net/sockstat; }

transport_arg=()
[[ -n "${transport}" ]] && transport_arg=(--transport="${transport}")
"${server_bin}" "${transport_arg[@]}" --plugin=echo --workers="${workers}" --listen=127.0.0.1:0 \
    --stats-interval=0.5 --log-level=warn >"${work}/server.out" 2>"${work}/server.err" &
server_pid=$!
if ! wait_for "${work}/server.out" '^listening on ' 20; then
    echo "idle-rss.sh: server did not start:" >&2
    cat "${work}/server.err" >&2
    exit 1
fi
port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/server.out")"
used_transport="$(sed -n 's/^transport: //p' "${work}/server.out")"
sleep 1
rss_before="$(rss_kb "${server_pid}")"
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
tcp_after="$(tcp_mem_pages)"
sockstat="$(grep '^TCP:' /proc/net/sockstat)"

page="$(getconf PAGESIZE)"
echo "transport:               ${used_transport} (${workers} worker(s))"
echo "idle sessions:           ${sessions}"
echo "server VmRSS:            ${rss_before} kB before, ${rss_after} kB after"
awk -v b="${rss_before}" -v a="${rss_after}" -v n="${sessions}" \
    'BEGIN { printf "server RSS per session:  %.0f bytes\n", (a - b) * 1024 / n }'
echo "kernel TCP memory:       ${tcp_before} pages before, ${tcp_after} pages after (page ${page} B; both ends of each loopback connection)"
echo "sockstat:                ${sockstat}"

stop "${client_pid}"
client_pid=""
stop "${server_pid}"
server_pid=""
