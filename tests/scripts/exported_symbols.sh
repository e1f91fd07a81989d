#!/usr/bin/env bash
# Every FastPort library exports only fp_-prefixed symbols: libfastport its
# API, each transport and plugin its single entry symbol.
set -euo pipefail
build=${1:?usage: exported_symbols.sh BUILD_DIR}
fail=0

exported() { nm -D --defined-only "$1" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sort; }

check_only() {
    local lib=$1 allowed=$2 sym
    [ -f "$lib" ] || { echo "missing $lib"; fail=1; return; }
    while read -r sym; do
        [ -z "$sym" ] && continue
        if ! [[ $sym =~ $allowed ]]; then
            echo "FAIL: $lib exports '$sym' (allowed: $allowed)"
            fail=1
        fi
    done < <(exported "$lib")
}

check_only "$build/lib/libfastport.so" '^fp_[a-z0-9_]+$'
for t in "$build"/lib/fastport/transports/*.so; do check_only "$t" '^fp_transport_entry$'; done
for p in "$build"/lib/fastport/plugins/*.so; do check_only "$p" '^fp_plugin_entry$'; done

# and the entry symbols are really there
for t in "$build"/lib/fastport/transports/*.so; do
    exported "$t" | grep -qx fp_transport_entry || { echo "FAIL: $t lacks fp_transport_entry"; fail=1; }
done
for p in "$build"/lib/fastport/plugins/*.so; do
    exported "$p" | grep -qx fp_plugin_entry || { echo "FAIL: $p lacks fp_plugin_entry"; fail=1; }
done
[ $fail -eq 0 ] && echo "exported symbols: ok"
exit $fail
