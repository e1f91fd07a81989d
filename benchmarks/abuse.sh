#!/usr/bin/env bash
# Issue 11's attacks, measured against its "Done when" thresholds, on loopback:
#
#   benchmarks/abuse.sh [--transport=T] [--connections=N] [--readers=N]
#                       [--rounds=N] [--bench-seconds=SEC]
#                       [--server-opts="..."] BUILD_DIR
#
# Starts fastport-server --plugin=echo,fastport --workers=1 --max-packet=16384
# --idle-timeout=10 (+ --server-opts) on a free 127.0.0.1 port (the fastport
# plugin answers the healthy client, fastport-bench), pinned to CPU 0 with
# the clients on CPU 1 when taskset and 2 CPUs are there, and measures:
#  1. the server's VmRSS and RssAnon at rest;
#  2. a healthy client (fastport-bench, 16 sessions, --bench-seconds, 8 by
#     default to stay inside the frame timeout) alone, then while
#     fp-abuse --slowloris=N (default 500, a byte every 2 s) attacks,
#     --rounds times (default 3) interleaved, since this host's speed
#     drifts: each round's p99 ratio and their median; and per round how many
#     slowloris connections the server closed and the largest delay from a
#     connection's first byte to its close;
#  3. fp-abuse --never-read=N (default 50): the server's RSS growth per reader
#     (at their stall and at its peak while they are connected), when they
#     are closed relative to their stall and by which counter, and the RSS
#     10 s after they are gone, against the RSS just before they came.
# Then a table with pass/fail per threshold: p99 ratio <= 2, slowloris closed
# within the frame timeout + 1 s, per reader <= 256 KiB, readers closed by the
# send timeout within it + 1 s, RSS back within 4 MiB; exit 1 if any fails.
# The timeouts are read from --server-opts, else from the server's --help
# defaults; a server without --send-timeout fails the readers' rows.
# A benchmark, not a test: its thresholds are times on a shared machine.
set -euo pipefail

transport=""
connections=500
readers=50
rounds=3
bench_seconds=8
server_opts=""
build=""
for arg in "$@"; do
    case "${arg}" in
    --transport=*) transport="${arg#*=}" ;;
    --connections=*) connections="${arg#*=}" ;;
    --readers=*) readers="${arg#*=}" ;;
    --rounds=*) rounds="${arg#*=}" ;;
    --bench-seconds=*) bench_seconds="${arg#*=}" ;;
    --server-opts=*) server_opts="${arg#*=}" ;;
    --help)
        sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "abuse.sh: unknown option '${arg}'" >&2
        exit 2
        ;;
    *) build="${arg}" ;;
    esac
done
if [[ -z "${build}" ]]; then
    echo "usage: abuse.sh [--transport=T] [--connections=N] [--readers=N] [--rounds=N] [--bench-seconds=SEC] [--server-opts=\"...\"] BUILD_DIR" >&2
    exit 2
fi
for n in "${connections}" "${readers}" "${rounds}" "${bench_seconds}"; do
    [[ "${n}" =~ ^[1-9][0-9]*$ ]] || { echo "abuse.sh: '${n}' is not a positive integer" >&2; exit 2; }
done
server_bin="${build}/bin/fastport-server"
bench_bin="${build}/bin/fastport-bench"
abuse_bin="${build}/bin/fp-abuse"
for bin in "${server_bin}" "${bench_bin}" "${abuse_bin}"; do
    [[ -x "${bin}" ]] || { echo "abuse.sh: ${bin} not found; build first" >&2; exit 2; }
done

source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
hard_nofile="$(raise_nofile)"
if ((hard_nofile < connections + readers + 256)); then
    echo "abuse.sh: the descriptor limit ${hard_nofile} is too low for ${connections} + ${readers} connections" >&2
    exit 2
fi

