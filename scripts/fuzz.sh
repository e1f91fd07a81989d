#!/usr/bin/env bash
# fuzz.sh TARGET SECONDS [LIBFUZZER_OPTION...]: runs one fuzz target of
# tests/fuzz (docs/FUZZING.md) under libFuzzer with ASan+UBSan for SECONDS.
# fuzz.sh --list: the targets.
#
# Installs clang and its fuzzer runtime if missing (scripts/need-packages.sh
# build fuzz), configures and builds build-fuzz/ (CMake preset `fuzz`),
# copies tests/fuzz/corpus/TARGET to a scratch directory and fuzzes that
# copy with tests/fuzz/TARGET.dict: the seed corpus in the repository only
# changes when you merge the run's finds into it (the command is printed at
# the end). Prints executions per second; on a finding, exits non-zero and
# prints the reproducer's path. FP_BUILD_JOBS=N compiles with N jobs
# (default 2).
set -euo pipefail

cd "$(dirname "$0")/.."
root="${PWD}"
build="${root}/build-fuzz"

targets() {
    local f
    for f in tests/fuzz/fuzz_*.c; do
        f="${f#tests/fuzz/fuzz_}"
        f="${f%.c}"
        [[ "${f}" == session ]] || echo "${f}"
    done
}

usage() {
    echo "usage: scripts/fuzz.sh TARGET SECONDS [LIBFUZZER_OPTION...] | --list" >&2
    echo "targets: $(targets | tr '\n' ' ')" >&2
    exit 2
}

[[ "${1:-}" == --list ]] && { targets; exit 0; }
(($# >= 2)) || usage
target="$1" seconds="$2"
shift 2
targets | grep -qx -- "${target}" || { echo "fuzz.sh: no target '${target}'" >&2; usage; }
[[ "${seconds}" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: SECONDS must be a whole number above 0" >&2; usage; }

./scripts/need-packages.sh build fuzz
cmake --preset fuzz >/dev/null
cmake --build "${build}" --target "fuzz_${target}" --parallel "${FP_BUILD_JOBS:-2}"

mkdir -p "${build}/runs"
run="$(mktemp -d "${build}/runs/${target}.XXXXXX")"
cp -r "tests/fuzz/corpus/${target}" "${run}/corpus"
seeds="$(find "${run}/corpus" -type f | wc -l)"
echo "fuzz.sh: ${target} for ${seconds} s from ${seeds} seeds; scratch directory ${run}"

status=0
ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1" \
UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1" \
    "${build}/fuzz/fuzz_${target}" -max_total_time="${seconds}" -timeout=10 -print_final_stats=1 \
    -dict="tests/fuzz/${target}.dict" -artifact_prefix="${run}/" "$@" "${run}/corpus" \
    2>&1 | tee "${run}/libfuzzer.log" || status=$?

stat() { sed -n "s/^stat::$1: *//p" "${run}/libfuzzer.log" | tail -n 1; }
runs="$(stat number_of_executed_units)" rate="$(stat average_exec_per_sec)"
corpus_now="$(find "${run}/corpus" -type f | wc -l)"
mapfile -t findings < <(find "${run}" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' -o -name 'slow-unit-*' \) | sort)

echo
echo "fuzz.sh: ${target}: ${runs:-?} executions in ${seconds} s, ${rate:-?} exec/s, corpus ${seeds} -> ${corpus_now}"
if ((status != 0 || ${#findings[@]} > 0)); then
    echo "fuzz.sh: ${target}: FOUND A PROBLEM (libFuzzer exit ${status})"
    for f in "${findings[@]}"; do
        echo "  reproducer: ${f}"
        echo "  replay:     ${build}/fuzz/fuzz_${target} ${f}"
    done
    exit $((status != 0 ? status : 1))
fi
echo "fuzz.sh: ${target}: clean"
echo "fuzz.sh: to keep what this run found that adds coverage, merge it into the seeds:"
echo "  ${build}/fuzz/fuzz_${target} -merge=1 tests/fuzz/corpus/${target} ${run}/corpus"
