#!/usr/bin/env bash
# Echo throughput per transport, on loopback, with the server on CPU 0 and
# the load client on CPU 1. Builds nothing: point it at a build directory.
#
#   benchmarks/run-echo.sh [--duration=SEC] [--warmup=SEC] [--runs=N]
#                          [--transports=A,B] [--workloads=SxDxP,...]
#                          [--raw=FILE] BUILD_DIR
#
# A transport may carry options: --transports=epoll,uring,uring:lend=0
# compares uring with and without lending against epoll. NAME@DIR runs the
# server of another build directory (its own transports):
# --transports=epoll@../old/build,epoll compares a change with its base.
# A DIR holding a Windows build (bin/fastport-server.exe and wine-run, the
# mingw preset) runs that server under Wine: --transports=epoll,iocp@build-mingw.
# Wine does part of a Windows program's I/O in its wineserver process,
# whose CPU per message gets its own column.
#
# Workloads are sessions x in flight x payload bytes (default
# 100x16x64,1000x4x64,100x4x4096,50x2x16384). For each workload, each
# transport found in BUILD_DIR/lib/fastport/transports (or the listed ones)
# in turn gets a fresh fastport-server --transport=T --plugin=echo
# --workers=1 on a free 127.0.0.1 port and one fp-echo-load run, --runs
# times, interleaved (A B, B A, A B ...), because a shared host drifts by tens of
# percent between runs of the same configuration. The table gives medians
# (min-max) of msgs/s and server CPU per message, kernel calls per message
# (io_uring_enter calls, or epoll_wait + read + send calls) and completions
# per batch from the server's own counters, the load client's own CPU per
# message (when it is near 1e6 / msgs/s, the client is the bottleneck), and
# against the first transport the median of the per-round CPU ratios with
# the rounds it was at or below.
# Every run is also written to --raw=FILE when given.
set -euo pipefail

duration=5
warmup=1
runs=5
raw=""
transports=""
workloads="100x16x64,1000x4x64,100x4x4096,50x2x16384"
build=""
for arg in "$@"; do
    case "${arg}" in
    --duration=*) duration="${arg#*=}" ;;
    --warmup=*) warmup="${arg#*=}" ;;
    --runs=*) runs="${arg#*=}" ;;
    --raw=*) raw="${arg#*=}" ;;
    --transports=*) transports="${arg#*=}" ;;
    --workloads=*) workloads="${arg#*=}" ;;
    --help)
        sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
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
    echo "usage: run-echo.sh [--duration=SEC] [--warmup=SEC] [--runs=N] [--transports=A,B] [--workloads=SxDxP,...] [--raw=FILE] BUILD_DIR" >&2
    exit 2
fi
[[ "${runs}" =~ ^[1-9][0-9]*$ ]] || { echo "run-echo.sh: --runs must be a positive integer, got '${runs}'" >&2; exit 2; }
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

source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
raise_nofile >/dev/null

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
    # SIGINT: a Wine-hosted server sees it as Ctrl-C (SIGTERM would end it
    # at once, without its final stats line).
    kill -INT "${server_pid}" 2>/dev/null || true
    for ((i = 0; i < 200; i++)); do
        kill -0 "${server_pid}" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "${server_pid}" 2>/dev/null || true
    wait "${server_pid}" 2>/dev/null || true
    server_pid=""
}
trap 'stop_server; rm -rf "${work}"' EXIT

