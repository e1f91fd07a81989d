#!/usr/bin/env bash
# Echo throughput per transport, on loopback, with the server on CPU 0 and
# the load client on CPU 1. Builds nothing: point it at a build directory.
#
#   benchmarks/run-echo.sh [--duration=SEC] [--warmup=SEC] [--transports=A,B] BUILD_DIR
#
# For each transport found in BUILD_DIR/lib/fastport/transports (or the
# listed ones): starts fastport-server --transport=T --plugin=echo
# --workers=1 on a free 127.0.0.1 port, runs fp-echo-load for each
# workload, stops the server by its PID and prints one table.
set -euo pipefail

duration=10
warmup=2
transports=""
build=""
for arg in "$@"; do
    case "${arg}" in
    --duration=*) duration="${arg#*=}" ;;
    --warmup=*) warmup="${arg#*=}" ;;
    --transports=*) transports="${arg#*=}" ;;
    --help)
        sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
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
    echo "usage: run-echo.sh [--duration=SEC] [--warmup=SEC] [--transports=A,B] BUILD_DIR" >&2
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

# name sessions depth payload
workloads=("100x16x64B 100 16 64" "1000x4x64B 1000 4 64")

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

rows=()
status=0
IFS=',' read -r -a transport_list <<<"${transports}"
for transport in "${transport_list[@]}"; do
    "${server_cpu[@]}" "${server_bin}" --transport="${transport}" --plugin=echo --workers=1 \
        --listen=127.0.0.1:0 --log-level=warn >"${work}/server.out" 2>"${work}/server.err" &
    server_pid=$!
    port=""
    for ((i = 0; i < 200; i++)); do
        port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/server.out")"
        [[ -n "${port}" ]] && break
        kill -0 "${server_pid}" 2>/dev/null || break
        sleep 0.05
    done
    if [[ -z "${port}" ]]; then
        echo "run-echo.sh: ${transport}: server did not start: $(tail -n 1 "${work}/server.err")" >&2
        rows+=("${transport}|-|unavailable|-")
        stop_server
        status=1
        continue
    fi
    for workload in "${workloads[@]}"; do
        read -r name sessions depth payload <<<"${workload}"
        if "${client_cpu[@]}" "${load_bin}" --connect="127.0.0.1:${port}" --sessions="${sessions}" \
            --depth="${depth}" --payload="${payload}" --duration="${duration}" --warmup="${warmup}" \
            --server-pid="${server_pid}" --csv >"${work}/load.out" 2>"${work}/load.err"; then
            IFS=',' read -r _ _ _ _ _ rate _ _ cpu <<<"$(tail -n 1 "${work}/load.out")"
            rows+=("${transport}|${name}|${rate}|${cpu:--}")
            head -n 1 "${work}/load.out" >&2
        else
            echo "run-echo.sh: ${transport} ${name}: fp-echo-load failed:" >&2
            cat "${work}/load.err" >&2
            rows+=("${transport}|${name}|failed|-")
            status=1
        fi
    done
    stop_server
done

printf '%-10s %-12s %12s %18s\n' transport workload msgs/s "server CPU us/msg"
for row in "${rows[@]}"; do
    IFS='|' read -r t w r c <<<"${row}"
    printf '%-10s %-12s %12s %18s\n' "${t}" "${w}" "${r}" "${c}"
done
exit "${status}"
