#!/usr/bin/env bash
# From a fresh Debian machine to a running echo server:
#   installs the build dependencies that are missing (apt-get, with sudo
#   when not root), builds the release preset into build/, then runs
#   fastport-server --transport=epoll --plugin=echo --listen=127.0.0.1:6628
#   in the foreground. Ctrl-C stops it gracefully.
# Extra arguments are passed on to fastport-server.
set -euo pipefail

cd "$(dirname "$0")/.."

./scripts/need-packages.sh build

cmake --preset release
cmake --build --preset release --parallel "${FP_BUILD_JOBS:-$(nproc)}"

exec ./build/bin/fastport-server --transport=epoll --plugin=echo --listen=127.0.0.1:6628 "$@"
