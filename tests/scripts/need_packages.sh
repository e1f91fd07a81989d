#!/usr/bin/env bash
# scripts/need-packages.sh with stand-ins for id, dpkg-query, apt-get and
# sudo on a PATH of their own: as root it runs apt-get update then install
# with only the missing packages; as a user with sudo it goes through sudo;
# as a user without sudo it installs nothing, exits 1 and prints the
# commands to run as root; with everything installed it does nothing.
# Usage: need_packages.sh SOURCE_DIR
set -uo pipefail

source_dir="$1"
work="$(mktemp -d)"

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

show_failure() {
    echo "FAIL: $1"
    show_files "${work}"/*.out "${work}"/*.err "${work}/calls"
}

# bin/: the tools the script may use, real or stand-in; nothing else.
mkdir -p "${work}/bin"
for tool in bash env grep cat; do ln -s "$(command -v "${tool}")" "${work}/bin/${tool}"; done
cat >"${work}/bin/id" <<'STUB'
#!/bin/bash
echo "${FAKE_UID}"
STUB
# Reports the packages listed in $FAKE_INSTALLED as installed.
cat >"${work}/bin/dpkg-query" <<'STUB'
#!/bin/bash
pkg="${!#}"
for p in ${FAKE_INSTALLED}; do
    [[ "$p" == "$pkg" ]] && { echo -n "install ok installed"; exit 0; }
done
exit 1
STUB
cat >"${work}/bin/apt-get" <<'STUB'
#!/bin/bash
echo "apt-get $*" >>"${FAKE_CALLS}"
STUB
chmod +x "${work}/bin/id" "${work}/bin/dpkg-query" "${work}/bin/apt-get"

all_build="build-essential cmake pkg-config check libsubunit-dev zlib1g-dev liburing-dev protobuf-c-compiler libprotobuf-c-dev"

run() { # NAME UID INSTALLED SET...: runs the script, keeps NAME.out/.err and calls
    local name="$1" uid="$2" installed="$3"
    shift 3
    rm -f "${work}/calls"
    FAKE_UID="${uid}" FAKE_INSTALLED="${installed}" FAKE_CALLS="${work}/calls" PATH="${work}/bin" \
        bash "${source_dir}/scripts/need-packages.sh" "$@" >"${work}/${name}.out" 2>"${work}/${name}.err"
}

run root 0 "build-essential pkg-config check libsubunit-dev zlib1g-dev liburing-dev libprotobuf-c-dev" build
check "root: exit 0" test $? -eq 0
check "root: apt-get update first" grep -qx "apt-get update" <(head -n 1 "${work}/calls")
check "root: installs only what is missing" \
    grep -qx "apt-get install -y --no-install-recommends cmake protobuf-c-compiler" "${work}/calls"
check "root: two apt-get calls" test "$(wc -l <"${work}/calls")" -eq 2

run none_missing 1000 "${all_build}" build
check "nothing missing: exit 0" test $? -eq 0
check "nothing missing: no apt-get" test ! -e "${work}/calls"
check "nothing missing: silent" test ! -s "${work}/none_missing.out" -a ! -s "${work}/none_missing.err"

run no_sudo 1000 "" build
check "no sudo: exit 1" test $? -eq 1
check "no sudo: no apt-get" test ! -e "${work}/calls"
check "no sudo: names the missing packages" grep -q "missing: ${all_build}" "${work}/no_sudo.err"
check "no sudo: says why" grep -q "not root and no sudo" "${work}/no_sudo.err"
check "no sudo: the command to run as root" \
    grep -qx "    apt-get install -y --no-install-recommends ${all_build}" "${work}/no_sudo.err"

cat >"${work}/bin/sudo" <<'STUB'
#!/bin/bash
echo "sudo" >>"${FAKE_CALLS}"
exec "$@"
STUB
chmod +x "${work}/bin/sudo"
run with_sudo 1000 "${all_build% *}" build
check "sudo: exit 0" test $? -eq 0
check "sudo: apt-get runs through sudo" test "$(grep -c '^sudo$' "${work}/calls")" -eq 2
check "sudo: installs the missing one" grep -qx "apt-get install -y --no-install-recommends libprotobuf-c-dev" "${work}/calls"

run fuzz_set 0 "${all_build} clang-14" build fuzz
check "fuzz set: exit 0" test $? -eq 0
check "fuzz set: installs clang's runtime" \
    grep -qx "apt-get install -y --no-install-recommends libclang-rt-14-dev" "${work}/calls"

run valgrind_set 0 "" valgrind
check "valgrind set: exit 0" test $? -eq 0
check "valgrind set: installs valgrind alone" \
    grep -qx "apt-get install -y --no-install-recommends valgrind" "${work}/calls"

run bad_set 0 "" nonsense
check "unknown set: exit 2" test $? -eq 2
check "unknown set: lists the sets" grep -q "sets: build, windows, fuzz, valgrind" "${work}/bad_set.err"

echo "need_packages: ${passes} passed, ${failures} failed"
[[ "${failures}" == 0 ]]
