#!/usr/bin/env bash
# The e2e suite (tests/check_e2e.c) on epoll.so under valgrind's memcheck,
# twice: with the engine, epoll.so and the echo plugin inside the test
# process (valgrind follows Check's fork of each case), then against a
# fastport-server process started under valgrind for each case
# (FP_E2E_SERVER_LAUNCHER), which adds the server program itself.
#
#   scripts/valgrind-e2e.sh [--load-frames=N] [BUILD_DIR]
#
# Installs valgrind if it is missing (scripts/need-packages.sh valgrind),
# configures BUILD_DIR (default build-valgrind/: RelWithDebInfo, no
# sanitizers) when it has no CMakeCache.txt, and builds what the suite
# runs. The load case moves --load-frames frames per session (default 200)
# instead of 1000, whose 16 GB of payload memcheck cannot move within the
# case's own 480-s bound. The whole run takes ~6 minutes on 2 cores.
# Each process's report goes to BUILD_DIR/valgrind/. Exit status 1 on any
# memcheck error, a definite leak, a report cut short (a process killed
# before valgrind could finish it) or a failed case; 2 for a bad command
# line. Suppressions (scripts/valgrind.supp, when present) cover code
# outside the project only.
set -euo pipefail

src="$(cd "$(dirname "$0")/.." && pwd)"
load_frames=200
build=""
for arg in "$@"; do
    case "${arg}" in
    --load-frames=*) load_frames="${arg#*=}" ;;
    --help)
        sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    -*)
        echo "valgrind-e2e.sh: unknown option '${arg}'" >&2
        exit 2
        ;;
    *) build="${arg}" ;;
    esac
done
[[ "${load_frames}" =~ ^[1-9][0-9]*$ ]] ||
    { echo "valgrind-e2e.sh: --load-frames takes a positive whole number, got '${load_frames}'" >&2; exit 2; }
build="${build:-${src}/build-valgrind}"

command -v valgrind >/dev/null || "${src}/scripts/need-packages.sh" valgrind
if [[ ! -f "${build}/CMakeCache.txt" ]]; then
    cmake -S "${src}" -B "${build}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFP_SANITIZE=
fi
if grep -q '^FP_SANITIZE:STRING=.' "${build}/CMakeCache.txt"; then
    echo "valgrind-e2e.sh: ${build} is a sanitizer build; valgrind needs one without (FP_SANITIZE empty)" >&2
    exit 2
fi
cmake --build "${build}" -j2 --target check_e2e fastport-server
build="$(cd "${build}" && pwd)"

logs="${build}/valgrind"
rm -rf "${logs}"
mkdir -p "${logs}"
memcheck=(valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99
          --num-callers=30)
[[ -f "${src}/scripts/valgrind.supp" ]] && memcheck+=(--suppressions="${src}/scripts/valgrind.supp")

# 1000 sessions hold 2000 descriptors, and valgrind keeps some for itself.
ulimit -n "$(ulimit -Hn)"
export FP_TEST_TRANSPORT_DIR="${build}/lib/fastport/transports"
export FP_TEST_PLUGIN_DIR="${build}/lib/fastport/plugins"
export FP_TEST_BIN_DIR="${build}/bin"
export FP_E2E_LOAD_FRAMES="${load_frames}"
# Check's case timeouts, scaled for memcheck's slowdown.
export CK_TIMEOUT_MULTIPLIER=4

status=0
# report PASS SUITE_STATUS: sums the reports of one pass, PASS.*.log.
report() {
    local pass="$1" suite="$2" f n=0 errors=0 lost=0 cut=()
    for f in "${logs}/${pass}".*.log; do
        [[ -e "$f" ]] || continue
        n=$((n + 1))
        if ! grep -q 'ERROR SUMMARY:' "$f"; then
            cut+=("$(basename "$f")")
            continue
        fi
        errors=$((errors + $(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tr -d ,)))
        lost=$((lost + $(awk '/definitely lost:/ { gsub(",", "", $4); s += $4 } END { print s + 0 }' "$f")))
    done
    echo "${pass}: suite exit ${suite}; ${n} processes checked, ${errors} memcheck errors, ${lost} bytes definitely lost${cut:+, reports cut short: ${cut[*]}}"
    if ((suite != 0 || n == 0 || errors != 0 || lost != 0 || ${#cut[@]} != 0)); then
        status=1
        grep -l 'ERROR SUMMARY: [1-9]' "${logs}/${pass}".*.log 2>/dev/null | sed 's/^/  errors in: /' || true
    fi
}

echo "in-process: engine, epoll.so and echo inside check_e2e, under memcheck"
suite=0
"${memcheck[@]}" --log-file="${logs}/in-process.%p.log" "${build}/tests/check_e2e" epoll ||
    suite=$?
in_process_suite="${suite}"

echo "server-process: fastport-server under memcheck for each case"
suite=0
FP_E2E_SERVER="${build}/bin/fastport-server" \
    FP_E2E_SERVER_LAUNCHER="${memcheck[*]} --log-file=${logs}/server-process.%p.log" \
    "${build}/tests/check_e2e" epoll || suite=$?

echo "--- memcheck (--leak-check=full --errors-for-leak-kinds=definite), reports in ${logs}"
report in-process "${in_process_suite}"
report server-process "${suite}"
echo "valgrind-e2e: $([[ "${status}" == 0 ]] && echo PASS || echo FAIL)"
exit "${status}"