read -r -a extra_opts <<<"${server_opts}"
help_text="$("${server_bin}" --help)"
# timeout NAME: seconds from --server-opts, else the --help default; empty
# when the server has no such option.
timeout_of() {
    local opt value=""
    for opt in "${extra_opts[@]}"; do
        [[ "${opt}" == "--$1="* ]] && value="${opt#*=}"
    done
    if [[ -z "${value}" ]]; then
        value="$(sed -n "s/^ *--$1=SEC .*(default \([0-9.]*\).*/\1/p" <<<"${help_text}")"
    fi
    echo "${value}"
}
frame_timeout="$(timeout_of frame-timeout)"
send_timeout="$(timeout_of send-timeout)"
if [[ -z "${frame_timeout}" ]]; then
    echo "abuse.sh: ${server_bin} has no --frame-timeout: the slowloris rows need one" >&2
    exit 2
fi
if ((bench_seconds + 1 >= ${frame_timeout%.*})); then
    echo "abuse.sh: warning: --bench-seconds=${bench_seconds} outlasts the slowloris connections" \
        "(closed after the ${frame_timeout} s frame timeout): part of each attacked run is not attacked" >&2
fi

server_cpu=()
client_cpu=()
if command -v taskset >/dev/null && (($(nproc) >= 2)); then
    server_cpu=(taskset -c 0)
    client_cpu=(taskset -c 1)
fi

work="$(mktemp -d)"
server_pid=""
abuse_pid=""
trap 'stop_pid "${abuse_pid}"; stop_pid "${server_pid}"; rm -rf "${work}"' EXIT

transport_arg=()
[[ -n "${transport}" ]] && transport_arg=(--transport="${transport}")
"${server_cpu[@]}" "${server_bin}" "${transport_arg[@]}" --plugin=echo,fastport --workers=1 \
    --max-packet=16384 --idle-timeout=10 --listen=127.0.0.1:0 --stats-interval=1 --log-level=warn \
    "${extra_opts[@]}" >"${work}/server.out" 2>"${work}/server.err" &
server_pid=$!
if ! wait_for "${work}/server.out" '^listening on ' 30; then
    echo "abuse.sh: the server did not start:" >&2
    cat "${work}/server.err" >&2
    exit 1
fi
addr="$(sed -n 's/^listening on //p' "${work}/server.out")"
used_transport="$(sed -n 's/^transport: //p' "${work}/server.out")"
echo "server: ${used_transport} on ${addr}, frame timeout ${frame_timeout:-none} s, send timeout ${send_timeout:-none} s${server_opts:+, extra: ${server_opts}}"

# counter NAME: the server's value in its latest stats line (one a second).
counter() { server_stat "$1" "${work}/server.err"; }

# --- 1. at rest ---------------------------------------------------------------
sleep 1
rss_start="$(rss_kb "${server_pid}")"
private_start="$(private_kb "${server_pid}")"
echo "at rest: VmRSS ${rss_start} kB, RssAnon ${private_start} kB"

# --- 2. healthy client alone and under slowloris, interleaved -------------------
# bench_p99 NAME: one fastport-bench run; prints its p99 in µs.
bench_p99() {
    local csv="${work}/$1.csv"
    if ! "${client_cpu[@]}" "${bench_bin}" --connect="${addr}" --sessions=16 --duration="${bench_seconds}" \
        --csv="${csv}" >"${work}/$1.out" 2>"${work}/$1.err"; then
        echo "abuse.sh: fastport-bench ($1) failed:" >&2
        tail -n 5 "${work}/$1.err" >&2
        return 1
    fi
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "p99_latency_ns") c = i }
             NR == 2 { printf "%.1f", $c / 1000 }' "${csv}"
}

