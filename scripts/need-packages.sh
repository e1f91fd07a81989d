#!/usr/bin/env bash
# need-packages.sh SET...: installs with apt-get (apt-get update first; sudo
# when not root) the Debian packages of the named sets that are missing.
# Does nothing when all are installed; when some are missing and it is
# neither root nor has sudo, it prints the apt-get commands to run as root
# and exits 1. The sets:
#   build    the Linux build and its tests
#   windows  the mingw-w64 cross build and Wine to run it (wine64 with its
#            recommended packages, as a desktop install has it)
#   fuzz     clang and its libFuzzer and sanitizer runtimes (scripts/fuzz.sh)
#   valgrind memcheck, for scripts/valgrind-e2e.sh (opt-in, not in CI)
set -euo pipefail

build=(build-essential cmake pkg-config check libsubunit-dev zlib1g-dev liburing-dev
       protobuf-c-compiler libprotobuf-c-dev)
windows=(gcc-mingw-w64-x86-64-posix libz-mingw-w64-dev dpkg-dev)
windows_with_recommends=(wine64)
fuzz=(clang-14 libclang-rt-14-dev)
valgrind=(valgrind)

plain=() with_recommends=()
for set in "$@"; do
    case "${set}" in
    build) plain+=("${build[@]}") ;;
    windows) plain+=("${windows[@]}"); with_recommends+=("${windows_with_recommends[@]}") ;;
    fuzz) plain+=("${fuzz[@]}") ;;
    valgrind) plain+=("${valgrind[@]}") ;;
    *) echo "need-packages.sh: unknown set '${set}' (sets: build, windows, fuzz, valgrind)" >&2; exit 2 ;;
    esac
done

missing_of() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed" || echo "${pkg}"
    done
}
mapfile -t missing_plain < <(missing_of "${plain[@]}")
mapfile -t missing_recommends < <(missing_of "${with_recommends[@]}")
((${#missing_plain[@]} + ${#missing_recommends[@]} > 0)) || exit 0

as_root=()
if [[ "$(id -u)" != 0 ]]; then
    if ! command -v sudo >/dev/null; then
        {
            echo "need-packages.sh: these Debian packages are missing: ${missing_plain[*]} ${missing_recommends[*]}"
            echo "need-packages.sh: not root and no sudo here, so they cannot be installed from this script; as root, run:"
            echo "    apt-get update"
            if ((${#missing_plain[@]} > 0)); then
                echo "    apt-get install -y --no-install-recommends ${missing_plain[*]}"
            fi
            if ((${#missing_recommends[@]} > 0)); then
                echo "    apt-get install -y ${missing_recommends[*]}"
            fi
            echo "need-packages.sh: then run this command again."
        } >&2
        exit 1
    fi
    as_root=(sudo)
fi
echo "installing: ${missing_plain[*]} ${missing_recommends[*]}"
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
"${apt[@]}" update
if ((${#missing_plain[@]} > 0)); then
    "${apt[@]}" install -y --no-install-recommends "${missing_plain[@]}"
fi
if ((${#missing_recommends[@]} > 0)); then
    "${apt[@]}" install -y "${missing_recommends[@]}"
fi
