#!/usr/bin/env bash
# The engine, plugins and programs never ask which transport is loaded: no
# transport name appears in their code (the default order is a build
# setting, in transports/CMakeLists.txt).
set -euo pipefail
src=${1:?usage: no_transport_names.sh SOURCE_DIR}
names='epoll|uring|io_uring|iocp|rio|IOCP|RIO'
hits=$(grep -rnwE "$names" "$src/engine" "$src/plugins" "$src/apps" \
        --include='*.c' --include='*.h' || true)
# string literals and identifiers only: comments may explain history
code_hits=$(printf '%s\n' "$hits" | grep -vE ':[0-9]+:\s*(/\*|\*|//)' | grep -v '^$' || true)
if [ -n "$code_hits" ]; then
    echo "FAIL: transport names in engine/, plugins/ or apps/:"
    printf '%s\n' "$code_hits"
    exit 1
fi
echo "no transport names in engine/, plugins/, apps/: ok"