ratios=()
slow_closed_min="${connections}"
slow_delay_max=0
for ((round = 1; round <= rounds; round++)); do
    solo="$(bench_p99 "solo${round}")"

    "${client_cpu[@]}" "${abuse_bin}" --connect="${addr}" --slowloris="${connections}" --interval=2 \
        --duration=$((${frame_timeout%.*} + 30)) --csv >"${work}/slow${round}.out" 2>"${work}/slow${round}.err" &
    abuse_pid=$!
    if ! wait_for "${work}/slow${round}.out" "^connected ${connections}\$" 60; then
        echo "abuse.sh: fp-abuse did not open ${connections} slowloris connections:" >&2
        cat "${work}/slow${round}.err" >&2
        exit 1
    fi
    attacked="$(bench_p99 "attacked${round}")"
    wait "${abuse_pid}" || { echo "abuse.sh: fp-abuse --slowloris failed: $(cat "${work}/slow${round}.err")" >&2; exit 1; }
    abuse_pid=""
    IFS=',' read -r _ _ closed _ _ _ _ delay_max <<<"$(tail -n 1 "${work}/slow${round}.out")"
    ratio="$(awk -v a="${attacked}" -v s="${solo}" 'BEGIN { printf "%.2f", a / s }')"
    ratios+=("${ratio}")
    ((closed < slow_closed_min)) && slow_closed_min="${closed}"
    # A round whose connections were never closed has no delay: it fails the row.
    slow_delay_max="$(awk -v a="${slow_delay_max}" -v b="${delay_max:-inf}" \
        'BEGIN { print (b == "inf" || a == "inf") ? "inf" : (b > a ? b : a) }')"
    echo "round ${round}: healthy p99 ${solo} us alone, ${attacked} us under ${connections} slowloris: x${ratio};" \
        "slowloris closed ${closed}/${connections}, last ${delay_max:--} s after its first byte"
done
ratio_median="$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }')"

# --- 3. never-reading clients ---------------------------------------------------
sleep 1.1 # a stats line from after the last round
frames_before="$(counter frame_timeouts)"
idles_before="$(counter idle_timeouts)"
sends_before="$(counter send_timeouts)"
closes_before="$(counter close_timeouts)"
rss_before="$(rss_kb "${server_pid}")"
private_before="$(private_kb "${server_pid}")"
echo "before the readers: VmRSS ${rss_before} kB, RssAnon ${private_before} kB"

# Without a send timeout the readers run until --duration ends them.
reader_seconds=$((${send_timeout:-10} + ${frame_timeout%.*} + 20))
"${client_cpu[@]}" "${abuse_bin}" --connect="${addr}" --never-read="${readers}" --duration="${reader_seconds}" \
    --csv >"${work}/readers.out" 2>"${work}/readers.err" &
abuse_pid=$!
if ! wait_for "${work}/readers.out" '^(stalled |never-read: )' 60; then
    echo "abuse.sh: the never-readers did not stall within 60 s:" >&2
    cat "${work}/readers.out" "${work}/readers.err" >&2
    exit 1
fi
rss_stalled="$(rss_kb "${server_pid}")"
rss_peak="${rss_stalled}"
while kill -0 "${abuse_pid}" 2>/dev/null; do
    rss="$(rss_kb "${server_pid}")"
    ((rss > rss_peak)) && rss_peak="${rss}"
    sleep 0.2
done
wait "${abuse_pid}" || { echo "abuse.sh: fp-abuse --never-read failed: $(cat "${work}/readers.err")" >&2; exit 1; }
abuse_pid=""
sed -n '/^never-read: /p' "${work}/readers.out"
IFS=',' read -r _ _ readers_closed _ _ _ _ reader_delay_max <<<"$(tail -n 1 "${work}/readers.out")"
sleep 10 # also brings a stats line from after they left
rss_after="$(rss_kb "${server_pid}")"
private_after="$(private_kb "${server_pid}")"
frames_delta=$(($(counter frame_timeouts) - frames_before))
idles_delta=$(($(counter idle_timeouts) - idles_before))
closes_delta=$(($(counter close_timeouts) - closes_before))
sends_now="$(counter send_timeouts)"
sends_delta="-"
[[ -n "${sends_now}" && -n "${sends_before}" ]] && sends_delta=$((sends_now - sends_before))
sends_shown="${sends_delta}"
[[ "${sends_delta}" == "-" ]] && sends_shown="not counted by this server" || sends_shown="+${sends_delta}"

