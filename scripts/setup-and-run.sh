#!/usr/bin/env bash
# From a fresh Debian machine to a running server:
#   installs the build dependencies that are missing (apt-get, with sudo
#   when not root), builds the release preset into build/, then runs
#   fastport-server --transport=epoll --plugin=fastport,echo --listen=127.0.0.1:6628
#   in the foreground: the fastport plugin answers fastport-client and
#   fastport-bench, echo sends every other frame back (fp-echo-load).
#   Ctrl-C stops it gracefully.
# Extra arguments are passed on to fastport-server.
# FP_SETUP_SERVE_ONLY=BUILD_DIR skips the install and the build and serves
# from BUILD_DIR (the README test starts the server this way).
set -euo pipefail

cd "$(dirname "$0")/.."

build_dir="${FP_SETUP_SERVE_ONLY:-}"
if [[ -z "${build_dir}" ]]; then
    ./scripts/need-packages.sh build
    cmake --preset release
    cmake --build --preset release --parallel "${FP_BUILD_JOBS:-$(nproc)}"
    build_dir=build
fi

exec "${build_dir}/bin/fastport-server" --transport=epoll --plugin=fastport,echo --listen=127.0.0.1:6628 "$@"
