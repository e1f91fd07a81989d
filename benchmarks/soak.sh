#!/usr/bin/env bash
# Echo soak: does the server hold steady under a long load, and give back
# every descriptor and session when the clients leave?
#
#   benchmarks/soak.sh [--minutes=M] [--sessions=N] [--transport=T]
#                      [--warmup=SEC] [--sample=SEC] [--depth=N]
#                      [--payload=BYTES] [--workers=N] [--max-drift=PCT]
#                      [--csv=FILE] BUILD_DIR
#
# Starts fastport-server --plugin=echo on a free 127.0.0.1 port and drives
# it with fp-echo-load (closed loop, every reply checked) for M minutes
# (default 30) over N sessions (default 1000) with --depth frames in flight
# each (default 1: fp-echo-load has no pacing, and a low depth leaves the
# box usable; run the script under nice -n 10 on a shared machine). Every
# SEC seconds (default 10) it writes the server's VmRSS, RssAnon, open
# descriptors and sessions_open (from its stats line) to a CSV (default
# under BUILD_DIR/soak/). At the end it prints the RSS after the warm-up
# (default 60 s) and at the end, the drift (the largest post-warm-up sample
# and the last one under load, against the first post-warm-up sample), the
# descriptors and sessions before the load and after the clients left, and
# fp-echo-load's replies and errors. Exit status 1 when the largest drift is over
# --max-drift (default 5 %), the descriptors or sessions do not come back to
# their baseline, the load reports an error or the server does not stop
# cleanly; 2 for a bad command line.
set -euo pipefail
export LC_ALL=C # a decimal point in EPOCHREALTIME and awk's numbers, whatever the locale
# The whole script is one block, read before it runs: editing or checking
# out another version of this file during a 30-minute run cannot change it.
{

minutes=30
sessions=1000
transport=""
warmup=60
sample=10
depth=1
payload=64
workers=""
max_drift=5
csv=""
build=""
for arg in "$@"; do
    case "${arg}" in
    --minutes=*) minutes="${arg#*=}" ;;
    --sessions=*) sessions="${arg#*=}" ;;
    --transport=*) transport="${arg#*=}" ;;
    --warmup=*) warmup="${arg#*=}" ;;
    --sample=*) sample="${arg#*=}" ;;
    --depth=*) depth="${arg#*=}" ;;
    --payload=*) payload="${arg#*=}" ;;
    --workers=*) workers="${arg#*=}" ;;
    --max-drift=*) max_drift="${arg#*=}" ;;
    --csv=*) csv="${arg#*=}" ;;
    --help)
        sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "soak.sh: unknown option '${arg}'" >&2
        exit 2
        ;;
    *) build="${arg}" ;;
    esac
done
usage() {
    echo "soak.sh: $1" >&2
    echo "usage: soak.sh [--minutes=M] [--sessions=N] [--transport=T] [--warmup=SEC] [--sample=SEC] [--depth=N] [--payload=BYTES] [--workers=N] [--max-drift=PCT] [--csv=FILE] BUILD_DIR" >&2
    exit 2
}
[[ -n "${build}" ]] || usage "no build directory"
number='^[0-9]+([.][0-9]+)?$'
for pair in "minutes=${minutes}" "warmup=${warmup}" "sample=${sample}" "max-drift=${max_drift}"; do
    [[ "${pair#*=}" =~ ${number} ]] || usage "--${pair%%=*} takes a number of the form 12 or 0.5, got '${pair#*=}'"
done
for pair in "sessions=${sessions}" "depth=${depth}" "payload=${payload}" "workers=${workers:-0}"; do
    [[ "${pair#*=}" =~ ^[0-9]+$ ]] || usage "--${pair%%=*} takes a whole number, got '${pair#*=}'"
done
total_s="$(awk -v m="${minutes}" 'BEGIN { printf "%.3f", m * 60 }')"
window_s="$(awk -v t="${total_s}" -v w="${warmup}" 'BEGIN { printf "%.3f", t - w }')"
# At least two samples after the warm-up, or there is no drift to measure.
awk -v t="${window_s}" -v s="${sample}" 'BEGIN { exit !(s > 0 && t >= 2 * s) }' ||
    usage "the run (--minutes) must last the warm-up plus two samples at least"

