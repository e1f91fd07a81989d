#!/usr/bin/env bash
# The whole test run, the same for a developer and for CI (.ci/run calls it):
#   1. release build in build/       + ctest
#   2. ASan+UBSan build in build-asan/ + ctest
#   3. ThreadSanitizer build in build-tsan/ + the suites that run threads
#   4. Windows: mingw-w64 cross build in build-mingw/ (its Check and
#      protobuf-c built from Debian's sources by scripts/mingw-deps.sh),
#      its suites run under Wine, then the e2e suite and the transport swap
#      of build/ drive its fastport-server.exe under Wine (ctest -L wine);
#      FP_SKIP_WINDOWS=1 leaves this stage out
# FP_TEST_JOBS=N runs N tests at once (default 1); FP_BUILD_JOBS=N compiles
# with N jobs (default: the number of cores).
set -euo pipefail

cd "$(dirname "$0")/.."

# What the stages below need, installed when missing (as setup-and-run.sh does).
if [[ "${FP_SKIP_WINDOWS:-0}" != 1 ]]; then
    ./scripts/need-packages.sh build windows
else
    ./scripts/need-packages.sh build
fi

# Servers under test hold one descriptor per session.
hard_nofile="$(ulimit -Hn)"
if [[ "${hard_nofile}" == unlimited ]]; then hard_nofile="$(cat /proc/sys/fs/nr_open)"; fi
ulimit -n "${hard_nofile}" || echo "warning: cannot raise ulimit -n to ${hard_nofile}" >&2

build_jobs="${FP_BUILD_JOBS:-$(nproc)}"
test_jobs="${FP_TEST_JOBS:-1}"

for preset in release asan; do
    echo "== ${preset}: configure"
    # The Wine-hosted suites run in stage 4, once build-mingw is fresh.
    cmake --preset "${preset}" -DFP_WINDOWS_BUILD_DIR=
    echo "== ${preset}: build"
    cmake --build --preset "${preset}" --parallel "${build_jobs}"
    echo "== ${preset}: test"
    ctest --preset "${preset}" --parallel "${test_jobs}"
done

# Threaded code (workers, mailboxes, wake-ups) also runs under TSan.
threaded='check_mailbox|check_worker_wake|check_engine_limits|check_lost_close|check_plugin_api|e2e_|transport_contract_|server_echo_run|outbound_|fastport_plugin_|bench_connect_|faults_(halfclose|storm)_[^_]+$|abuse_'
echo "== tsan: configure"
cmake --preset tsan
echo "== tsan: build"
cmake --build --preset tsan --parallel "${build_jobs}"
echo "== tsan: test (${threaded})"
ctest --preset tsan --parallel "${test_jobs}" -R "${threaded}"

if [[ "${FP_SKIP_WINDOWS:-0}" != 1 ]]; then
    echo "== mingw: dependencies"
    ./scripts/mingw-deps.sh
    echo "== mingw: configure"
    cmake --preset mingw -DFP_BUILD_TESTS=ON
    echo "== mingw: build"
    cmake --build --preset mingw --parallel "${build_jobs}"
    echo "== mingw: test (under Wine)"
    ctest --preset mingw --parallel "${test_jobs}"
    echo "== mingw: fastport-server.exe under Wine, driven by the Linux build's e2e suite"
    cmake --preset release -DFP_WINDOWS_BUILD_DIR="${PWD}/build-mingw"
    cmake --build --preset release --parallel "${build_jobs}"
    FP_WINE_TESTS_REQUIRED=1 ctest --preset release -L wine --no-tests=error
    cmake --preset release -DFP_WINDOWS_BUILD_DIR= >/dev/null
fi
