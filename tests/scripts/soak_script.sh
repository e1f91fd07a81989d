#!/usr/bin/env bash
# benchmarks/soak.sh kept from rotting: a 9-second soak on epoll at 50
# sessions must pass and leave a CSV whose samples show the load (50
# sessions open, a descriptor each) and the return to the baseline; a soak
# whose load client dies mid-run must fail and say so; a bad option is a
# usage error. Nothing here is about speed.
# Usage: soak_script.sh SOURCE_DIR BUILD_DIR
set -uo pipefail

source_dir="$1"
build="$2"
work="$(mktemp -d)"
soak_pid=""
current=""

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"
# soak.sh stops its own server and client when it gets SIGTERM.
trap '[[ -n "${soak_pid}" ]] && kill -TERM "${soak_pid}" 2>/dev/null && wait "${soak_pid}"; cleanup' EXIT

show_failure() {
    echo "FAIL: $1"
    show_files "${work}/${current}".*
}

soak() { # NAME OPTION...: runs soak.sh in the background, sets soak_pid
    current="$1"
    shift
    bash "${source_dir}/benchmarks/soak.sh" --transport=epoll --csv="${work}/${current}.csv" "$@" "${build}" \
        >"${work}/${current}.out" 2>"${work}/${current}.err" &
    soak_pid=$!
}

finish() { # waits for soak.sh (bounded), sets soak_status
    soak_status=timeout
    wait_exit "${soak_pid}" 60 && soak_status="${exit_status}"
    soak_pid=""
}

column() { # NAME PHASE FIELD: that field of every CSV row of PHASE
    awk -F, -v p="$2" -v f="$3" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        $2 == p { print $col[f] }' "${work}/$1.csv"
}

all_are() { # VALUE NAME PHASE FIELD: true when PHASE has rows and FIELD is VALUE in each
    local values
    values="$(column "$2" "$3" "$4")"
    [[ -n "${values}" ]] && ! grep -qvx -- "$1" <<<"${values}"
}

soak pass --minutes=0.15 --sessions=50 --warmup=2 --sample=1
finish
check "a short soak: exit 0" test "${soak_status}" = 0
check "a short soak: says PASS" grep -qx 'soak: PASS' "${work}/pass.out"
check "a short soak: prints the drift" grep -qE '^RSS drift: +[0-9.]+ % at most, -?[0-9.]+ % at the end' "${work}/pass.out"
check "a short soak: no load errors" grep -qE '^load: +replies=[1-9][0-9]* errors=0 ' "${work}/pass.out"
base_fds="$(column pass baseline fds)"
check "baseline: no session open" all_are 0 pass baseline sessions_open
check "baseline: an RSS read" grep -qE '^0,baseline,[1-9][0-9]*,[1-9][0-9]*,' "${work}/pass.csv"
check "under load: several samples after the warm-up" test "$(column pass load vmrss_kb | wc -l)" -ge 3
check "under load: the 50 sessions open in every sample" all_are 50 pass load sessions_open
check "under load: a descriptor per session" all_are $((base_fds + 50)) pass load fds
check "after: sessions back to the baseline" all_are 0 pass after sessions_open
check "after: descriptors back to the baseline" all_are "${base_fds}" pass after fds

soak killed_load --minutes=0.5 --sessions=20 --warmup=1 --sample=1
for ((i = 0; i < 200; i++)); do
    grep -q ',warmup,\|,load,' "${work}/killed_load.csv" 2>/dev/null && break
    sleep 0.05
done
client="$(pgrep -P "${soak_pid}" -x fp-echo-load || true)"
check "killed load: the client was found" test -n "${client}"
[[ -n "${client}" ]] && kill -KILL "${client}"
finish
check "killed load: exit 1" test "${soak_status}" = 1
check "killed load: the load line fails" grep -qE '^load: .*: FAIL$' "${work}/killed_load.out"
check "killed load: says FAIL" grep -qx 'soak: FAIL' "${work}/killed_load.out"

soak bad_option --minutes=soon
finish
check "bad option: exit 2" test "${soak_status}" = 2
check "bad option: says which" grep -q -- "--minutes takes a number" "${work}/bad_option.err"

echo "soak_script: ${passes} passed, ${failures} failed"
[[ "${failures}" == 0 ]]