# shellcheck source=benchmarks/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
server_bin="${build}/bin/fastport-server"
load_bin="${build}/bin/fp-echo-load"
for bin in "${server_bin}" "${load_bin}"; do
    [[ -x "${bin}" ]] || { echo "soak.sh: ${bin} not found (a Linux build only); build first" >&2; exit 2; }
done
hard_nofile="$(raise_nofile)"
if ((hard_nofile < sessions + 64)); then
    echo "soak.sh: ${sessions} sessions need a descriptor limit over $((sessions + 64)); the hard limit is ${hard_nofile}" >&2
    exit 2
fi

work="$(mktemp -d)"
server_pid=""
client_pid=""
# fp-echo-load, started in the background by a script, ignores SIGINT.
end_client() {
    [[ -n "${client_pid}" ]] || return 0
    kill -KILL "${client_pid}" 2>/dev/null || true
    wait "${client_pid}" 2>/dev/null || true
}
trap 'end_client; stop_pid "${server_pid}"; rm -rf "${work}"' EXIT

# stop_server: SIGINT, a bounded wait for a clean stop; sets server_stop to
# its exit status, or "killed" when it had to be.
stop_server() {
    local i
    kill -INT "${server_pid}" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do
        kill -0 "${server_pid}" 2>/dev/null || break
        sleep 0.05
    done
    server_stop=0
    if kill -KILL "${server_pid}" 2>/dev/null; then
        server_stop=killed
        wait "${server_pid}" 2>/dev/null || true
    else
        wait "${server_pid}" 2>/dev/null || server_stop=$?
    fi
    server_pid=""
}

fd_count() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }

server_args=(--plugin=echo --listen=127.0.0.1:0 --stats-interval=1 --log-level=warn)
[[ -n "${transport}" ]] && server_args+=(--transport="${transport}")
[[ -n "${workers}" ]] && server_args+=(--workers="${workers}")
"${server_bin}" "${server_args[@]}" >"${work}/server.out" 2>"${work}/server.err" &
server_pid=$!
if ! wait_for "${work}/server.out" '^listening on ' 60; then
    echo "soak.sh: the server did not start:" >&2
    cat "${work}/server.err" >&2
    exit 1
fi
port="$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "${work}/server.out")"
used_transport="$(sed -n 's/^transport: //p' "${work}/server.out")"
if [[ -z "${csv}" ]]; then
    mkdir -p "${build}/soak"
    csv="${build}/soak/soak-${used_transport}-$(date +%Y%m%d-%H%M%S).csv"
fi
echo "elapsed_s,phase,vmrss_kb,rss_anon_kb,fds,sessions_open" >"${csv}"

