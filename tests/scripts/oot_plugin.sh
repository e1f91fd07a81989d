#!/usr/bin/env bash
# A plugin built out of tree from an installed FastPort: install the build
# into a temporary prefix, build tests/oot_plugin (reverse.so) with
# find_package(FastPort) and again with plain cc + pkg-config, then run the
# installed fastport-server with each build and check a reversed reply.
#   oot_plugin.sh BUILD_DIR PLUGIN_SRC ECHO_PROBE CMAKE CC
set -euo pipefail

if [ $# -ne 5 ]; then
    echo "usage: $0 BUILD_DIR PLUGIN_SRC ECHO_PROBE CMAKE CC" >&2
    exit 2
fi
build=$1 plugin_src=$2 echo_probe=$3 cmake=$4 cc=$5

work=$(mktemp -d)
prefix="$work/prefix"
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

# 1. Install.
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" 2>&1 ||
    fail "cmake --install $build --prefix $prefix failed"
for f in bin/fastport-server lib/fastport/transports/epoll.so include/fastport/plugin.h \
    lib/cmake/FastPort/FastPortConfig.cmake lib/pkgconfig/fastport-sdk.pc; do
    [ -e "$prefix/$f" ] || fail "the install has no $f"
done

# 2. CMake: find_package(FastPort) + fastport::sdk.
"$cmake" -S "$plugin_src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="$cc" >"$work/configure.log" 2>&1 ||
    fail "configuring $plugin_src against $prefix failed"
"$cmake" --build "$work/cmake-build" -j2 >"$work/build.log" 2>&1 ||
    fail "building reverse.so with find_package(FastPort) failed"
mkdir -p "$work/plugins-cmake"
cp "$work/cmake-build/reverse.so" "$work/plugins-cmake/" ||
    fail "the CMake build produced no reverse.so"

# 3. pkg-config: the .pc file alone must find the headers.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cflags=$(pkg-config --cflags fastport-sdk) || fail "pkg-config does not know fastport-sdk"
includedir=$(pkg-config --variable=includedir fastport-sdk)
[ -e "$includedir/fastport/plugin.h" ] ||
    fail "fastport-sdk.pc points at includedir=$includedir, which has no fastport/plugin.h (installed under $prefix/include)"
mkdir -p "$work/plugins-pc"
# shellcheck disable=SC2086 # cflags is a list of flags
"$cc" -std=c11 -Wall -Wextra -Werror $cflags -shared -fPIC -fvisibility=hidden \
    -o "$work/plugins-pc/reverse.so" "$plugin_src/reverse.c" >"$work/cc.log" 2>&1 ||
    fail "cc \$(pkg-config --cflags fastport-sdk) -shared -fPIC reverse.c failed"

# 4. The installed server loads each build and answers reversed.
run_reverse() {
    local plugin_dir=$1 label=$2 out="$work/server-$2.out" err="$work/server-$2.log" i addr=
    "$prefix/bin/fastport-server" --transport=epoll --plugin=reverse --plugin-dir="$plugin_dir" \
        --listen=127.0.0.1:0 --workers=2 >"$out" 2>"$err" &
    server_pid=$!
    for ((i = 0; i < 200; i++)); do
        addr=$(grep -m1 '^listening on ' "$out" 2>/dev/null || true)
        [ -n "$addr" ] && break
        alive "$server_pid" || break
        sleep 0.1
    done
    [ -n "$addr" ] || fail "$label: the installed server did not print 'listening on HOST:PORT' within 20 s"
    addr=${addr#listening on }
    "$echo_probe" --connect="$addr" --frames=50 --max-payload=4096 --seed=11 --expect-reversed \
        >"$work/probe-$label.log" 2>&1 ||
        fail "$label: reverse.so did not answer with reversed payloads on $addr"
    kill -TERM "$server_pid"
    for ((i = 0; i < 200; i++)); do
        alive "$server_pid" || break
        sleep 0.1
    done
    if alive "$server_pid"; then
        fail "$label: server still running 20 s after SIGTERM"
    fi
    local status=0
    wait "$server_pid" || status=$?
    server_pid=
    [ "$status" -eq 0 ] || fail "$label: server exited with status $status after SIGTERM"
    echo "ok $label: reverse.so answered 50 frames reversed"
}
run_reverse "$work/plugins-cmake" cmake
run_reverse "$work/plugins-pc" pkg-config
echo "oot_plugin: passed"
