#!/usr/bin/env bash
# The end-to-end suite against a Windows build's fastport-server.exe under
# Wine, driven from Linux over loopback:
#   e2e_wine.sh WINDOWS_BUILD_DIR TRANSPORT CHECK_E2E
# Skips (exit 77, with the reason) while the build lacks the .exe, its Wine
# runner or TRANSPORT.dll; otherwise runs CHECK_E2E TRANSPORT with
# FP_E2E_SERVER and FP_E2E_SERVER_LAUNCHER pointing at them. check_e2e
# starts and stops (SIGINT, by PID) every server itself. For rio the
# servers run on the build's test RIO provider (Wine has no RIO).
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 WINDOWS_BUILD_DIR TRANSPORT CHECK_E2E" >&2
    exit 2
fi
build=$1 transport=$2 check=$3
source "$(dirname "$0")/wine_lib.sh"
wine_build_ready e2e_wine "$build" "$transport"
[ "$transport" != rio ] || wine_rio_provider e2e_wine "$build"

export FP_E2E_SERVER=$server FP_E2E_SERVER_LAUNCHER=$launcher
exec "$check" "$transport"