# sample_server ELAPSED PHASE: one CSV row; sets rss, anon, fds, open.
sample_server() {
    rss="$(rss_kb "${server_pid}")"
    anon="$(private_kb "${server_pid}")"
    fds="$(fd_count "${server_pid}")"
    open="$(server_stat sessions_open "${work}/server.err")"
    echo "$1,$2,${rss},${anon},${fds},${open}" >>"${csv}"
}
server_alive() { kill -0 "${server_pid}" 2>/dev/null; }
now() { echo "${EPOCHREALTIME}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The baseline: a started server that has printed its first counters.
if ! wait_for "${work}/server.err" '^stats: ' 30; then
    echo "soak.sh: the server printed no stats line" >&2
    exit 1
fi
sleep 1
sample_server 0 baseline
fds_before="${fds}"
open_before="${open}"

"${load_bin}" --connect="127.0.0.1:${port}" --sessions="${sessions}" --depth="${depth}" \
    --payload="${payload}" --warmup="${warmup}" --duration="${window_s}" \
    >"${work}/client.out" 2>"${work}/client.err" &
client_pid=$!
started="$(now)"
next="${sample}"
while kill -0 "${client_pid}" 2>/dev/null; do
    if ! server_alive; then
        echo "soak.sh: the server died under load:" >&2
        tail -n 20 "${work}/server.err" >&2
        exit 1
    fi
    elapsed="$(since "${started}")"
    if awk -v e="${elapsed}" -v n="${next}" 'BEGIN { exit !(e >= n) }'; then
        # The client's own clock starts once it has connected, a little
        # later than this one: past total_s, it may be closing its sessions.
        phase="$(awk -v e="${elapsed}" -v w="${warmup}" -v t="${total_s}" \
            'BEGIN { print e < w ? "warmup" : e < t ? "load" : "closing" }')"
        sample_server "${elapsed}" "${phase}"
        next="$(awk -v n="${next}" -v s="${sample}" 'BEGIN { print n + s }')"
    fi
    sleep 0.2
done
client_status=0
wait "${client_pid}" || client_status=$?
client_pid=""

# The clients are gone: the server's sessions and descriptors must come back.
for ((i = 0; i < 300; i++)); do
    [[ "$(server_stat sessions_open "${work}/server.err")" == "${open_before}" &&
        "$(fd_count "${server_pid}")" == "${fds_before}" ]] && break
    server_alive || break
    sleep 0.1
done
server_alive || { echo "soak.sh: the server died after the load" >&2; exit 1; }
sample_server "$(since "${started}")" after
fds_after="${fds}"
open_after="${open}"
rss_after="${rss}"
stop_server

# VmRSS over the post-warm-up samples: first, last, largest, and the drifts in %
# ("-" when the load ended before the warm-up did).
first=- last=- largest=- drift_max=- drift_end=-
read -r first last largest drift_max drift_end < <(awk -F, '
    $2 == "load" && $3 > 0 { if (!n++) first = $3; last = $3; if ($3 > max) max = $3 }
    END { if (n) printf "%d %d %d %.2f %.2f\n", first, last, max, (max - first) * 100 / first, (last - first) * 100 / first }
' "${csv}") || true
read -r anon_first anon_last < <(awk -F, '$2 == "load" { if (!n++) f = $4; l = $4 } END { print f + 0, l + 0 }' "${csv}")
load_line="$(grep '^echo ' "${work}/client.out" || true)"
replies="$(sed -n 's/.*replies=\([0-9]*\).*/\1/p' <<<"${load_line}")"
errors="$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"${load_line}")"
rate="$(sed -n 's/.* \([0-9]*\) msgs\/s.*/\1/p' <<<"${load_line}")"
commit="$(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null || echo unknown)"

status=0
verdict() { # OK? TEXT: one line, and a failure when OK is not 1
    if [[ "$1" == 1 ]]; then echo "$2"; else echo "$2: FAIL"; status=1; fi
}
drift_ok="$(awk -v d="${drift_max}" -v m="${max_drift}" 'BEGIN { print (d != "-" && d <= m) ? 1 : 0 }')"
echo "soak:             ${used_transport}, ${sessions} sessions x ${depth} in flight x ${payload} B, ${minutes} min (warm-up ${warmup} s, a sample every ${sample} s), commit ${commit}"
echo "samples:          ${csv}"
echo "VmRSS:            ${first} kB after the warm-up, ${last} kB at the end, ${largest} kB at most; ${rss_after} kB after the clients left"
verdict "${drift_ok}" "RSS drift:        ${drift_max} % at most, ${drift_end} % at the end (limit ${max_drift} %)"
echo "RssAnon:          ${anon_first} kB after the warm-up, ${anon_last} kB at the end"
verdict "$([[ "${fds_after}" == "${fds_before}" ]] && echo 1)" \
    "descriptors:      ${fds_before} before the load, ${fds_after} after the clients left"
verdict "$([[ "${open_after}" == "${open_before}" ]] && echo 1)" \
    "sessions_open:    ${open_before} before the load, ${open_after} after the clients left"
verdict "$([[ "${client_status}" == 0 && "${errors}" == 0 ]] && echo 1)" \
    "load:             replies=${replies:-?} errors=${errors:-?} (${rate:-?} msgs/s after the warm-up, for context), fp-echo-load exit ${client_status}"
verdict "$([[ "${server_stop}" == 0 ]] && echo 1)" "server stop:      exit ${server_stop} on SIGINT"
if ((status != 0)); then
    echo "--- fp-echo-load stderr" >&2
    tail -n 20 "${work}/client.err" >&2
    echo "--- server stderr (last lines)" >&2
    grep -v '^stats: ' "${work}/server.err" | tail -n 20 >&2 || true
fi
echo "soak: $([[ "${status}" == 0 ]] && echo PASS || echo FAIL)"
exit "${status}"
}