per_reader_stalled="$(awk -v a="${rss_stalled}" -v b="${rss_before}" -v n="${readers}" 'BEGIN { printf "%.0f", (a - b) / n }')"
per_reader_peak="$(awk -v a="${rss_peak}" -v b="${rss_before}" -v n="${readers}" 'BEGIN { printf "%.0f", (a - b) / n }')"
after_mib="$(awk -v a="${rss_after}" -v b="${rss_before}" 'BEGIN { printf "%.2f", (a - b) / 1024 }')"
echo "readers: VmRSS ${rss_stalled} kB at their stall, ${rss_peak} kB at its peak; 10 s after they left ${rss_after} kB" \
    "(RssAnon ${private_after} kB); counters while they ran: idle_timeouts +${idles_delta}," \
    "frame_timeouts +${frames_delta}, close_timeouts +${closes_delta}, send_timeouts ${sends_shown}"

# --- the table --------------------------------------------------------------------
failed=0
row() { # row MEASUREMENT VALUE LIMIT PASS(0|1)
    local verdict=pass
    [[ "$4" == 1 ]] || { verdict=FAIL; failed=1; }
    printf '%-44s %-34s %-18s %s\n' "$1" "$2" "$3" "${verdict}"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a != "" && a != "inf" && a + 0 <= b + 0) ? 1 : 0 }'; }
echo
echo "abuse.sh: ${used_transport}, ${connections} slowloris connections, ${readers} never-readers, ${rounds} rounds"
printf '%-44s %-34s %-18s %s\n' measurement value limit result
row "healthy p99 attacked/alone (median)" "${ratio_median} (rounds: ${ratios[*]})" "<= 2" "$(le "${ratio_median}" 2)"
row "slowloris closed by the server" "${slow_closed_min}/${connections} (fewest in a round)" "all" \
    "$([[ "${slow_closed_min}" == "${connections}" ]] && echo 1 || echo 0)"
slow_delay_shown="${slow_delay_max} s"
[[ "${slow_delay_max}" == inf ]] && slow_delay_shown="a round closed none"
row "slowloris close after first byte (max)" "${slow_delay_shown}" "<= $((${frame_timeout%.*} + 1)) s" \
    "$(le "${slow_delay_max}" "$((${frame_timeout%.*} + 1))")"
row "RSS per reader at the stall" "${per_reader_stalled} KiB" "<= 256 KiB" "$(le "${per_reader_stalled}" 256)"
row "RSS per reader at the peak" "${per_reader_peak} KiB" "<= 256 KiB" "$(le "${per_reader_peak}" 256)"
row "readers closed by the server" "${readers_closed:-0}/${readers}" "all" \
    "$([[ "${readers_closed:-0}" == "${readers}" ]] && echo 1 || echo 0)"
if [[ -n "${send_timeout}" ]]; then
    row "readers closed after their stall (max)" "${reader_delay_max:--} s" "<= $((${send_timeout%.*} + 1)) s" \
        "$(le "${reader_delay_max}" "$((${send_timeout%.*} + 1))")"
    row "readers closed by the send timeout" "send_timeouts ${sends_shown}" "+${readers}" \
        "$([[ "${sends_delta}" == "${readers}" ]] && echo 1 || echo 0)"
else
    row "readers closed after their stall (max)" "${reader_delay_max:--} s" "send timeout + 1 s" 0
    row "readers closed by the send timeout" "no --send-timeout in this server" "+${readers}" 0
fi
row "RSS 10 s after the readers left" "${after_mib} MiB over before them" "<= 4 MiB" \
    "$(le "${after_mib}" 4)"
exit "${failed}"
