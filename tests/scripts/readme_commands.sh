#!/usr/bin/env bash
# The README's examples, as a newcomer runs them: the server is started by
# scripts/setup-and-run.sh (FP_SETUP_SERVE_ONLY: no install, no build, the
# same server command line), then every command of the README's ```sh try
# blocks runs in order, as written, from a directory where build/ is the
# build under test, and must exit 0; every command of a ```sh try-server
# block is a server of its own that must come up, listen and stop cleanly
# on SIGTERM. Reading stdin (the interactive client), commands get two lines.
# Usage: readme_commands.sh SOURCE_DIR BUILD_DIR PROBE
# Exit 77 when port 6628 is taken (the README's commands need it) or the
# machine cannot run a transport the README's examples name.
set -uo pipefail

source_dir="$1"
build_dir="$2"
probe="$3"
work="$(mktemp -d)"
server_pid=""
client_pid=""

source "$(dirname "${BASH_SOURCE[0]}")/check_lib.sh"

show_failure() {
    echo "FAIL: $1"
    show_files "${work}"/*.out "${work}"/*.err
}

commands=() kinds=()
mode="" pending=""
while IFS= read -r line; do
    if [[ -z "${mode}" ]]; then
        if [[ "${line}" =~ ^\`\`\`sh\ (try|try-server)$ ]]; then
            mode="${BASH_REMATCH[1]}"
        elif [[ "${line}" == '```'* ]]; then
            mode=other
        fi
        continue
    fi
    if [[ "${line}" == '```' ]]; then
        mode=""
        continue
    fi
    [[ "${mode}" == other ]] && continue
    if [[ "${line}" == *\\ ]]; then
        pending+="${line%\\} "
        continue
    fi
    line="${pending}${line}"
    pending=""
    [[ "${line}" =~ ^[[:space:]]*(#.*)?$ ]] && continue
    commands+=("${line}")
    kinds+=("${mode}")
done <"${source_dir}/README.md"

n_try=0 n_server=0
for kind in "${kinds[@]}"; do
    if [[ "${kind}" == try ]]; then n_try=$((n_try + 1)); else n_server=$((n_server + 1)); fi
done
check "the README has try commands (${n_try})" test "${n_try}" -ge 6
check "the README has try-server commands (${n_server})" test "${n_server}" -ge 2

for transport in $(printf '%s\n' "${commands[@]}" | grep -o -- '--compare=[a-z,]*\|--transport=[a-z]*' |
    sed 's/.*=//' | tr , '\n' | sort -u); do
    if ! why="$("${probe}" "${build_dir}/lib/fastport/transports" "${transport}")"; then
        echo "skip: the README's examples use ${transport}, which this machine cannot run: ${why}"
        exit 77
    fi
done
if (exec 3<>/dev/tcp/127.0.0.1/6628) 2>/dev/null; then
    echo "skip: 127.0.0.1:6628 is taken (stop the server setup-and-run.sh started), the README's commands need it"
    exit 77
fi

# What a newcomer's checkout looks like, with build/ the build under test.
mkdir -p "${work}/tree"
ln -s "${build_dir}" "${work}/tree/build"
for dir in scripts benchmarks; do ln -s "${source_dir}/${dir}" "${work}/tree/${dir}"; done
printf 'hello\nsecond line\n' >"${work}/stdin.txt"

FP_SETUP_SERVE_ONLY="${build_dir}" "${source_dir}/scripts/setup-and-run.sh" \
    >"${work}/server.out" 2>"${work}/server.err" &
server_pid=$!
check "setup-and-run.sh: the server listens on 127.0.0.1:6628" \
    wait_for "${work}/server.out" '^listening on 127\.0\.0\.1:6628$' 30

for i in "${!commands[@]}"; do
    command="${commands[i]}"
    name="cmd$((i + 1))"
    echo "${kinds[i]}: ${command}"
    if [[ "${kinds[i]}" == try ]]; then
        (cd "${work}/tree" && timeout 600 bash -c "${command}") <"${work}/stdin.txt" \
            >"${work}/${name}.out" 2>"${work}/${name}.err"
        status=$?
        check "exit 0 (got ${status}): ${command}" test "${status}" -eq 0
    else
        (cd "${work}/tree" && exec bash -c "exec ${command}") </dev/null \
            >"${work}/${name}.out" 2>"${work}/${name}.err" &
        client_pid=$!
        check "listens: ${command}" wait_for "${work}/${name}.out" '^listening on ' 30
        kill -TERM "${client_pid}" 2>/dev/null
        exit_status=""
        check "stops on SIGTERM: ${command}" wait_exit "${client_pid}" 30
        check "exit 0 after SIGTERM (got ${exit_status}): ${command}" test "${exit_status}" == 0
        client_pid=""
    fi
done

check "the interactive client printed the echo of a line" grep -q '^reply #1: hello ' "${work}"/cmd*.out
check "the bench example wrote its CSV under build/" test -s "${build_dir}/bench.csv"
check "the bench example wrote its plot under build/" test -s "${build_dir}/bench.svg"
check "setup-and-run.sh's server served them all" kill -0 "${server_pid}"
kill -TERM "${server_pid}" 2>/dev/null
exit_status=""
check "setup-and-run.sh's server stops on SIGTERM" wait_exit "${server_pid}" 30
check "setup-and-run.sh's server exits 0" test "${exit_status}" == 0
server_pid=""
check "no handler or protocol error in the server's counters" \
    bash -c "! grep -E '(handler_errors|protocol_errors)=[1-9]' '${work}/server.err'"

echo "readme_commands: ${passes} passed, ${failures} failed"
[[ "${failures}" == 0 ]]
