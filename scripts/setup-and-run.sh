#!/usr/bin/env bash
# From a fresh Debian machine to a running echo server:
#   installs the build dependencies that are missing (apt-get, with sudo
#   when not root), builds the release preset into build/, then runs
#   fastport-server --transport=epoll --plugin=echo --listen=127.0.0.1:6628
#   in the foreground. Ctrl-C stops it gracefully.
# Extra arguments are passed on to fastport-server.
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config check libsubunit-dev zlib1g-dev liburing-dev protobuf-c-compiler libprotobuf-c-dev)

missing=()
for pkg in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("${pkg}")
    fi
done

if ((${#missing[@]} > 0)); then
    echo "installing: ${missing[*]}"
    sudo_cmd=()
    if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

cmake --preset release
cmake --build --preset release --parallel "${FP_BUILD_JOBS:-$(nproc)}"

exec ./build/bin/fastport-server --transport=epoll --plugin=echo --listen=127.0.0.1:6628 "$@"