# cpu_ticks PID: user + system time of a process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
wineserver_pid() { pgrep -n -x 'wineserver(64)?' || true; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.3f", a / b }'; }

# start_server NAME[:KEY=VALUE[:KEY=VALUE...]][@BUILD_DIR]: the transport,
# its options, and the build whose server runs it
start_server() {
    local spec name text="$1" bin=("${server_bin}")
    wine_hosted=""
    if [[ "${text}" == *@* ]]; then
        local dir="${text#*@}"
        bin=("${dir}/bin/fastport-server")
        if [[ -x "${dir}/bin/fastport-server.exe" && -x "${dir}/wine-run" ]]; then
            bin=("${dir}/wine-run" "${dir}/bin/fastport-server.exe")
            wine_hosted=1
        fi
        text="${text%%@*}"
    fi
    IFS=':' read -r -a spec <<<"${text}"
    name="${spec[0]}"
    local opts=()
    for kv in "${spec[@]:1}"; do opts+=(--transport-opt="${kv}"); done
    "${server_cpu[@]}" "${bin[@]}" --transport="${name}" "${opts[@]}" --plugin=echo --workers=1 \
        --listen=127.0.0.1:0 --log-level=debug >"${work}/server.out" 2>"${work}/server.err" &
    server_pid=$!
    port=""
    for ((i = 0; i < 600; i++)); do # Wine takes seconds to start
        port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/server.out")"
        [[ -n "${port}" ]] && return 0
        kill -0 "${server_pid}" 2>/dev/null || break
        sleep 0.05
    done
    return 1
}

status=0
results="${work}/results" # transport workload round msgs/s cpu calls/msg completions/batch client-cpu wineserver-cpu
: >"${results}"
IFS=',' read -r -a transport_list <<<"${transports}"
IFS=',' read -r -a workload_list <<<"${workloads}"
# Interleaved: every transport runs a workload before the next round
# starts, each on a fresh server so its transport counters are its own.
for workload in "${workload_list[@]}"; do
    IFS='x' read -r sessions depth payload <<<"${workload}"
    name="${sessions}x${depth}x${payload}B"
    for ((round = 1; round <= runs; round++)); do
        order=("${transport_list[@]}")
        if ((round % 2 == 0)); then # A B, B A, A B ...: drift falls on both sides
            order=()
            for ((i = ${#transport_list[@]} - 1; i >= 0; i--)); do order+=("${transport_list[i]}"); done
        fi
        for transport in "${order[@]}"; do
            if ! start_server "${transport}"; then
                echo "run-echo.sh: ${transport}: server did not start: $(tail -n 1 "${work}/server.err")" >&2
                stop_server
                status=1
                continue
            fi
            ws_pid="" ws_before=0
            if [[ -n "${wine_hosted}" ]]; then
                ws_pid="$(wineserver_pid)"
                [[ -n "${ws_pid}" ]] && ws_before="$(cpu_ticks "${ws_pid}")"
            fi
            if ! "${client_cpu[@]}" "${load_bin}" --connect="127.0.0.1:${port}" --sessions="${sessions}" \
                --depth="${depth}" --payload="${payload}" --duration="${duration}" --warmup="${warmup}" \
                --server-pid="${server_pid}" --csv >"${work}/load.out" 2>"${work}/load.err"; then
                echo "run-echo.sh: ${transport} ${name}: fp-echo-load failed:" >&2
                cat "${work}/load.err" >&2
                status=1
                stop_server
                continue
            fi
            IFS=',' read -r _ _ _ _ _ rate _ _ cpu client <<<"$(tail -n 1 "${work}/load.out")"
            echo "${transport} ${name} run ${round}/${runs}: $(head -n 1 "${work}/load.out")" >&2
            ws_ticks=""
            [[ -n "${ws_pid}" ]] && ws_ticks=$(($(cpu_ticks "${ws_pid}") - ws_before))
            stop_server
            f="${work}/server.err"
            msgs="$(server_stat tx_packets "$f")"
            enters="$(server_stat transport.ring_enters "$f")"
            if [[ -z "${enters}" ]]; then
                # readiness transports: every wait, read and send is a system call
                enters="$(awk -v a="$(server_stat transport.epoll_waits "$f")" -v b="$(server_stat transport.reads "$f")" \
                    -v c="$(server_stat transport.sends "$f")" 'BEGIN { print a + b + c }')"
            fi
            per_batch="$(ratio "$(server_stat transport.completions "$f")" "$(server_stat transport.completion_batches "$f")")"
            ws_us="-"
            [[ -n "${ws_ticks}" ]] && ws_us="$(awk -v t="${ws_ticks}" -v hz="$(getconf CLK_TCK)" -v m="${msgs}" \
                'BEGIN { if (m > 0) printf "%.3f", t / hz * 1e6 / m; else print "-" }')"
            echo "${transport} ${name} ${round} ${rate} ${cpu:--} $(ratio "${enters}" "${msgs}") ${per_batch} ${client:--} ${ws_us}" >>"${results}"
        done
    done
done
[[ -n "${raw}" ]] && cp "${results}" "${raw}"

# Medians per (transport, workload); ratios per round against the first transport.
awk -v base="${transport_list[0]}" '
function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
    if (n == 0) return "-"
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function lo(list,    n, a, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
function hi(list,    n, a, i, m) { n = split(list, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
{
    key = $1 SUBSEP $2
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    rate[key] = rate[key] " " $4; cpu[key] = cpu[key] " " $5
    if ($6 != "-") calls[key] = calls[key] " " $6
    if ($7 != "-") batch[key] = batch[key] " " $7
    if ($8 != "-") client[key] = client[key] " " $8
    if ($9 != "" && $9 != "-") wine[key] = wine[key] " " $9
    at[$1, $2, $3] = $5
    rounds[$2] = rounds[$2] > $3 ? rounds[$2] : $3
}
END {
    printf "%-14s %-13s %26s %26s %11s %12s %11s %13s %18s\n", "transport", "workload", "msgs/s median (min-max)",
        "CPU us/msg median (min-max)", "calls/msg", "compl/batch", "client us", "wineserver us", "CPU vs " base
    for (i = 1; i <= n; i++) {
        split(order[i], k, SUBSEP); t = k[1]; w = k[2]
        vs = "-"
        if (t != base) {
            list = ""; wins = 0; m = 0
            for (r = 1; r <= rounds[w]; r++)
                if (((t, w, r) in at) && ((base, w, r) in at) && at[base, w, r] > 0) {
                    q = at[t, w, r] / at[base, w, r]; list = list " " q; m++
                    if (q <= 1) wins++
                }
            if (m) vs = sprintf("%.3f (%d/%d at or below)", median(list), wins, m)
        }
        printf "%-14s %-13s %26s %26s %11s %12s %11s %13s %18s\n", t, w,
            sprintf("%d (%d-%d)", median(rate[order[i]]), lo(rate[order[i]]), hi(rate[order[i]])),
            sprintf("%.3f (%.3f-%.3f)", median(cpu[order[i]]), lo(cpu[order[i]]), hi(cpu[order[i]])),
            (order[i] in calls) ? sprintf("%.3f", median(calls[order[i]])) : "-",
            (order[i] in batch) ? sprintf("%.2f", median(batch[order[i]])) : "-",
            (order[i] in client) ? sprintf("%.3f", median(client[order[i]])) : "-",
            (order[i] in wine) ? sprintf("%.3f", median(wine[order[i]])) : "-", vs
    }
}' "${results}"
exit "${status}"
