#!/usr/bin/env bash
# Echo throughput per transport, on loopback, with the server on CPU 0 and
# the load client on CPU 1. Builds nothing: point it at a build directory.
#
#   benchmarks/run-echo.sh [--duration=SEC] [--warmup=SEC] [--transports=A,B]
#                          [--workloads=SxDxP,...] BUILD_DIR
#
# Workloads are sessions x in flight x payload bytes (default
# 100x16x64,1000x4x64,100x4x4096,50x2x16384). For each workload, each
# transport found in BUILD_DIR/lib/fastport/transports (or the listed ones)
# in turn gets a fresh fastport-server --transport=T --plugin=echo
# --workers=1 on a free 127.0.0.1 port and one fp-echo-load run; the table
# gives msgs/s, server CPU per message, kernel calls per message
# (io_uring_enter calls, or epoll_wait + read + send calls) and completions
# per batch, from the server's own counters.
set -euo pipefail

duration=10
warmup=2
transports=""
workloads="100x16x64,1000x4x64,100x4x4096,50x2x16384"
build=""
for arg in "$@"; do
    case "${arg}" in
    --duration=*) duration="${arg#*=}" ;;
    --warmup=*) warmup="${arg#*=}" ;;
    --transports=*) transports="${arg#*=}" ;;
    --workloads=*) workloads="${arg#*=}" ;;
    --help)
        sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "run-echo.sh: unknown option '${arg}'" >&2
        exit 2
        ;;
    *) build="${arg}" ;;
    esac
done
if [[ -z "${build}" ]]; then
    echo "usage: run-echo.sh [--duration=SEC] [--warmup=SEC] [--transports=A,B] [--workloads=SxDxP,...] BUILD_DIR" >&2
    exit 2
fi
server_bin="${build}/bin/fastport-server"
load_bin="${build}/bin/fp-echo-load"
for bin in "${server_bin}" "${load_bin}"; do
    [[ -x "${bin}" ]] || { echo "run-echo.sh: ${bin} not found; build first" >&2; exit 2; }
done
if [[ -z "${transports}" ]]; then
    transports="$(find "${build}/lib/fastport/transports" -maxdepth 1 -name '*.so' -printf '%f\n' |
        sed 's/\.so$//' | sort | paste -sd, -)"
fi
[[ -n "${transports}" ]] || { echo "run-echo.sh: no transports in ${build}/lib/fastport/transports" >&2; exit 2; }

hard_nofile="$(ulimit -Hn)"
[[ "${hard_nofile}" == unlimited ]] && hard_nofile="$(cat /proc/sys/fs/nr_open)"
ulimit -n "${hard_nofile}"

server_cpu=(); client_cpu=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_cpu=(taskset -c 0)
    client_cpu=(taskset -c 1)
else
    echo "run-echo.sh: fewer than 2 CPUs or no taskset: running unpinned" >&2
fi

work="$(mktemp -d)"
server_pid=""
stop_server() {
    [[ -n "${server_pid}" ]] || return 0
    kill -TERM "${server_pid}" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "${server_pid}" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "${server_pid}" 2>/dev/null || true
    wait "${server_pid}" 2>/dev/null || true
    server_pid=""
}
trap 'stop_server; rm -rf "${work}"' EXIT

# stat NAME FILE: the value of NAME= in the server's last stats line, or empty
stat() { grep '^stats:' "$2" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.3f", a / b }'; }

start_server() {
    "${server_cpu[@]}" "${server_bin}" --transport="$1" --plugin=echo --workers=1 \
        --listen=127.0.0.1:0 --log-level=debug >"${work}/server.out" 2>"${work}/server.err" &
    server_pid=$!
    port=""
    for ((i = 0; i < 200; i++)); do
        port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/server.out")"
        [[ -n "${port}" ]] && return 0
        kill -0 "${server_pid}" 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

rows=()
status=0
IFS=',' read -r -a transport_list <<<"${transports}"
IFS=',' read -r -a workload_list <<<"${workloads}"
# Interleaved: every transport runs a workload before the next workload
# starts, each on a fresh server so its transport counters are its own.
for workload in "${workload_list[@]}"; do
    IFS='x' read -r sessions depth payload <<<"${workload}"
    name="${sessions}x${depth}x${payload}B"
    for transport in "${transport_list[@]}"; do
        if ! start_server "${transport}"; then
            echo "run-echo.sh: ${transport}: server did not start: $(tail -n 1 "${work}/server.err")" >&2
            rows+=("${transport}|${name}|unavailable|-|-|-")
            stop_server
            status=1
            continue
        fi
        if "${client_cpu[@]}" "${load_bin}" --connect="127.0.0.1:${port}" --sessions="${sessions}" \
            --depth="${depth}" --payload="${payload}" --duration="${duration}" --warmup="${warmup}" \
            --server-pid="${server_pid}" --csv >"${work}/load.out" 2>"${work}/load.err"; then
            IFS=',' read -r _ _ _ _ _ rate _ _ cpu <<<"$(tail -n 1 "${work}/load.out")"
            head -n 1 "${work}/load.out" >&2
            stop_server
            f="${work}/server.err"
            msgs="$(stat tx_packets "$f")"
            enters="$(stat transport.ring_enters "$f")"
            if [[ -z "${enters}" ]]; then
                # readiness transports: every wait, read and send is a system call
                enters="$(awk -v a="$(stat transport.epoll_waits "$f")" -v b="$(stat transport.reads "$f")" \
                    -v c="$(stat transport.sends "$f")" 'BEGIN { print a + b + c }')"
            fi
            per_batch="$(ratio "$(stat transport.completions "$f")" "$(stat transport.completion_batches "$f")")"
            rows+=("${transport}|${name}|${rate}|${cpu:--}|$(ratio "${enters}" "${msgs}")|${per_batch}")
        else
            echo "run-echo.sh: ${transport} ${name}: fp-echo-load failed:" >&2
            cat "${work}/load.err" >&2
            rows+=("${transport}|${name}|failed|-|-|-")
            status=1
            stop_server
        fi
    done
done

printf '%-10s %-14s %12s %18s %16s %18s\n' transport workload msgs/s "server CPU us/msg" \
    "kernel calls/msg" "completions/batch"
for row in "${rows[@]}"; do
    IFS='|' read -r t w r c k b <<<"${row}"
    printf '%-10s %-14s %12s %18s %16s %18s\n' "${t}" "${w}" "${r}" "${c}" "${k}" "${b}"
done
exit "${status}"
