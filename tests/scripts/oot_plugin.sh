#!/usr/bin/env bash
# The README's plugin example, out of tree, as a user runs it: install this
# build into a temporary folder and move it (the package files must answer
# from where they lie), take shout.c and the CMake and pkg-config blocks
# from README.md, run them as written with /opt/fastport meaning that
# folder (no install prefix, no destination of our own), check that each
# puts shout.so in the installed plugin folder, and that the installed
# server, started by the README's own line with no --plugin-dir, answers
# 0x0100 in upper case while echo answers the rest.
#   oot_plugin.sh BUILD_DIR README ECHO_PROBE CMAKE CC
set -euo pipefail

if [ $# -ne 5 ]; then
    echo "usage: $0 BUILD_DIR README ECHO_PROBE CMAKE CC" >&2
    exit 2
fi
build=$1 readme=$2 echo_probe=$3 cmake=$4 cc=$5

work=$(mktemp -d)
prefix="$work/fastport"
plugin_dir="$prefix/lib/fastport/plugins"
server_pid=
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.log; do
        [ -s "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}

alive() {
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
    [ "${state%% *}" != Z ]
}

# readme_block TEXT: the README's fenced block that has a line holding TEXT.
readme_block() {
    awk -v text="$1" '
        /^```/ { if (inside && found) exit; inside = !inside; body = ""; next }
        inside { body = body $0 "\n"; if (index($0, text)) found = 1 }
        END { if (found) printf "%s", body }' "$readme"
}

# The README's commands with /opt/fastport meaning the test's install.
as_here() { sed "s|/opt/fastport|$prefix|g"; }

# 1. Install, then move: nothing may remember the folder it was installed to.
"$cmake" --install "$build" --prefix "$work/staged" >"$work/install.log" 2>&1 ||
    fail "cmake --install $build --prefix $work/staged failed"
mv "$work/staged" "$prefix"
for f in bin/fastport-server lib/fastport/plugins/echo.so include/fastport/plugin.h \
    lib/cmake/FastPort/FastPortConfig.cmake lib/pkgconfig/fastport-sdk.pc; do
    [ -e "$prefix/$f" ] || fail "the install has no $f"
done
plugin_dir_real=$(realpath "$plugin_dir")

# 2. The example, from the README.
src="$work/shout"
mkdir -p "$src"
readme_block '/* shout.c */' >"$src/shout.c"
readme_block 'project(shout C)' >"$src/CMakeLists.txt"
cmake_steps=$(readme_block 'cmake --install build' | as_here)
pc_steps=$(readme_block 'pkg-config --variable=plugindir' | as_here)
for part in "$src/shout.c" "$src/CMakeLists.txt"; do
    [ -s "$part" ] || fail "README.md has no block for $(basename "$part")"
done
if [ -z "$cmake_steps" ] || [ -z "$pc_steps" ]; then
    fail "README.md lost its plugin build commands"
fi
if grep -qE 'CMAKE_INSTALL_PREFIX|--prefix|--plugin-dir|DESTDIR' <<<"$cmake_steps$pc_steps"; then
    fail "the README's plugin commands must need no install folder of their own:
$cmake_steps
$pc_steps"
fi

# The README says cmake and cc: make them this build's.
mkdir -p "$work/tools"
ln -s "$cmake" "$work/tools/cmake"
ln -s "$cc" "$work/tools/cc"
export PATH="$work/tools:$PATH"

# run_steps LABEL STEPS: the lines that build and install, as written, in
# the example's folder; the server line is kept for start_server.
run_steps() {
    local label=$1 steps=$2
    server_line=$(grep 'bin/fastport-server ' <<<"$steps") ||
        fail "$label: the README starts no server after building"
    grep -v 'bin/fastport-server ' <<<"$steps" >"$work/$label.sh"
    (cd "$src" && bash -euo pipefail "$work/$label.sh") >"$work/$label.log" 2>&1 ||
        fail "$label: the README's commands failed"
}

# plugin_installed LABEL: shout.so is in the installed plugin folder.
plugin_installed() {
    [ -f "$plugin_dir/shout.so" ] || fail "$1: no shout.so in $plugin_dir, where the server looks"
}

# 3. The installed server, by the README's line (port 0: tests run side by
# side), loads echo and shout from its own plugin folder.
start_server() {
    local label=$1 line i addr=
    line=${server_line/--listen=127.0.0.1:6628/--listen=127.0.0.1:0}
    [[ "$line" == *"--plugin=echo,shout"* ]] || fail "$label: the README's server line loads no shout: $line"
    bash -c "exec $line" >"$work/server-$label.out" 2>"$work/server-$label.log" &
    server_pid=$!
    for ((i = 0; i < 200; i++)); do
        addr=$(grep -m1 '^listening on ' "$work/server-$label.out" 2>/dev/null || true)
        [ -n "$addr" ] && break
        alive "$server_pid" || break
        sleep 0.1
    done
    [ -n "$addr" ] || fail "$label: the installed server did not print 'listening on HOST:PORT' within 20 s"
    server_addr=${addr#listening on }
}

# hex: stdin as one line of hex digits.
hex() { od -An -tx1 | tr -d ' \n'; }

# shout_answers ADDR: 0x0100 "hello, shout" comes back as 0x0101 "HELLO, SHOUT".
shout_answers() {
    local reply
    exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || return 1
    printf '\x00\x10\x01\x00hello, shout' >&3
    reply=$(timeout 10 head -c 16 <&3 | hex)
    exec 3<&-
    [ "$reply" = "$(printf '\x00\x10\x01\x01HELLO, SHOUT' | hex)" ]
}

stop_server() {
    local label=$1 i status=0
    kill -TERM "$server_pid"
    for ((i = 0; i < 200; i++)); do
        alive "$server_pid" || break
        sleep 0.1
    done
    alive "$server_pid" && fail "$label: server still running 20 s after SIGTERM"
    wait "$server_pid" || status=$?
    server_pid=
    [ "$status" -eq 0 ] || fail "$label: server exited with status $status after SIGTERM"
}

check_served() {
    local label=$1
    start_server "$label"
    shout_answers "$server_addr" || fail "$label: 0x0100 was not answered in upper case on 0x0101"
    "$echo_probe" --connect="$server_addr" --frames=50 --max-payload=4096 --seed=11 \
        >"$work/probe-$label.log" 2>&1 || fail "$label: echo did not answer beside shout"
    stop_server "$label"
    echo "ok $label: shout.so installed in $plugin_dir answered 0x0100, echo the rest"
}

# 4. CMake: find_package(FastPort) gives the absolute plugin folder. Where
# the install would go is checked before installing anything.
mkdir -p "$work/probe-config"
cat >"$work/probe-config/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.21)
project(probe NONE)
find_package(FastPort REQUIRED)
message(STATUS "plugin dir: ${FASTPORT_PLUGIN_INSTALL_DIR}")
EOF
"$cmake" -S "$work/probe-config" -B "$work/probe-config/build" -DCMAKE_PREFIX_PATH="$prefix" \
    >"$work/probe-config.log" 2>&1 || fail "find_package(FastPort) failed"
said=$(sed -n 's/^-- plugin dir: //p' "$work/probe-config.log")
[[ "$said" == /* ]] || fail "FASTPORT_PLUGIN_INSTALL_DIR is '$said', not an absolute path"
[ "$(realpath "$said")" = "$plugin_dir_real" ] ||
    fail "FASTPORT_PLUGIN_INSTALL_DIR is '$said', not the installed plugin folder $plugin_dir"

run_steps cmake "$cmake_steps"
plugin_installed cmake
while read -r installed; do
    [ "$(realpath "$installed")" = "$plugin_dir_real/shout.so" ] ||
        fail "cmake --install put $installed outside $plugin_dir"
done <"$src/build/install_manifest.txt"
check_served cmake

# 5. pkg-config: plugindir is the same absolute folder; cp puts it there.
rm -f "$plugin_dir/shout.so"
said=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --variable=plugindir fastport-sdk)
[[ "$said" == /* ]] || fail "fastport-sdk.pc's plugindir is '$said', not an absolute path"
[ "$(realpath "$said")" = "$plugin_dir_real" ] ||
    fail "fastport-sdk.pc's plugindir is '$said', not the installed plugin folder $plugin_dir"
run_steps pkg-config "$pc_steps"
plugin_installed pkg-config
check_served pkg-config

# The SDK headers stay quiet under the warnings a plugin author may use.
# shellcheck disable=SC2046 # the cflags are a list of flags
"$cc" -std=c11 -Wall -Wextra -Werror $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags fastport-sdk) \
    -fsyntax-only "$src/shout.c" >"$work/warnings.log" 2>&1 ||
    fail "shout.c with the SDK headers does not compile under -Wall -Wextra -Werror"
echo "oot_plugin: passed"
